package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon/sim"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/app"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// realm is a freshly provisioned realm, with an admin client for reading it back
// independently of the code under test.
type realm struct {
	Name, ClientSecret string
	Admin              *gocloak.GoCloak
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// provisionConfig is what `bonbon-bridge provision --create-realm` would use for name.
func provisionConfig(t *testing.T, name, secret string) keycloak.ProvisionConfig {
	t.Helper()
	env := map[string]string{
		"KEYCLOAK_URL": server.URL, "KEYCLOAK_REALM": name,
		"KEYCLOAK_ADMIN_USER": server.AdminUser, "KEYCLOAK_ADMIN_PASSWORD": server.AdminPassword,
		"KEYCLOAK_CLIENT_SECRET": secret,
	}
	pc, err := app.ProvisionFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		io.Discard)
	if err != nil {
		t.Fatalf("provision config: %v", err)
	}
	pc.CreateRealm = true
	return pc
}

// newRealm provisions a realm of its own for one test.
func newRealm(t *testing.T) *realm {
	t.Helper()
	r := &realm{Name: "it-" + randomHex(4), ClientSecret: randomHex(16)}
	if err := keycloak.Provision(context.Background(), provisionConfig(t, r.Name, r.ClientSecret)); err != nil {
		t.Fatalf("provision realm %s: %v", r.Name, err)
	}
	r.Admin = gocloak.NewClient(server.URL)
	return r
}

// token is a fresh master-realm admin token (they live 60 s by default).
func (r *realm) token(t *testing.T) string {
	t.Helper()
	jwt, err := r.Admin.LoginAdmin(context.Background(), server.AdminUser, server.AdminPassword, "master")
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	return jwt.AccessToken
}

// users reads every user of the realm back through the admin API.
func (r *realm) users(t *testing.T) []*gocloak.User {
	t.Helper()
	us, err := r.Admin.GetUsers(context.Background(), r.token(t), r.Name, gocloak.GetUsersParams{
		BriefRepresentation: gocloak.BoolP(false), Max: gocloak.IntP(1000),
	})
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	return us
}

// links reads a user's identity provider links.
func (r *realm) links(t *testing.T, userID string) map[string]string {
	t.Helper()
	ls, err := r.Admin.GetUserFederatedIdentities(context.Background(), r.token(t), r.Name, userID)
	if err != nil {
		t.Fatalf("read links: %v", err)
	}
	out := map[string]string{}
	for _, l := range ls {
		out[gocloak.PString(l.IdentityProvider)] = gocloak.PString(l.UserID)
	}
	return out
}

// seedUser creates a user as an admin would (no link), and returns its id.
func (r *realm) seedUser(t *testing.T, u gocloak.User) string {
	t.Helper()
	u.Enabled = gocloak.BoolP(true)
	id, err := r.Admin.CreateUser(context.Background(), r.token(t), r.Name, u)
	if err != nil {
		t.Fatalf("seed user: %v", err)
	}
	return id
}

// counter counts Keycloak calls per "METHOD path-shape", token requests included. Reads of
// the user profile (the bridge's mapping) are counted apart in profileReads: the bridge
// makes them on its own schedule (at start, then every BRIDGE_MAPPING_REFRESH), not per
// request, so they must not land in a flow's cost by chance of timing.
type counter struct {
	mu           sync.Mutex
	calls        []string
	profileReads int
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/users/profile") {
		c.profileReads++
	} else {
		c.calls = append(c.calls, req.Method+" "+req.URL.Path)
	}
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// reads returns how many times the bridge has read the user profile.
func (c *counter) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.profileReads
}

// take returns the calls since the last take.
func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

// stack is the simulator and the bridge, wired to a realm.
type stack struct {
	Sim       *sim.Server
	SimURL    string
	BridgeURL string
	Calls     *counter
	App       *app.App
}

