package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	cases := []struct {
		name string
		lat  []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"median of odd", ms(1, 2, 3), 0.5, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(seq(100)...), 0.99, 99 * time.Millisecond},
		{"p0 is the first", ms(5, 6), 0, 5 * time.Millisecond},
		{"p100 is the last", ms(5, 6), 1, 6 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := (Stats{Latencies: c.lat}).Quantile(c.q); got != c.want {
				t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestRunJobs(t *testing.T) {
	var running, peak atomic.Int32
	st := runJobs(context.Background(), 40, 4, func(_ context.Context, i int) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		running.Add(-1)
		if i%10 == 0 {
			return errors.New("odd one")
		}
		return nil
	})
	if st.N != 40 || st.Errors != 4 || len(st.Latencies) != 40 {
		t.Errorf("N=%d Errors=%d latencies=%d, want 40, 4, 40", st.N, st.Errors, len(st.Latencies))
	}
	if p := peak.Load(); p > 4 {
		t.Errorf("peak concurrency %d > 4", p)
	}
	if st.PerSecond() <= 0 {
		t.Error("PerSecond() <= 0")
	}
	m := Merge(st, st)
	if m.N != 80 || m.Errors != 8 || m.Elapsed != 2*st.Elapsed {
		t.Errorf("Merge = N %d Errors %d Elapsed %v", m.N, m.Errors, m.Elapsed)
	}
}
