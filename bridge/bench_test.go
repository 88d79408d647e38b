package bridge_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge/storetest"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// benchBonbon answers EarnUser by token and mints ID tokens without a network.
type benchBonbon map[string]bonbon.User

func (b benchBonbon) EarnUser(_ context.Context, token string) (bonbon.User, error) {
	return b[token], nil
}

func (b benchBonbon) IDToken(context.Context, bonbon.IDTokenRequest) (bonbon.IDToken, error) {
	return bonbon.IDToken{Token: "bonbon.id.token", ExpiresIn: time.Hour}, nil
}

func benchPost(b *testing.B, h http.Handler, token string, want int) {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/bonbon", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("webhook = %d %s", rec.Code, rec.Body)
	}
}

// BenchmarkWebhookInMemory is a whole webhook through the handler (bearer check, mapping,
// upsert decision, answer) against the in-memory store: the bridge's own cost, without
// Keycloak's or Bonbon's time.
func BenchmarkWebhookInMemory(b *testing.B) {
	user := func(id string, bonbons int) bonbon.User {
		u := mtUser()
		u.ID, u.Email = id, id+"@example.com"
		u.Fields = map[string]string{"postal": "90403", "bonbons": strconv.Itoa(bonbons)}
		return u
	}
	setup := func(b *testing.B, bb benchBonbon) http.Handler {
		s, err := bridge.New(bridge.Config{Users: storetest.NewFake(), Bonbon: bb,
			Logger: mtLogger()})
		if err != nil {
			b.Fatal(err)
		}
		return s.Handler()
	}
	b.Run("unchanged", func(b *testing.B) {
		h := setup(b, benchBonbon{"a.b.c": user("u1", 1)})
		benchPost(b, h, "a.b.c", 200)
		for b.Loop() {
			benchPost(b, h, "a.b.c", 200)
		}
	})
	b.Run("updated", func(b *testing.B) {
		h := setup(b, benchBonbon{"a.b.c": user("u1", 1), "a.b.d": user("u1", 2)})
		benchPost(b, h, "a.b.c", 200)
		i := 0
		for b.Loop() {
			i++
			benchPost(b, h, "a.b."+string(rune('c'+i%2)), 200)
		}
	})
	b.Run("created", func(b *testing.B) {
		// The fake scans its users; a fresh store every 500 keeps that out of the number.
		users := benchBonbon{}
		for i := range 500 {
			users["n.n."+strconv.Itoa(i)] = user("n"+strconv.Itoa(i), 1)
		}
		var h http.Handler
		i := 0
		for b.Loop() {
			if i%500 == 0 {
				b.StopTimer()
				h = setup(b, users)
				b.StartTimer()
			}
			benchPost(b, h, "n.n."+strconv.Itoa(i%500), 200)
			i++
		}
	})
}

// BenchmarkIDTokenCacheHit is GET /bonbon/id-token for a user whose token is cached: the
// access token's verification (RS256, claims) and the cache lookup.
func BenchmarkIDTokenCacheHit(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	defer keys.Close()
	issuer := keys.URL + "/realms/shop"
	store := storetest.NewFake()
	sub, err := store.Seed(keycloak.User{Username: "alyssa", Email: "a@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	s, err := bridge.New(bridge.Config{Users: store, Bonbon: benchBonbon{}, Logger: mtLogger(),
		IDToken: &bridge.IDTokenConfig{Issuer: issuer, Clients: []string{"shop-web"}}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": issuer, "sub": sub, "typ": "Bearer", "azp": "shop-web", "aud": "account",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email": "a@example.com",
		"email_verified": true,
	})
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(key)
	if err != nil {
		b.Fatal(err)
	}
	get := func() {
		req := httptest.NewRequest(http.MethodGet, "/bonbon/id-token", nil)
		req.Header.Set("Authorization", "Bearer "+raw)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("id token = %d %s", rec.Code, rec.Body)
		}
	}
	get() // the miss: keys fetched, token minted
	for b.Loop() {
		get()
	}
}
