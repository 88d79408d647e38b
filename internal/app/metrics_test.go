package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/metrics"
)

// TestMetricsEndpoint starts the app (no Keycloak needed: the webhook below is refused
// before any call) and reads /metrics as Prometheus would.
func TestMetricsEndpoint(t *testing.T) {
	cfg, err := FromEnv(envOf(map[string]string{
		"BRIDGE_ADDR": "127.0.0.1:0", "KEYCLOAK_URL": "http://127.0.0.1:1", "KEYCLOAK_REALM": "r",
		"KEYCLOAK_CLIENT_SECRET": "s", "BONBON_API_URL": "http://127.0.0.1:1/v1",
		"BONBON_CLIENT_ID": "c", "BONBON_API_KEY": "k",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	resp, err := http.Post(a.URL()+"/webhooks/bonbon", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	scrape := func(method string) (int, metrics.Scrape) {
		req, _ := http.NewRequest(method, a.URL()+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, nil
		}
		s, err := metrics.ParseText(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, s
	}

	cases := []struct {
		name     string
		method   string
		wantCode int
		series   string
		match    []string
		want     float64
	}{
		{"webhook outcome", http.MethodGet, 200, "bonbon_bridge_webhooks_total",
			[]string{"outcome", "missing_bearer"}, 1},
		{"route latency", http.MethodGet, 200, "bonbon_bridge_http_request_duration_seconds_count",
			[]string{"route", "/webhooks/bonbon"}, 1},
		{"scrapes are not requests", http.MethodGet, 200, "bonbon_bridge_http_requests_total",
			[]string{"route", "unmatched"}, 0},
		{"POST is left to the bridge", http.MethodPost, 404, "", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, s := scrape(c.method)
			if code != c.wantCode {
				t.Fatalf("%s /metrics = %d, want %d", c.method, code, c.wantCode)
			}
			if got := s.Sum(c.series, c.match...); got != c.want {
				t.Errorf("%s%v = %v, want %v", c.series, c.match, got, c.want)
			}
		})
	}
	if a.Metrics == nil {
		t.Error("App.Metrics is nil")
	}
}
