package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge/storetest"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// fakeBonbon answers EarnUser from a table keyed by earn token.
type fakeBonbon struct {
	mu    sync.Mutex
	users map[string]bonbon.User
	err   error
	calls int
}

func (f *fakeBonbon) EarnUser(_ context.Context, token string) (bonbon.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return bonbon.User{}, f.err
	}
	u, ok := f.users[token]
	if !ok {
		return bonbon.User{}, &bonbon.APIError{Status: 401, Code: "invalid_token"}
	}
	return u, nil
}

const sampleToken = "aaa.bbb.ccc"

func sampleUser(t *testing.T) bonbon.User {
	t.Helper()
	data, err := os.ReadFile("../testdata/bonbon/users.json")
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		t.Fatal(err)
	}
	u, err := bonbon.DecodeUser(raws[0])
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type fixture struct {
	store  *storetest.Fake
	bonbon *fakeBonbon
	logs   *bytes.Buffer
	h      http.Handler
}

func newFixture(t *testing.T, users map[string]bonbon.User) *fixture {
	t.Helper()
	f := &fixture{store: storetest.NewFake(), bonbon: &fakeBonbon{users: users},
		logs: &bytes.Buffer{}}
	srv, err := bridge.New(bridge.Config{
		Users: f.store, Bonbon: f.bonbon,
		Logger:         slog.New(slog.NewJSONHandler(f.logs, nil)),
		WebhookTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = srv.Handler()
	return f
}

func (f *fixture) post(t *testing.T, auth, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/bonbon", strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer %d is not JSON: %q", rec.Code, rec.Body.String())
	}
	return rec, out
}

func TestWebhookStatuses(t *testing.T) {
	cases := []struct {
		name       string
		auth, body string
		bonbonErr  error
		storeErr   error
		wantStatus int
		wantCode   string // "error" field, or "status" on success
		wantBonbon bool   // whether Bonbon was asked
		retryAfter bool
	}{
		{name: "created", auth: "Bearer " + sampleToken, wantStatus: 200, wantCode: "created",
			wantBonbon: true},
		{name: "body ignored", auth: "Bearer " + sampleToken, body: `{"anything": [1,2]}`,
			wantStatus: 200, wantCode: "created", wantBonbon: true},
		{name: "no bearer", wantStatus: 401, wantCode: "missing_bearer"},
		{name: "lower-case scheme is fine", auth: "bearer " + sampleToken, wantStatus: 200,
			wantCode: "created", wantBonbon: true},
		{name: "one part", auth: "Bearer abc", wantStatus: 401, wantCode: "malformed_bearer"},
		{name: "empty part", auth: "Bearer a..c", wantStatus: 401, wantCode: "malformed_bearer"},
		{name: "padding is not base64url", auth: "Bearer a.b.c=", wantStatus: 401,
			wantCode: "malformed_bearer"},
		{name: "Bonbon says 401", auth: "Bearer x.y.z", wantStatus: 401,
			wantCode: "earn_token_rejected", wantBonbon: true},
		{name: "Bonbon says 403", auth: "Bearer " + sampleToken,
			bonbonErr: &bonbon.APIError{Status: 403}, wantStatus: 502,
			wantCode: "bonbon_credentials_rejected", wantBonbon: true},
		{name: "Bonbon says 404", auth: "Bearer " + sampleToken,
			bonbonErr: &bonbon.APIError{Status: 404}, wantStatus: 404,
			wantCode: "bonbon_user_not_found", wantBonbon: true},
		{name: "Bonbon says 429", auth: "Bearer " + sampleToken,
			bonbonErr: &bonbon.APIError{Status: 429, RetryAfter: 7 * time.Second}, wantStatus: 503,
			wantCode: "bonbon_rate_limited", wantBonbon: true, retryAfter: true},
		{name: "Bonbon down", auth: "Bearer " + sampleToken,
			bonbonErr: fmt.Errorf("get: %w", bonbon.ErrUnavailable), wantStatus: 502,
			wantCode: "bonbon_unavailable", wantBonbon: true},
		{name: "Bonbon garbage", auth: "Bearer " + sampleToken,
			bonbonErr: fmt.Errorf("decode: %w", bonbon.ErrBadPayload), wantStatus: 502,
			wantCode: "bonbon_bad_payload", wantBonbon: true},
		{name: "Keycloak down", auth: "Bearer " + sampleToken, storeErr: keycloak.ErrUnavailable,
			wantStatus: 503, wantCode: "keycloak_unavailable", wantBonbon: true, retryAfter: true},
		{name: "Keycloak refuses the bridge", auth: "Bearer " + sampleToken,
			storeErr: keycloak.ErrUnauthorized, wantStatus: 503, wantCode: "keycloak_unauthorized",
			wantBonbon: true, retryAfter: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, map[string]bonbon.User{sampleToken: sampleUser(t)})
			f.bonbon.err, f.store.Fail = c.bonbonErr, c.storeErr
			rec, body := f.post(t, c.auth, c.body)
			got := body["error"]
			if rec.Code < 300 {
				got = body["status"]
			}
			if rec.Code != c.wantStatus || got != c.wantCode {
				t.Errorf("answer = %d %v, want %d %s", rec.Code, body, c.wantStatus, c.wantCode)
			}
			if rec.Code >= 300 && body["message"] == "" {
				t.Errorf("error answer without a message: %v", body)
			}
			if asked := f.bonbon.calls > 0; asked != c.wantBonbon {
				t.Errorf("Bonbon asked = %v, want %v", asked, c.wantBonbon)
			}
			if has := rec.Header().Get("Retry-After") != ""; has != c.retryAfter {
				t.Errorf("Retry-After = %q, want present=%v", rec.Header().Get("Retry-After"), c.retryAfter)
			}
			if rec.Code >= 300 && len(f.store.Users()) != 0 {
				t.Errorf("a failed webhook left users behind: %v", f.store.Users())
			}
		})
	}
}

