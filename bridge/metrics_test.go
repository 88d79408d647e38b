package bridge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge/storetest"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// mtRecorder is a Metrics that keeps what it is told.
type mtRecorder struct {
	mu       sync.Mutex
	inFlight map[string]int
	done     []string // "route method status"
	outcomes []string
}

func newMTRecorder() *mtRecorder { return &mtRecorder{inFlight: map[string]int{}} }

func (r *mtRecorder) RequestStarted(route string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight[route]++
}

func (r *mtRecorder) RequestDone(route, method string, status int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight[route]--
	r.done = append(r.done, route+" "+method+" "+http.StatusText(status))
}

func (r *mtRecorder) WebhookDone(outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, outcome)
}

func (r *mtRecorder) IDTokenCacheLookup(bool) {}

// mtBonbon answers EarnUser with a fixed user, or an error.
type mtBonbon struct {
	user bonbon.User
	err  error
}

func (b mtBonbon) EarnUser(context.Context, string) (bonbon.User, error) { return b.user, b.err }

const mtToken = "aaa.bbb.ccc"

func mtUser() bonbon.User {
	return bonbon.User{ID: "12345", Email: "Alyssa.P.Hacker@bonbon.tech", EmailVerified: true,
		FirstName: "Alyssa", LastName: "P. Hacker",
		Fields: map[string]string{"postal": "90403", "bonbons": "100", "gender": "Male"}}
}

func TestMetricsObserveWebhooks(t *testing.T) {
	cases := []struct {
		name        string
		store       func() *storetest.Fake
		bonbon      bridge.BonbonAPI
		auth        string
		wantOutcome []string
		wantDone    string
	}{
		{"created then unchanged", storetest.NewFake, mtBonbon{user: mtUser()},
			"Bearer " + mtToken, []string{"created", "unchanged"},
			"/webhooks/bonbon POST OK"},
		{"no bearer", storetest.NewFake, mtBonbon{user: mtUser()}, "",
			[]string{"missing_bearer", "missing_bearer"}, "/webhooks/bonbon POST Unauthorized"},
		{"keycloak down", func() *storetest.Fake {
			f := storetest.NewFake()
			f.Fail = keycloak.ErrUnavailable
			return f
		}, mtBonbon{user: mtUser()}, "Bearer " + mtToken,
			[]string{"keycloak_unavailable", "keycloak_unavailable"},
			"/webhooks/bonbon POST Service Unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newMTRecorder()
			s, err := bridge.New(bridge.Config{Users: c.store(), Bonbon: c.bonbon, Metrics: rec,
				Logger: mtLogger()})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				req := httptest.NewRequest(http.MethodPost, "/webhooks/bonbon", nil)
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				s.Handler().ServeHTTP(httptest.NewRecorder(), req)
			}
			if got := rec.outcomes; !mtEqual(got, c.wantOutcome) {
				t.Errorf("outcomes = %v, want %v", got, c.wantOutcome)
			}
			if len(rec.done) != 2 || rec.done[1] != c.wantDone {
				t.Errorf("requests = %v, want two ending %q", rec.done, c.wantDone)
			}
			if n := rec.inFlight["/webhooks/bonbon"]; n != 0 {
				t.Errorf("in flight after the answers = %d", n)
			}
		})
	}
}

func TestMetricsUnmatchedRoute(t *testing.T) {
	rec := newMTRecorder()
	s, err := bridge.New(bridge.Config{Users: storetest.NewFake(), Bonbon: mtBonbon{}, Metrics: rec,
		Logger: mtLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet,
		"/users/8515cf67", nil))
	if len(rec.done) != 1 || rec.done[0] != "unmatched GET Not Found" {
		t.Errorf("requests = %v, want the route label \"unmatched\"", rec.done)
	}
	if len(rec.outcomes) != 0 {
		t.Errorf("outcomes = %v for a request that is no webhook", rec.outcomes)
	}
}

func TestMetricsDefaultCountsNothing(t *testing.T) {
	s, err := bridge.New(bridge.Config{Users: storetest.NewFake(), Bonbon: mtBonbon{},
		Logger: mtLogger()})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("GET /healthz without Metrics = %d", rec.Code)
	}
}

func mtLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mtEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var _ bridge.Metrics = (*mtRecorder)(nil)
