package bench

import (
	"os"
	"strconv"
	"testing"
)

func TestStatCPU(t *testing.T) {
	cases := []struct {
		name    string
		stat    string
		want    float64
		wantErr bool
	}{
		{"plain", "42 (java) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 30 0", 3, false},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 1 0 0", 0.02, false},
		{"short", "7 (x) R 1", 0, true},
		{"no name", "garbage", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := statCPU(c.stat)
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("statCPU() = %v, %v; want %v, error %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

func TestCPUSecondsFindsThisProcess(t *testing.T) {
	// This test binary's command line holds its own path.
	if _, err := cpuSeconds(os.Args[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := cpuSeconds("no-such-marker-" + strconv.Itoa(os.Getpid()) + "-x"); err == nil {
		t.Error("cpuSeconds found a process for a marker nobody has")
	}
}
