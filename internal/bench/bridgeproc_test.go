package bench

import (
	"strings"
	"testing"
)

func TestVMHWM(t *testing.T) {
	cases := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{"present", "Name:\tbonbon-bridge\nVmPeak:\t 1000 kB\nVmHWM:\t   24576 kB\nVmRSS:\t 2 kB\n",
			24576 << 10, false},
		{"missing", "Name:\tx\n", 0, true},
		{"odd unit", "VmHWM:\t 12 MB\n", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := vmHWM(strings.NewReader(c.status))
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("vmHWM() = %d, %v; want %d, error %v", got, err, c.want, c.wantErr)
			}
		})
	}
}
