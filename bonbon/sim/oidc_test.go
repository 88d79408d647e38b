package sim

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	realmIssuer = "http://127.0.0.1:8080/realms/demo"
	realmClient = "publisher-web"
	realmKid    = "realm-key-1"
)

// realm serves a Keycloak-like key set: the signing key plus an encryption key to skip.
func realm(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var fetches atomic.Int32
	pub := testKeyOther().PublicKey
	set := map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "enc-key", "use": "enc", "alg": "RSA-OAEP",
			"n": b64(testKey().PublicKey.N.Bytes()), "e": "AQAB"},
		{"kty": "RSA", "kid": realmKid, "use": "sig", "alg": "RS256",
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())},
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return srv, &fetches
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// realmToken signs an ID token as the realm would, after mutate adjusts its claims.
func realmToken(t *testing.T, now time.Time, kid string, mutate func(jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{"iss": realmIssuer, "aud": realmClient, "sub": "kc-user-1",
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
		"email": "alyssa.p.hacker@bonbon.tech", "email_verified": true, "given_name": "Alyssa"}
	if mutate != nil {
		mutate(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(testKeyOther())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOIDCExchange(t *testing.T) {
	keys, fetches := realm(t)
	f := newFixture(t, func(c *Config) {
		c.JWKSURL, c.Issuer, c.Audience = keys.URL, realmIssuer, realmClient
	})
	now := f.clock.Now()
	hs256, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": realmIssuer,
		"aud": realmClient, "exp": now.Add(time.Minute).Unix(), "email": "a@b.c"}).
		SignedString([]byte("guess"))
	tests := []struct {
		name       string
		token      string
		headers    []string
		wantCode   int
		wantSignUp bool
	}{
		{name: "existing user", token: realmToken(t, now, realmKid, nil), wantCode: 200},
		{name: "new user", token: realmToken(t, now, realmKid, func(c jwt.MapClaims) {
			c["email"] = "kc.only@example.test"
		}), wantCode: 200, wantSignUp: true},
		{name: "audience list", token: realmToken(t, now, realmKid, func(c jwt.MapClaims) {
			c["aud"] = []string{"account", realmClient}
		}), wantCode: 200},
		{name: "no client id", token: realmToken(t, now, realmKid, nil), headers: []string{},
			wantCode: 403},
		{name: "wrong issuer", token: realmToken(t, now, realmKid, func(c jwt.MapClaims) {
			c["iss"] = "http://127.0.0.1:8080/realms/other"
		}), wantCode: 401},
		{name: "wrong audience", token: realmToken(t, now, realmKid, func(c jwt.MapClaims) {
			c["aud"] = "account"
		}), wantCode: 401},
		{name: "expired", token: realmToken(t, now, realmKid, func(c jwt.MapClaims) {
			c["exp"] = now.Add(-time.Second).Unix()
		}), wantCode: 401},
		{name: "no exp", token: realmToken(t, now, realmKid, func(c jwt.MapClaims) {
			delete(c, "exp")
		}), wantCode: 401},
		{name: "unknown kid", token: realmToken(t, now, "other", nil), wantCode: 401},
		{name: "encryption key kid", token: realmToken(t, now, "enc-key", nil), wantCode: 401},
		{name: "hmac", token: hs256, wantCode: 401},
		{name: "tampered", token: realmToken(t, now, realmKid, nil) + "A", wantCode: 401},
		{name: "unverified email of an existing account", token: realmToken(t, now, realmKid,
			func(c jwt.MapClaims) { c["email_verified"] = false }), wantCode: 409},
		{name: "no email", token: realmToken(t, now, realmKid, func(c jwt.MapClaims) {
			delete(c, "email")
		}), wantCode: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := clientOnly()
			if tt.headers != nil {
				headers = tt.headers
			}
			body := `{"id_token":"` + tt.token + `"}`
			code, body := f.call(t, "POST", "/v1/earn/oidc", body, headers...)
			if code != tt.wantCode {
				t.Fatalf("got %d %s, want %d", code, body, tt.wantCode)
			}
			if code != 200 {
				return
			}
			var ans struct {
				EarnToken string
				SignUp    bool
			}
			_ = json.Unmarshal([]byte(body), &ans)
			if ans.SignUp != tt.wantSignUp {
				t.Errorf("signUp = %v", ans.SignUp)
			}
			if c, _ := f.call(t, "GET", "/earn/user", "", creds(ans.EarnToken)...); c != 200 {
				t.Errorf("earn token from the exchange: %d", c)
			}
		})
	}
	// Unknown kids refetch the set at most once per jwksMinRefetch.
	if n := fetches.Load(); n > 2 {
		t.Errorf("key set fetched %d times", n)
	}
}

func TestOIDCNotConfigured(t *testing.T) {
	f := newFixture(t)
	code, body := f.call(t, "POST", "/earn/oidc", `{"id_token":"x"}`, clientOnly()...)
	if code != 501 || !strings.Contains(body, "not_configured") {
		t.Errorf("got %d %s", code, body)
	}
}
