package bridge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge/storetest"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

func TestIDTokenCache(t *testing.T) {
	type step struct {
		advance   time.Duration
		mod       func(c jwt.MapClaims, now time.Time) // the access token presented
		wantCalls int                                  // Bonbon calls so far
	}
	expIn := func(d time.Duration) func(jwt.MapClaims, time.Time) {
		return func(c jwt.MapClaims, now time.Time) { c["exp"] = now.Add(d).Unix() }
	}
	tests := []struct {
		name  string
		ttl   time.Duration // Bonbon's expires_in
		steps []step
	}{
		{"second request is a hit", time.Hour, []step{{0, nil, 1}, {time.Minute, nil, 1}}},
		{"a changed email is a new token", time.Hour, []step{{0, nil, 1},
			{0, func(c jwt.MapClaims, _ time.Time) { c["email"] = "new@example.com" }, 2}}},
		{"renewed before Bonbon's expiry", 10 * time.Minute, []step{
			{0, expIn(time.Hour), 1}, {4 * time.Minute, expIn(time.Hour), 1},
			{2 * time.Minute, expIn(time.Hour), 2}}},
		{"dies with the access token that justified it", time.Hour, []step{
			{0, nil, 1}, {6 * time.Minute, expIn(5 * time.Minute), 2}}},
		{"a newer access token keeps it alive", time.Hour, []step{
			{0, nil, 1}, {4 * time.Minute, expIn(9 * time.Minute), 1},
			{4 * time.Minute, expIn(9 * time.Minute), 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newIDTEnv(t, nil)
			e.bonbon.ttl = tt.ttl
			for i, s := range tt.steps {
				e.idtClock.advance(s.advance)
				tok := e.token(t, func(c jwt.MapClaims) {
					if s.mod != nil {
						s.mod(c, e.idtClock.Now())
					}
				})
				if r := e.get(t, "Bearer "+tok, ""); r.status != http.StatusOK {
					t.Fatalf("step %d: %d %v", i, r.status, r.body)
				}
				if n := e.bonbon.count(); n != s.wantCalls {
					t.Fatalf("step %d: %d Bonbon calls, want %d", i, n, s.wantCalls)
				}
			}
		})
	}
}

func TestIDTokenConcurrentMissesShareOneCall(t *testing.T) {
	e := newIDTEnv(t, nil)
	e.bonbon.gate = make(chan struct{})
	tok := e.token(t, nil)
	const n = 20
	var wg sync.WaitGroup
	got := make([]idtReply, n)
	for i := range n {
		wg.Go(func() { got[i] = e.get(t, "Bearer "+tok, "") })
	}
	// Let the requests pile up on the first Bonbon call, then release it.
	deadline := time.Now().Add(5 * time.Second)
	for e.bonbon.count() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(e.bonbon.gate)
	wg.Wait()
	for i, r := range got {
		if r.status != http.StatusOK || r.body["token"] != "bonbon.id.token-1" {
			t.Errorf("request %d: %d %v", i, r.status, r.body)
		}
	}
	if c := e.bonbon.count(); c != 1 {
		t.Errorf("%d Bonbon calls for %d concurrent requests of one user, want 1", c, n)
	}
}

func TestIDTokenCacheIsBounded(t *testing.T) {
	e := newIDTEnv(t, func(c *bridge.IDTokenConfig) { c.CacheSize = 2 })
	var users []string
	for _, name := range []string{"u1", "u2", "u3"} {
		id, err := e.store.Seed(keycloak.User{Username: name, Email: name + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, id)
	}
	ask := func(sub string) {
		tok := e.token(t, func(c jwt.MapClaims) { c["sub"], c["email"] = sub, sub+"@x.test" })
		if r := e.get(t, "Bearer "+tok, ""); r.status != http.StatusOK {
			t.Fatalf("%d %v", r.status, r.body)
		}
	}
	for _, u := range users {
		ask(u)
	}
	// u1 was evicted to make room for u3: asking again mints again; u3 is still cached.
	ask(users[2])
	if n := e.bonbon.count(); n != 3 {
		t.Fatalf("%d calls, want 3 (u3 cached)", n)
	}
	ask(users[0])
	if n := e.bonbon.count(); n != 4 {
		t.Errorf("%d calls, want 4 (u1 evicted)", n)
	}
}

func TestIDTokenErrors(t *testing.T) {
	tests := []struct {
		name       string
		bonbonErr  error
		storeErr   error
		wantStatus int
		wantCode   string
		wantRetry  string
	}{
		{"Bonbon refuses the bridge's credentials", &bonbon.APIError{Status: 403}, nil,
			502, "bonbon_rejected_request", ""},
		{"Bonbon refuses the body", &bonbon.APIError{Status: 400}, nil,
			502, "bonbon_rejected_request", ""},
		{"Bonbon says 401", &bonbon.APIError{Status: 401}, nil,
			502, "bonbon_rejected_request", ""},
		{"Bonbon rate-limits", &bonbon.APIError{Status: 429, RetryAfter: 7 * time.Second}, nil,
			503, "bonbon_rate_limited", "7"},
		{"Bonbon fails", &bonbon.APIError{Status: 500}, nil, 502, "bonbon_unavailable", ""},
		{"Bonbon unreachable", bonbon.ErrUnavailable, nil, 502, "bonbon_unavailable", ""},
		{"Bonbon's answer broken", bonbon.ErrBadPayload, nil, 502, "bonbon_bad_payload", ""},
		{"Keycloak down", nil, keycloak.ErrUnavailable, 503, "keycloak_unavailable", "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newIDTEnv(t, nil)
			e.bonbon.err, e.store.Fail = tt.bonbonErr, tt.storeErr
			r := e.get(t, "Bearer "+e.token(t, nil), "")
			if r.status != tt.wantStatus || r.body["error"] != tt.wantCode {
				t.Errorf("got %d %v, want %d %s", r.status, r.body, tt.wantStatus, tt.wantCode)
			}
			if got := r.header.Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetry)
			}
			// Failures are not cached: the next request succeeds once Bonbon does.
			e.bonbon.err, e.store.Fail = nil, nil
			if r := e.get(t, "Bearer "+e.token(t, nil), ""); r.status != http.StatusOK {
				t.Errorf("after recovery: %d %v", r.status, r.body)
			}
		})
	}
}

