package integration

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bonbonProxy stands between the bridge and the simulator and misbehaves on GET
// /v1/earn/user as its mode says; the 5xx and 429 cases use the simulator's own FailNext.
type bonbonProxy struct {
	sim  atomic.Value // http.Handler
	mode atomic.Value // string
	hits atomic.Int64 // earn/user requests that reached the proxy
}

// bonbonSlow is how long the "slow" and "hang" modes keep Bonbon's answer back.
const bonbonSlow = 3 * time.Second

func (p *bonbonProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sim := p.sim.Load().(http.Handler)
	if !strings.HasSuffix(r.URL.Path, "/earn/user") {
		sim.ServeHTTP(w, r)
		return
	}
	p.hits.Add(1)
	mode, _ := p.mode.Load().(string)
	switch mode {
	case "slow": // answers, but only after the bridge's per-attempt timeout
		select {
		case <-time.After(bonbonSlow):
		case <-r.Context().Done():
			return
		}
	case "reset": // the connection is reset before any answer
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conn.Close()
		}
		return
	case "garbage":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		return
	case "huge": // 2 MiB of a valid-looking object
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"12345","pad":"`))
		_, _ = w.Write(bytes.Repeat([]byte("p"), 2<<20))
		_, _ = w.Write([]byte(`"}`))
		return
	case "hang": // headers at once, then a body that never comes
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"id":`))
		w.(http.Flusher).Flush()
		select {
		case <-time.After(bonbonSlow):
		case <-r.Context().Done():
		}
		return
	}
	sim.ServeHTTP(w, r)
}

// TestFaultBonbonMisbehaves: Bonbon slow, failing, resetting connections or answering
// garbage. Every webhook gets a clear status within the webhook timeout, Bonbon gets at
// most three attempts per webhook (none again for garbage), the in-flight limit answers
// 503 with Retry-After when full, and goroutines return to where they were.
func TestFaultBonbonMisbehaves(t *testing.T) {
	r := newRealm(t)
	proxy := &bonbonProxy{}
	hs := httptest.NewServer(proxy)
	defer hs.Close()
	st := newStack(t, r, stackOptions{BonbonURL: hs.URL + "/v1", Env: map[string]string{
		"BONBON_TIMEOUT": "1s", "BRIDGE_WEBHOOK_TIMEOUT": "6s", "BRIDGE_MAX_IN_FLIGHT": "4",
	}})
	proxy.sim.Store(st.Sim.Handler())
	if a := st.deliver(t, "12345"); a.Status != http.StatusOK {
		t.Fatalf("healthy webhook = %d %v", a.Status, a.Body)
	}
	baseline := settledGoroutines(0)
	heapBefore := heapInUse()

	cases := []struct {
		name       string
		mode       string
		simFault   int // status FailNext injects at the simulator
		n          int // concurrent webhooks
		wantStatus int
		wantCode   string
		maxLatency time.Duration
		maxHits    int // Bonbon requests per webhook
	}{
		{"slow (3 s, attempt timeout 1 s)", "slow", 0, 4, 502, "bonbon_unavailable",
			5 * time.Second, 3},
		{"connection reset", "reset", 0, 4, 502, "bonbon_unavailable", 2 * time.Second, 3},
		{"5xx", "", 500, 4, 502, "bonbon_unavailable", 2 * time.Second, 3},
		{"429 with Retry-After 1", "", 429, 2, 503, "bonbon_rate_limited", 4 * time.Second, 3},
		{"garbage with 200", "garbage", 0, 4, 502, "bonbon_bad_payload", time.Second, 1},
		{"2 MiB answer", "huge", 0, 2, 502, "bonbon_bad_payload", 2 * time.Second, 1},
		{"body never completes", "hang", 0, 2, 502, "bonbon_unavailable", 5 * time.Second, 3},
	}
	total := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proxy.mode.Store(c.mode)
			if c.simFault != 0 {
				st.Sim.FailNext("/v1/earn/user", c.simFault, 1000)
				defer st.Sim.FailNext("/v1/earn/user", 0, 0)
			}
			hitsBefore, simBefore := proxy.hits.Load(), st.Sim.Hits("/v1/earn/user")
			answers := st.burst(t, c.n)
			total += c.n
			for _, a := range answers {
				if a.status != c.wantStatus || a.code != c.wantCode {
					t.Errorf("answer %d %s, want %d %s", a.status, a.code, c.wantStatus, c.wantCode)
				}
				if a.status == 503 && a.retryAfter == "" {
					t.Error("503 without Retry-After")
				}
				if a.took > c.maxLatency {
					t.Errorf("answer took %s, want at most %s", a.took, c.maxLatency)
				}
			}
			hits := int(proxy.hits.Load() - hitsBefore)
			if c.simFault != 0 {
				hits = st.Sim.Hits("/v1/earn/user") - simBefore
			}
			if hits > c.maxHits*c.n {
				t.Errorf("Bonbon got %d requests for %d webhooks, want at most %d each",
					hits, c.n, c.maxHits)
			}
			t.Logf("%d webhooks: Bonbon requests %d; goroutines now %d (baseline %d)",
				c.n, hits, runtime.NumGoroutine(), baseline)
		})
	}

	// Full: Bonbon slow, 16 webhooks at once, in-flight limit 4.
	t.Run("in-flight limit", func(t *testing.T) {
		proxy.mode.Store("slow")
		hitsBefore := proxy.hits.Load()
		var peak atomic.Int64
		stop := make(chan struct{})
		go sampleGoroutines(&peak, stop)
		answers := st.burst(t, 16)
		close(stop)
		total += 16
		counts := map[string]int{}
		for _, a := range answers {
			counts[a.code]++
			if a.code == "overloaded" && (a.status != 503 || a.retryAfter == "" ||
				a.took > time.Second) {
				t.Errorf("overloaded answer %d Retry-After %q after %s, want an immediate 503 "+
					"with Retry-After", a.status, a.retryAfter, a.took)
			}
		}
		hits := proxy.hits.Load() - hitsBefore
		t.Logf("answers %v; Bonbon requests %d; goroutine peak %d (baseline %d)",
			counts, hits, peak.Load(), baseline)
		if counts["overloaded"] < 16-4 || hits > 4*3 {
			t.Errorf("want at least 12 overloaded and at most 12 Bonbon requests")
		}
	})

	// And back to normal: the same bridge serves at once.
	proxy.mode.Store("")
	if a := st.deliver(t, "12345"); a.Status != http.StatusOK {
		t.Errorf("webhook after the faults = %d %v, want 200", a.Status, a.Body)
	}
	// Leak check once every case is over: the fake Bonbon's slow and hanging handlers and
	// the clients' idle connections need a while to wind down, so one check with a long
	// settle time, against a margin well below the number of webhooks sent: a goroutine
	// left per webhook would exceed it.
	g := settledGoroutines(baseline + leakMargin)
	t.Logf("goroutines after %d webhooks: %d (baseline %d)", total, g, baseline)
	if g > baseline+leakMargin {
		t.Errorf("goroutines %d did not return near the baseline %d after %d webhooks",
			g, baseline, total)
	}
	heapAfter := heapInUse()
	t.Logf("FIGURES bonbon faults: webhooks=%d heap_before=%d KiB heap_after=%d KiB",
		total, heapBefore>>10, heapAfter>>10)
	if heapAfter > heapBefore+64<<20 {
		t.Errorf("heap grew from %d to %d bytes over the faults", heapBefore, heapAfter)
	}
}

// timedAnswer is one webhook's answer and how long it took.
type timedAnswer struct {
	status           int
	code, retryAfter string
	took             time.Duration
}

// burst sends n webhooks for the sample user at once.
func (st *stack) burst(t *testing.T, n int) []timedAnswer {
	t.Helper()
	out := make([]timedAnswer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			began := time.Now()
			status, code, ra := st.post(ctx, st.BridgeURL, "12345")
			out[i] = timedAnswer{status, code, ra, time.Since(began)}
		})
	}
	wg.Wait()
	return out
}

// leakMargin is how many goroutines above the baseline the Bonbon fault test tolerates.
const leakMargin = 20

// settledGoroutines waits up to 20 s for the goroutine count to fall to limit and returns
// the count; limit 0 only lets in-flight work finish for a moment (a baseline).
func settledGoroutines(limit int) int {
	if limit == 0 {
		time.Sleep(200 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sampleGoroutines(peak *atomic.Int64, stop chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if n := int64(runtime.NumGoroutine()); n > peak.Load() {
				peak.Store(n)
			}
		}
	}
}

// heapInUse is the live heap after a collection, in bytes.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
