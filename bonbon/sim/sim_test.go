package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
)

const (
	clientID = "client-1"
	apiKey   = "sim-secret"
	alyssa   = `{"id":"12345","email":"alyssa.p.hacker@bonbon.tech","email_verified":true,` +
		`"bonbons":100,"preferences":{"pAds":true,"newsletter":true}}`
)

// testKey is generated once: 2048-bit keys take a while.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	sim   *Server
	srv   *httptest.Server
	clock *clock
}

func newFixture(t *testing.T, mutate ...func(*Config)) *fixture {
	t.Helper()
	clk := &clock{t: time.Now()}
	cfg := Config{ClientID: clientID, APIKey: apiKey, Key: testKey(), Now: clk.Now,
		Users: []json.RawMessage{json.RawMessage(alyssa)}}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return &fixture{sim: s, srv: srv, clock: clk}
}

// call sends one request and returns status and body.
func (f *fixture) call(t *testing.T, method, path, body string, headers ...string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func (f *fixture) token(t *testing.T, id string) string {
	t.Helper()
	tok, err := f.sim.IssueEarnToken(id)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func creds(token string) []string {
	return []string{"x-bonbon-clientid", clientID, "x-bonbon-api-key", apiKey,
		"Authorization", "Bearer " + token}
}

func TestEarnUser(t *testing.T) {
	f := newFixture(t)
	good := f.token(t, "12345")
	other, _ := New(Config{ClientID: clientID, APIKey: apiKey, Key: testKeyOther()})
	foreign, _ := other.IssueEarnToken("12345")
	idTok := f.idToken(t)
	tests := []struct {
		name     string
		path     string
		headers  []string
		wantCode int
		wantBody string
	}{
		{"ok with v1", "/v1/earn/user", creds(good), 200, alyssa},
		{"ok without v1", "/earn/user", creds(good), 200, alyssa},
		{"wrong client id", "/v1/earn/user", []string{"x-bonbon-clientid", "nope",
			"x-bonbon-api-key", apiKey, "Authorization", "Bearer " + good}, 403, `"forbidden"`},
		{"wrong key", "/v1/earn/user", []string{"x-bonbon-clientid", clientID,
			"x-bonbon-api-key", "nope", "Authorization", "Bearer " + good}, 403, `"forbidden"`},
		{"no creds", "/v1/earn/user", nil, 403, `"forbidden"`},
		{"no token", "/v1/earn/user", creds("")[:4], 401, `"invalid_token"`},
		{"garbage token", "/v1/earn/user", creds("abc"), 401, `"invalid_token"`},
		{"tampered token", "/v1/earn/user", creds(good + "x"), 401, `"invalid_token"`},
		{"other key", "/v1/earn/user", creds(foreign), 401, `"invalid_token"`},
		{"id token is no earn token", "/v1/earn/user", creds(idTok), 401, `"invalid_token"`},
		{"unknown user", "/v1/earn/user", creds(f.token(t, "nobody")), 404, `"not_found"`},
		{"unknown path", "/v1/nope", nil, 404, `"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.call(t, "GET", tt.path, "", tt.headers...)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("got %d %s, want %d %s", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

var testKeyOther = sync.OnceValue(func() *rsa.PrivateKey {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	return k
})

func (f *fixture) idToken(t *testing.T) string {
	t.Helper()
	code, body := f.call(t, "POST", "/v1/jwt", `{"sub":"kc-1","email":"a@b.c"}`, creds("")[:4]...)
	if code != 200 {
		t.Fatalf("jwt: %d %s", code, body)
	}
	var ans struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || ans.ExpiresIn != 3600 {
		t.Fatalf("jwt answer %s: %v", body, err)
	}
	return ans.Token
}

func TestEarnTokenExpires(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TokenTTL = time.Minute })
	tok := f.token(t, "12345")
	f.clock.Add(59 * time.Second)
	if code, _ := f.call(t, "GET", "/v1/earn/user", "", creds(tok)...); code != 200 {
		t.Fatalf("before expiry: %d", code)
	}
	f.clock.Add(2 * time.Second)
	if code, _ := f.call(t, "GET", "/v1/earn/user", "", creds(tok)...); code != 401 {
		t.Fatalf("after expiry: %d, want 401", code)
	}
}

func TestDeletedUser(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "12345")
	f.sim.DeleteUser("12345")
	if code, _ := f.call(t, "GET", "/earn/user", "", creds(tok)...); code != 404 {
		t.Fatalf("got %d, want 404", code)
	}
}

func TestPutUserServedVerbatim(t *testing.T) {
	f := newFixture(t)
	odd := `{"id":"odd", "id":"odd", "n": 1e3 ,"x":null}`
	if err := f.sim.PutUser(json.RawMessage(odd)); err != nil {
		t.Fatal(err)
	}
	if _, body := f.call(t, "GET", "/earn/user", "", creds(f.token(t, "odd"))...); body != odd {
		t.Errorf("body = %s, want %s", body, odd)
	}
	f.sim.PutUserAs("numeric", json.RawMessage(`{"id":1}`))
	_, body := f.call(t, "GET", "/earn/user", "", creds(f.token(t, "numeric"))...)
	if body != `{"id":1}` {
		t.Errorf("body = %s", body)
	}
	for _, bad := range []string{`[]`, `{"id":1}`, `{"id":""}`, `nope`} {
		if err := f.sim.PutUser(json.RawMessage(bad)); !errors.Is(err, ErrNoID) {
			t.Errorf("PutUser(%s) = %v, want ErrNoID", bad, err)
		}
	}
}

func TestJWT(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		body     string
		headers  []string
		wantCode int
	}{
		{"ok", `{"sub":"s","email":"a@b","email_verified":true,"bonbon_id":"1"}`,
			creds("")[:4], 200},
		{"missing sub", `{"email":"a@b"}`, creds("")[:4], 400},
		{"missing email", `{"sub":"s"}`, creds("")[:4], 400},
		{"not json", `sub=s`, creds("")[:4], 400},
		{"no secret", `{"sub":"s","email":"a@b"}`, []string{"x-bonbon-clientid", clientID}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.call(t, "POST", "/v1/jwt", tt.body, tt.headers...)
			if code != tt.wantCode {
				t.Errorf("got %d %s, want %d", code, body, tt.wantCode)
			}
		})
	}
}

func TestFailNextAndHits(t *testing.T) {
	f := newFixture(t)
	f.sim.FailNext("/v1/earn/user", 429, 2)
	tok := f.token(t, "12345")
	for i, want := range []int{429, 429, 200} {
		code, body := f.call(t, "GET", "/earn/user", "", creds(tok)...)
		if code != want {
			t.Fatalf("request %d: %d %s, want %d", i, code, body, want)
		}
		if code == 429 && !strings.Contains(body, `"rate_limited"`) {
			t.Errorf("body = %s", body)
		}
	}
	if got := f.sim.Hits("/earn/user"); got != 3 {
		t.Errorf("hits = %d, want 3", got)
	}
	if got := f.sim.Hits("/v1/jwt"); got != 0 {
		t.Errorf("jwt hits = %d, want 0", got)
	}
	_, body := f.call(t, "GET", "/_sim/hits", "")
	if !strings.Contains(body, `"/earn/user":3`) {
		t.Errorf("hits body = %s", body)
	}
}

// TestClientAgainstSim runs the real client against the simulator, retries included.
func TestClientAgainstSim(t *testing.T) {
	f := newFixture(t)
	c, err := bonbon.NewClient(bonbon.Config{BaseURL: f.srv.URL + "/v1", ClientID: clientID,
		APIKey: apiKey})
	if err != nil {
		t.Fatal(err)
	}
	f.sim.FailNext("/earn/user", 503, 1)
	u, err := c.EarnUser(context.Background(), f.token(t, "12345"))
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "12345" || u.Fields["preferences.pAds"] != "true" {
		t.Errorf("user = %+v", u)
	}
	tok, err := c.IDToken(context.Background(), bonbon.IDTokenRequest{Sub: "kc", Email: "a@b"})
	if err != nil || tok.ExpiresIn != time.Hour || tok.Token == "" {
		t.Errorf("id token = %v, %v", tok, err)
	}
	_, err = c.EarnUser(context.Background(), "garbage")
	var apiErr *bonbon.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "invalid_token" {
		t.Errorf("err = %v", err)
	}
}

// webhook records the bearer tokens it receives and answers statuses in turn.
type webhook struct {
	mu       sync.Mutex
	tokens   []string
	bodies   []string
	statuses []int
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	n := len(h.tokens)
	h.tokens = append(h.tokens, bearer(r))
	h.bodies = append(h.bodies, string(body))
	status := 204
	if n < len(h.statuses) {
		status = h.statuses[n]
	}
	h.mu.Unlock()
	w.WriteHeader(status)
}

func (h *webhook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.tokens)
}

func TestDeliver(t *testing.T) {
	f := newFixture(t)
	hook := &webhook{statuses: []int{202}}
	hs := httptest.NewServer(hook)
	defer hs.Close()

	code, body := f.call(t, "POST", "/_sim/deliver", `{"id":"12345","url":"`+hs.URL+`/hook"}`)
	if code != 200 || !strings.Contains(body, `"status":202`) {
		t.Fatalf("deliver: %d %s", code, body)
	}
	if hook.bodies[0] != "" {
		t.Errorf("webhook body = %q, want empty", hook.bodies[0])
	}
	// The token the webhook got is one the API accepts for that user.
	if code, body := f.call(t, "GET", "/earn/user", "", creds(hook.tokens[0])...); code != 200 ||
		body != alyssa {
		t.Errorf("earn/user with the webhook's token: %d %s", code, body)
	}
	d := f.sim.Deliveries()
	if len(d) != 1 || d[0].Reason != "manual" || !d[0].OK || d[0].Attempts[0].Status != 202 {
		t.Errorf("deliveries = %+v", d)
	}
}

func TestControlEndpoints(t *testing.T) {
	f := newFixture(t)
	code, body := f.call(t, "POST", "/_sim/users", `{"id":"u2","email":"b@c.d"}`)
	if code != 200 {
		t.Fatalf("put user: %d %s", code, body)
	}
	code, body = f.call(t, "POST", "/v1/_sim/earn-token", `{"id":"u2"}`)
	var ans struct{ EarnToken string }
	if code != 200 || json.Unmarshal([]byte(body), &ans) != nil {
		t.Fatalf("earn-token: %d %s", code, body)
	}
	_, body = f.call(t, "GET", "/earn/user", "", creds(ans.EarnToken)...)
	if !strings.Contains(body, "b@c.d") {
		t.Errorf("user = %s", body)
	}
	if code, _ := f.call(t, "POST", "/_sim/users", `{"email":"no id"}`); code != 400 {
		t.Errorf("user without id: %d", code)
	}
	if code, _ := f.call(t, "POST", "/_sim/earn-token", `{}`); code != 400 {
		t.Errorf("earn-token without id: %d", code)
	}
	if _, body := f.call(t, "GET", "/_sim/users", ""); !strings.Contains(body, "u2") {
		t.Errorf("users = %s", body)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{TokenTTL: -1, JWKSURL: "http://127.0.0.1/x"}.Validate()
	for _, want := range []string{"client id", "api key", "negative", "issuer"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	var buf bytes.Buffer
	cfg := Config{ClientID: "c", APIKey: apiKey}
	buf.WriteString(cfg.String())
	if strings.Contains(buf.String(), apiKey) {
		t.Error("api key printed")
	}
}

func TestLoadUsers(t *testing.T) {
	users, err := LoadUsers("../../testdata/bonbon/users.json")
	if err != nil || len(users) != 1 {
		t.Fatalf("users = %d, %v", len(users), err)
	}
	if _, err := New(Config{ClientID: "c", APIKey: "k", Key: testKey(), Users: users}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadUsers("nope.json"); err == nil {
		t.Error("missing file accepted")
	}
}
