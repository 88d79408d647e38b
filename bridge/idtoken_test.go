package bridge_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
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

// idtRealm stands in for a Keycloak realm's signing keys: a JWKS endpoint on loopback
// and a signer for access tokens.
type idtRealm struct {
	issuer string
	key    *rsa.PrivateKey
	kid    string
	hits   *int
}

// newIDTRealm serves the JWKS of one RSA key at <server>/realms/<name>/...certs.
func newIDTRealm(t *testing.T, name string) *idtRealm {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	r := &idtRealm{key: key, kid: name + "-key", hits: new(int)}
	var mu sync.Mutex
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		*r.hits++
		mu.Unlock()
		n := base64.RawURLEncoding.EncodeToString(key.N.Bytes())
		e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{
			{"kty": "RSA", "kid": r.kid, "use": "sig", "alg": "RS256", "n": n, "e": e},
		}})
	}))
	t.Cleanup(hs.Close)
	r.issuer = hs.URL + "/realms/" + name
	return r
}

const (
	idtClient = "shop-web"
	idtEmail  = "alyssa.p.hacker@bonbon.tech"
)

// claims are a valid Keycloak access token's claims for sub, issued at now.
func (r *idtRealm) claims(sub string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": r.issuer, "sub": sub, "typ": "Bearer", "azp": idtClient, "aud": "account",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": idtEmail, "email_verified": true, "given_name": "Alyssa",
		"family_name": "P. Hacker", "scope": "openid email profile",
	}
}

func (r *idtRealm) sign(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = r.kid
	s, err := tok.SignedString(r.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// idtBonbon mints tokens like POST /v1/jwt and records each request.
type idtBonbon struct {
	mu    sync.Mutex
	calls []bonbon.IDTokenRequest
	err   error
	ttl   time.Duration
	gate  chan struct{} // when set, IDToken waits for it to close
}

func (f *idtBonbon) EarnUser(context.Context, string) (bonbon.User, error) {
	return bonbon.User{}, errors.New("not used by flow 3")
}

func (f *idtBonbon) IDToken(ctx context.Context, r bonbon.IDTokenRequest) (bonbon.IDToken, error) {
	f.mu.Lock()
	f.calls = append(f.calls, r)
	n, err, gate := len(f.calls), f.err, f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return bonbon.IDToken{}, ctx.Err()
		}
	}
	if err != nil {
		return bonbon.IDToken{}, err
	}
	return bonbon.IDToken{Token: fmt.Sprintf("bonbon.id.token-%d", n), ExpiresIn: f.ttl}, nil
}

func (f *idtBonbon) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// idtClock is a settable time source shared by the bridge and go-oidc's expiry check.
type idtClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *idtClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *idtClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// idtEnv is a bridge with Flow 3 on, a realm, a store holding one user and a fake Bonbon.
type idtEnv struct {
	url      string
	realm    *idtRealm
	bonbon   *idtBonbon
	store    *storetest.Fake
	idtClock *idtClock
	user     string
	logs     *idtLogs
}

type idtLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *idtLogs) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *idtLogs) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newIDTEnv(t *testing.T, mod func(*bridge.IDTokenConfig)) *idtEnv {
	t.Helper()
	e := &idtEnv{
		realm: newIDTRealm(t, "shop"), bonbon: &idtBonbon{ttl: time.Hour},
		store: storetest.NewFake(), idtClock: &idtClock{t: time.Now()}, logs: &idtLogs{},
	}
	id, err := e.store.Seed(keycloak.User{Username: "alyssa", Email: idtEmail})
	if err != nil {
		t.Fatal(err)
	}
	e.user = id
	cfg := &bridge.IDTokenConfig{
		Issuer: e.realm.issuer, Clients: []string{idtClient},
		Origins: []string{"https://www.example.com"}, Now: e.idtClock.Now,
	}
	if mod != nil {
		mod(cfg)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := bridge.New(bridge.Config{Users: e.store, Bonbon: e.bonbon, IDToken: cfg,
		Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

// token is a valid access token for the idtEnv's user, changed by mod.
func (e *idtEnv) token(t *testing.T, mod func(jwt.MapClaims)) string {
	t.Helper()
	c := e.realm.claims(e.user, e.idtClock.Now())
	if mod != nil {
		mod(c)
	}
	return e.realm.sign(t, c)
}

type idtReply struct {
	status int
	header http.Header
	body   map[string]any
}

func (e *idtEnv) get(t *testing.T, authorization, origin string) idtReply {
	t.Helper()
	return e.do(t, http.MethodGet, authorization, origin)
}

func (e *idtEnv) do(t *testing.T, method, authorization, origin string) idtReply {
	t.Helper()
	req, _ := http.NewRequest(method, e.url+"/bonbon/id-token", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := idtReply{status: resp.StatusCode, header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&r.body)
	return r
}

func TestIDTokenIssued(t *testing.T) {
	e := newIDTEnv(t, nil)
	if err := e.store.Link(context.Background(), e.user, "12345"); err != nil {
		t.Fatal(err)
	}
	r := e.get(t, "Bearer "+e.token(t, nil), "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %v", r.status, r.body)
	}
	if r.body["token"] != "bonbon.id.token-1" {
		t.Errorf("token = %v", r.body["token"])
	}
	exp, err := time.Parse(time.RFC3339, fmt.Sprint(r.body["expires_at"]))
	if want := e.idtClock.Now().Add(time.Hour); err != nil || exp.Sub(want).Abs() > time.Second {
		t.Errorf("expires_at = %v (%v), want about %v", r.body["expires_at"], err, want)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	want := bonbon.IDTokenRequest{Sub: e.user, Email: idtEmail, EmailVerified: true,
		FirstName: "Alyssa", LastName: "P. Hacker", BonbonID: "12345"}
	if len(e.bonbon.calls) != 1 || e.bonbon.calls[0] != want {
		t.Errorf("Bonbon got %+v, want one %+v", e.bonbon.calls, want)
	}
}

func TestIDTokenUnlinkedUserHasNoBonbonID(t *testing.T) {
	e := newIDTEnv(t, nil)
	if r := e.get(t, "Bearer "+e.token(t, nil), ""); r.status != http.StatusOK {
		t.Fatalf("status %d %v", r.status, r.body)
	}
	if got := e.bonbon.calls[0].BonbonID; got != "" {
		t.Errorf("bonbon_id = %q for an unlinked user", got)
	}
}

// idtForged builds a token the bridge must refuse.
type idtForged func(t *testing.T, e *idtEnv) string

func TestIDTokenRejectsForgedTokens(t *testing.T) {
	other := newIDTRealm(t, "other")
	tests := []struct {
		name       string
		cfg        func(*bridge.IDTokenConfig)
		auth       idtForged
		wantCode   string
		wantReason string
	}{
		{"alg none", nil, func(t *testing.T, e *idtEnv) string {
			c := e.realm.claims(e.user, e.idtClock.Now())
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).
				SignedString(jwt.UnsafeAllowNoneSignatureType)
			return "Bearer " + s
		}, "invalid_access_token", "signature or format"},
		{"HS256 keyed with the public key", nil, func(t *testing.T, e *idtEnv) string {
			der, _ := x509.MarshalPKIXPublicKey(&e.realm.key.PublicKey)
			pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			c := e.realm.claims(e.user, e.idtClock.Now())
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
			tok.Header["kid"] = e.realm.kid
			s, _ := tok.SignedString(pub)
			return "Bearer " + s
		}, "invalid_access_token", "signature or format"},
		{"flipped signature byte", nil, func(t *testing.T, e *idtEnv) string {
			parts := strings.Split(e.token(t, nil), ".")
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sig[len(sig)/2] ^= 0x01
			parts[2] = base64.RawURLEncoding.EncodeToString(sig)
			return "Bearer " + strings.Join(parts, ".")
		}, "invalid_access_token", "signature or format"},
		{"expired", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, func(c jwt.MapClaims) {
				c["exp"] = e.idtClock.Now().Add(-time.Second).Unix()
			})
		}, "invalid_access_token", "expired"},
		{"no exp", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, func(c jwt.MapClaims) { delete(c, "exp") })
		}, "invalid_access_token", "expired"},
		{"wrong issuer", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, func(c jwt.MapClaims) { c["iss"] = other.issuer })
		}, "invalid_access_token", "another realm or issuer"},
		{"another realm's key and issuer", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + other.sign(t, other.claims(e.user, e.idtClock.Now()))
		}, "invalid_access_token", "rejected"},
		{"another key under our issuer", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + other.sign(t, e.realm.claims(e.user, e.idtClock.Now()))
		}, "invalid_access_token", "signature or format"},
		{"client not allowed (azp)", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, func(c jwt.MapClaims) { c["azp"] = "other-app" })
		}, "invalid_access_token", "client not allowed"},
		{"no azp", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, func(c jwt.MapClaims) { delete(c, "azp") })
		}, "invalid_access_token", "client not allowed"},
		{"audience not allowed", func(c *bridge.IDTokenConfig) {
			c.Audiences = []string{"bonbon-bridge"}
		}, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, nil) // aud "account" only
		}, "invalid_access_token", "audience not allowed"},
		{"ID token offered as access token", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, func(c jwt.MapClaims) {
				c["typ"], c["aud"] = "ID", idtClient
			})
		}, "invalid_access_token", "not an access token"},
		{"refresh token", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, func(c jwt.MapClaims) { c["typ"] = "Refresh" })
		}, "invalid_access_token", "not an access token"},
		{"no typ", nil, func(t *testing.T, e *idtEnv) string {
			return "Bearer " + e.token(t, func(c jwt.MapClaims) { delete(c, "typ") })
		}, "invalid_access_token", "not an access token"},
		{"not a JWT", nil, func(*testing.T, *idtEnv) string { return "Bearer abc" },
			"invalid_access_token", "not a bearer JWT"},
		{"Basic scheme", nil, func(*testing.T, *idtEnv) string { return "Basic YTpi" },
			"invalid_access_token", "not a bearer JWT"},
		{"no Authorization", nil, func(*testing.T, *idtEnv) string { return "" },
			"missing_access_token", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newIDTEnv(t, tt.cfg)
			r := e.get(t, tt.auth(t, e), "")
			if r.status != http.StatusUnauthorized || r.body["error"] != tt.wantCode ||
				!strings.Contains(fmt.Sprint(r.body["message"]), tt.wantReason) {
				t.Errorf("got %d %v, want 401 %s (%s)", r.status, r.body, tt.wantCode,
					tt.wantReason)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
			if n := e.bonbon.count(); n != 0 {
				t.Errorf("Bonbon was called %d times for a refused token", n)
			}
		})
	}
}

