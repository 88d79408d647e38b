package bridge_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// linkOP is a minimal OpenID provider for unit tests: an authorization endpoint that logs
// in Sub at once, a token endpoint that enforces single-use codes and PKCE S256, and a
// key set. Tweak alters the ID token's claims, to test the bridge's checks.
type linkOP struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	Sub   string
	Tweak func(jwt.MapClaims)

	mu    sync.Mutex
	codes map[string]linkGrant
}

type linkGrant struct {
	clientID, challenge, nonce string
}

func newLinkOP(t *testing.T) *linkOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &linkOP{key: key, codes: map[string]linkGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth", op.auth)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /certs", op.certs)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *linkOP) URL() string { return op.srv.URL }

func (op *linkOP) auth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	code := base64.RawURLEncoding.EncodeToString(b)
	op.mu.Lock()
	op.codes[code] = linkGrant{q.Get("client_id"), q.Get("code_challenge"), q.Get("nonce")}
	op.mu.Unlock()
	back := url.Values{"code": {code}, "state": {q.Get("state")}}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
}

func (op *linkOP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	op.mu.Lock()
	g, ok := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code")) // codes are single-use, as at Keycloak
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": op.srv.URL, "aud": g.clientID, "azp": g.clientID, "sub": op.Sub, "typ": "ID",
		"nonce": g.nonce, "auth_time": now.Unix(), "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
	if op.Tweak != nil {
		op.Tweak(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	signed, _ := tok.SignedString(op.key)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": signed,
	})
}

func (op *linkOP) certs(w http.ResponseWriter, _ *http.Request) {
	pub := op.key.PublicKey
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}