// stackOptions changes one thing about a stack.
type stackOptions struct {
	KeycloakURL string // default the test server
	BonbonURL   string // default the simulator
	// Env adds or overrides bridge environment variables (e.g. the link flow's).
	Env map[string]string
	// DemoPage serves /publisher/ with the simulator's bonbon.js (needs Flow 3 on).
	DemoPage bool
	// SimWebhookURL makes the simulator deliver OTP logins to it, as Bonbon's servers do
	// (e.g. the bridge's webhook, its listener opened with reserveListener).
	SimWebhookURL string
	// Listener is the bridge's listener, opened by reserveListener when the address must be
	// known before the bridge starts; default a fresh port.
	Listener net.Listener
}

const simClientID, simAPIKey = "it-publisher", "it-api-key-not-secret"

// newStack starts a simulator holding the document's sample user and a bridge for r.
func newStack(t *testing.T, r *realm, o stackOptions) *stack {
	t.Helper()
	users, err := sim.LoadUsers("../testdata/bonbon/users.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{ClientID: simClientID, APIKey: simAPIKey, Users: users,
		WebhookURL: o.SimWebhookURL})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	st := &stack{Sim: s, SimURL: hs.URL, Calls: &counter{}}
	if o.KeycloakURL == "" {
		o.KeycloakURL = server.URL
	}
	if o.BonbonURL == "" {
		o.BonbonURL = hs.URL + "/v1"
	}
	env := map[string]string{
		"BRIDGE_ADDR": "127.0.0.1:0", "KEYCLOAK_URL": o.KeycloakURL, "KEYCLOAK_REALM": r.Name,
		"KEYCLOAK_CLIENT_SECRET": r.ClientSecret, "BONBON_API_URL": o.BonbonURL,
		"BONBON_CLIENT_ID": simClientID, "BONBON_API_KEY": simAPIKey,
		"KEYCLOAK_TIMEOUT": "3s", "BRIDGE_WEBHOOK_TIMEOUT": "10s",
	}
	if o.DemoPage {
		env["BRIDGE_DEMO_PAGE"], env["BRIDGE_DEMO_BONBON_SCRIPT"] = "true", hs.URL+"/bonbon.js"
	}
	for k, v := range o.Env {
		env[k] = v
	}
	issued.addEnv(env) // the no-secrets check (logcheck_test.go) looks for these
	cfg, err := app.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	tl := &testLog{t: t}
	log := slog.New(slog.NewJSONHandler(tl, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(cfg, app.Options{Logger: log, Listener: o.Listener,
		HTTPClient: &http.Client{Timeout: 3 * time.Second, Transport: st.Calls}})
	if err != nil {
		t.Fatal(err)
	}
	st.Calls.take() // the start-up version check is no webhook's cost
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; tl.close() })
	st.App, st.BridgeURL = a, a.URL()
	return st
}

// testLog sends the bridge's log lines to the test's log and to logSink (the secrets
// check reads everything logged). Background work (the mapping refresh) may still log
// after the test ended; those lines go to logSink only, since t.Log then panics.
type testLog struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func (l *testLog) Write(b []byte) (int, error) {
	logSink.add(b)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func (l *testLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// logSink keeps every log line of the package's bridges, for the no-secrets check.
var logSink = &sink{}

type sink struct {
	mu  sync.Mutex
	buf []byte
}

func (s *sink) add(b []byte) { s.mu.Lock(); s.buf = append(s.buf, b...); s.mu.Unlock() }

func (s *sink) String() string { s.mu.Lock(); defer s.mu.Unlock(); return string(s.buf) }

// answer is the bridge's reply to one webhook.
type answer struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// webhook posts to the bridge as Bonbon's servers do, with the given Authorization.
func (st *stack) webhook(t *testing.T, authorization string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.BridgeURL+"/webhooks/bonbon", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST webhook: %v", err)
	}
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode, Header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&a.Body); err != nil {
		t.Fatalf("webhook answer %d is not JSON: %v", resp.StatusCode, err)
	}
	return a
}

// deliver posts a webhook carrying a fresh earn token for bonbonID.
func (st *stack) deliver(t *testing.T, bonbonID string) answer {
	t.Helper()
	tok, err := st.Sim.IssueEarnToken(bonbonID)
	if err != nil {
		t.Fatal(err)
	}
	return st.webhook(t, "Bearer "+tok)
}