func TestIDTokenAudienceAccepted(t *testing.T) {
	e := newIDTEnv(t, func(c *bridge.IDTokenConfig) { c.Audiences = []string{"bonbon-bridge"} })
	tok := e.token(t, func(c jwt.MapClaims) { c["aud"] = []string{"account", "bonbon-bridge"} })
	if r := e.get(t, "Bearer "+tok, ""); r.status != http.StatusOK {
		t.Errorf("status %d %v", r.status, r.body)
	}
}

func TestIDTokenWithoutEmailIsForbidden(t *testing.T) {
	e := newIDTEnv(t, nil)
	r := e.get(t, "Bearer "+e.token(t, func(c jwt.MapClaims) { delete(c, "email") }), "")
	if r.status != http.StatusForbidden || r.body["error"] != "insufficient_scope" {
		t.Errorf("got %d %v", r.status, r.body)
	}
	if !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="email"`) {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
	if e.bonbon.count() != 0 {
		t.Error("Bonbon called")
	}
}

func TestIDTokenDeletedUser(t *testing.T) {
	e := newIDTEnv(t, nil)
	tok := e.token(t, func(c jwt.MapClaims) { c["sub"] = "no-such-user" })
	if r := e.get(t, "Bearer "+tok, ""); r.status != http.StatusUnauthorized {
		t.Errorf("got %d %v, want 401", r.status, r.body)
	}
	if e.bonbon.count() != 0 {
		t.Error("Bonbon called for a deleted user")
	}
}