func TestWebhookUpsertCosts(t *testing.T) {
	f := newFixture(t, map[string]bonbon.User{sampleToken: sampleUser(t)})
	steps := []struct {
		status string
		calls  map[string]int
	}{
		{"created", map[string]int{"FindByLink": 1, "FindByEmail": 1, "Create": 1}},
		{"unchanged", map[string]int{"FindByLink": 1}},
	}
	for _, s := range steps {
		f.store.Calls = map[string]int{}
		if _, body := f.post(t, "Bearer "+sampleToken, ""); body["status"] != s.status {
			t.Fatalf("answer = %v, want %s", body, s.status)
		}
		for m, n := range s.calls {
			if f.store.Calls[m] != n {
				t.Errorf("%s: %s called %d times, want %d (all: %v)", s.status, m,
					f.store.Calls[m], n, f.store.Calls)
			}
		}
		if f.store.Calls["Update"] != 0 {
			t.Errorf("%s: Update called %d times, want 0", s.status, f.store.Calls["Update"])
		}
	}

	// A change at Bonbon costs a lookup and one update.
	changed := sampleUser(t)
	changed.Fields["preferences.newsletter"] = "false"
	f.bonbon.users[sampleToken] = changed
	f.store.Calls = map[string]int{}
	if _, body := f.post(t, "Bearer "+sampleToken, ""); body["status"] != "updated" {
		t.Fatalf("answer = %v, want updated", body)
	}
	if f.store.Calls["FindByLink"] != 1 || f.store.Calls["Update"] != 1 || len(f.store.Calls) != 2 {
		t.Errorf("updated cost %v, want one FindByLink and one Update", f.store.Calls)
	}
}

func TestWebhookConflictMarksOnly(t *testing.T) {
	f := newFixture(t, map[string]bonbon.User{sampleToken: sampleUser(t)})
	id, err := f.store.Seed(keycloak.User{Username: "alyssa", Email: "alyssa.p.hacker@bonbon.tech",
		FirstName: "Alyssa", LastName: "Old"})
	if err != nil {
		t.Fatal(err)
	}
	rec, body := f.post(t, "Bearer "+sampleToken, "")
	if rec.Code != http.StatusAccepted || body["status"] != "link_required" || body["user_id"] != id {
		t.Fatalf("answer = %d %v", rec.Code, body)
	}
	users := f.store.Users()
	if len(users) != 1 || users[0].LastName != "Old" ||
		len(users[0].Attributes) != 1 || users[0].Attributes[mapping.PendingLinkAttribute][0] != "12345" {
		t.Errorf("users after conflict = %+v", users)
	}
	if linked, _ := f.store.LinkedID(context.Background(), id); linked != "" {
		t.Errorf("conflicting account got linked to %q", linked)
	}
}

func TestWebhookConcurrentCreatesMakeOneUser(t *testing.T) {
	f := newFixture(t, map[string]bonbon.User{sampleToken: sampleUser(t)})
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			rec, _ := f.post(t, "Bearer "+sampleToken, "")
			codes <- rec.Code
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a concurrent webhook answered %d", c)
		}
	}
	if n := len(f.store.Users()); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

func TestLogsHoldNoTokenNorEmail(t *testing.T) {
	f := newFixture(t, map[string]bonbon.User{sampleToken: sampleUser(t)})
	f.post(t, "Bearer "+sampleToken, "")
	f.post(t, "Bearer x.y.z", "")
	logs := f.logs.String()
	for _, secret := range []string{sampleToken, "x.y.z", "alyssa.p.hacker@bonbon.tech"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "a***@bonbon.tech") {
		t.Errorf("logs lack the masked email:\n%s", logs)
	}
}

func TestRoutesAnswerJSON(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		method, path string
		body         string
		want         int
		code         string
	}{
		{http.MethodGet, "/nope", "", 404, "not_found"},
		{http.MethodGet, "/webhooks/bonbon", "", 405, "method_not_allowed"},
		{http.MethodPost, "/webhooks/bonbon", strings.Repeat("x", 70<<10), 413, "body_too_large"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+sampleToken)
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			var body bridge.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != c.want ||
				body.Error != c.code {
				t.Errorf("answer = %d %q, want %d %s", rec.Code, rec.Body.String(), c.want, c.code)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want int
	}{{"ready", nil, 200}, {"keycloak refuses", keycloak.ErrUnauthorized, 503}} {
		t.Run(c.name, func(t *testing.T) {
			srv, err := bridge.New(bridge.Config{Users: storetest.NewFake(), Bonbon: &fakeBonbon{},
				Logger: slog.New(slog.DiscardHandler),
				Ready:  func(context.Context) error { return c.err }})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != c.want {
				t.Errorf("readyz = %d, want %d", rec.Code, c.want)
			}
		})
	}
}
