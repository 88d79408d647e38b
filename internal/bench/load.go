package bench

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// Stats summarise one timed phase: how many jobs, how long it took, latencies.
type Stats struct {
	N       int
	Errors  int
	Elapsed time.Duration
	// Latencies are per job, sorted.
	Latencies []time.Duration
}

// PerSecond is jobs completed per second of wall time.
func (s Stats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.N) / s.Elapsed.Seconds()
}

// Quantile is the q-quantile (0..1) of the latencies, nearest rank; 0 when empty.
func (s Stats) Quantile(q float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(len(s.Latencies)))) - 1
	return s.Latencies[min(max(rank, 0), len(s.Latencies)-1)]
}

// Merge joins the stats of consecutive phases into one.
func Merge(parts ...Stats) Stats {
	var out Stats
	for _, p := range parts {
		out.N += p.N
		out.Errors += p.Errors
		out.Elapsed += p.Elapsed
		out.Latencies = append(out.Latencies, p.Latencies...)
	}
	slices.Sort(out.Latencies)
	return out
}

// runJobs runs job(i) for i in [0, n) on concurrency workers and times each call. A job
// returning an error still counts its latency. It stops early when ctx ends.
func runJobs(ctx context.Context, n, concurrency int, job func(ctx context.Context, i int) error,
) Stats {
	lat := make([]time.Duration, n)
	failed := make([]bool, n)
	next := make(chan int)
	var wg sync.WaitGroup
	began := time.Now()
	for range max(concurrency, 1) {
		wg.Go(func() {
			for i := range next {
				t := time.Now()
				failed[i] = job(ctx, i) != nil
				lat[i] = time.Since(t)
			}
		})
	}
	done := 0
feed:
	for i := range n {
		select {
		case next <- i:
			done++
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	st := Stats{N: done, Elapsed: time.Since(began), Latencies: lat[:done]}
	for _, f := range failed[:done] {
		if f {
			st.Errors++
		}
	}
	slices.Sort(st.Latencies)
	return st
}