func TestIDTokenCORS(t *testing.T) {
	const allowed, foreign = "https://www.example.com", "https://evil.example.net"
	tests := []struct {
		name       string
		method     string
		origin     string
		wantStatus int
		wantACAO   string
		wantCalls  int
	}{
		{"allowed origin", http.MethodGet, allowed, 200, allowed, 1},
		{"no origin (server to server)", http.MethodGet, "", 200, "", 1},
		{"foreign origin", http.MethodGet, foreign, 403, "", 0},
		{"null origin", http.MethodGet, "null", 403, "", 0},
		{"preflight, allowed", http.MethodOptions, allowed, 204, allowed, 0},
		{"preflight, foreign", http.MethodOptions, foreign, 403, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newIDTEnv(t, nil)
			auth := ""
			if tt.method == http.MethodGet {
				auth = "Bearer " + e.token(t, nil)
			}
			r := e.do(t, tt.method, auth, tt.origin)
			if r.status != tt.wantStatus {
				t.Errorf("status %d %v, want %d", r.status, r.body, tt.wantStatus)
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != tt.wantACAO {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantACAO)
			}
			if !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary = %q, want Origin", r.header.Values("Vary"))
			}
			if tt.wantStatus == 403 && r.body["error"] != "origin_not_allowed" {
				t.Errorf("error = %v", r.body["error"])
			}
			if tt.method == http.MethodOptions && tt.wantStatus == 204 {
				if h := r.header.Get("Access-Control-Allow-Headers"); h != "Authorization" {
					t.Errorf("Access-Control-Allow-Headers = %q", h)
				}
				if r.header.Get("Access-Control-Allow-Credentials") != "" {
					t.Error("credentials allowed: the endpoint reads no cookie")
				}
			}
			if n := e.bonbon.count(); n != tt.wantCalls {
				t.Errorf("%d Bonbon calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestIDTokenLogsNoToken(t *testing.T) {
	e := newIDTEnv(t, nil)
	access := e.token(t, nil)
	e.get(t, "Bearer "+access, "")
	e.get(t, "Bearer "+access+"x", "") // a refused one is logged too
	logs := e.logs.String()
	if !strings.Contains(logs, "bonbon id token minted") {
		t.Fatalf("the mint was not logged: %s", logs)
	}
	sig := access[strings.LastIndex(access, ".")+1:]
	for _, secret := range []string{sig, "bonbon.id.token-1", idtEmail} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}

func TestIDTokenConfigValidate(t *testing.T) {
	ok := bridge.IDTokenConfig{Issuer: "https://kc.example.com/realms/shop",
		Clients: []string{"shop-web"}, Origins: []string{"https://www.example.com"}}
	tests := []struct {
		name    string
		mod     func(*bridge.IDTokenConfig)
		wantErr string
	}{
		{"valid", func(*bridge.IDTokenConfig) {}, ""},
		{"no issuer", func(c *bridge.IDTokenConfig) { c.Issuer = "" }, "issuer"},
		{"relative keys url", func(c *bridge.IDTokenConfig) { c.KeysURL = "/certs" }, "keys url"},
		{"no client", func(c *bridge.IDTokenConfig) { c.Clients = nil }, "client"},
		{"origin with a path", func(c *bridge.IDTokenConfig) {
			c.Origins = []string{"https://www.example.com/news"}
		}, "origin"},
		{"demo without client", func(c *bridge.IDTokenConfig) {
			c.Demo = &bridge.PublisherDemo{BonbonScript: "http://127.0.0.1:1/bonbon.js",
				BonbonClientID: "x"}
		}, "public client"},
		{"demo client not allowed", func(c *bridge.IDTokenConfig) {
			c.Demo = &bridge.PublisherDemo{ClientID: "other", BonbonClientID: "x",
				BonbonScript: "http://127.0.0.1:1/bonbon.js"}
		}, "not an allowed client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			if (err == nil) != (tt.wantErr == "") ||
				(err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want an error about %q", err, tt.wantErr)
			}
		})
	}
}

func TestIDTokenMisconfiguredAnswers503(t *testing.T) {
	srv, err := bridge.New(bridge.Config{Users: storetest.NewFake(), Bonbon: &idtBonbon{},
		IDToken: &bridge.IDTokenConfig{}})
	if err != nil {
		return // bridge.New refusing the configuration is as good
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/bonbon/id-token", nil))
	if rec.Code != http.StatusServiceUnavailable ||
		!strings.Contains(rec.Body.String(), "idtoken_misconfigured") {
		t.Errorf("got %d %s, want 503 idtoken_misconfigured", rec.Code, rec.Body)
	}
}

func TestSignalScriptAndDemoPage(t *testing.T) {
	e := newIDTEnv(t, func(c *bridge.IDTokenConfig) {
		c.Demo = &bridge.PublisherDemo{ClientID: "shop-web",
			BonbonScript: "http://127.0.0.1:8090/bonbon.js", BonbonClientID: "pub-123"}
	})
	tests := []struct {
		path, wantType string
		wantBody       []string
	}{
		{"/bonbon/signal.js", "text/javascript", []string{`"signal", "loggedIn"`,
			"/bonbon/id-token"}},
		{"/publisher/", "text/html", []string{
			`window.bonbonDataLayer = window.bonbonDataLayer || [];`,
			`function bonbontag(){bonbonDataLayer.push(arguments);}`,
			`<script async src="http://127.0.0.1:8090/bonbon.js" data-clientId="pub-123">`,
			`"issuer": "` + e.realm.issuer + `"`,
			`"clientId": "shop-web"`, `../bonbon/signal.js`}},
		{"/publisher/publisher.js", "text/javascript", []string{"code_challenge_method"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(e.url + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %s\n%s", w, body)
				}
			}
		})
	}
	if r, _ := http.Get(e.url + "/publisher/other.html"); r.StatusCode != 404 {
		t.Errorf("unknown demo file: %d", r.StatusCode)
	}
	// Flow 2 is off here: the page must not load a link script that would answer 404.
	if r, err := http.Get(e.url + "/publisher/"); err == nil {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if strings.Contains(string(body), "link/script.js") {
			t.Errorf("demo page loads the link script with Flow 2 off")
		}
	}
}
