package sim

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksMaxAge is how long fetched keys are trusted; jwksMinRefetch stops a stream of
// tokens with unknown kids from hammering the publisher's key endpoint.
const (
	jwksMaxAge     = 5 * time.Minute
	jwksMinRefetch = 10 * time.Second
)

var errNotConfigured = &apiError{status: http.StatusNotImplemented, code: "not_configured",
	msg: "no key set is registered for this client"}

// oidcClaims are the ID token claims the exchange reads.
type oidcClaims struct {
	jwt.RegisteredClaims
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
}

// oidcExchange is POST /earn/oidc {"id_token"} (path and body assumed): the publisher's
// ID token, verified against its registered key set, is traded for an earn token.
func (s *Server) oidcExchange(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkClient(r, false); err != nil {
		return err
	}
	if s.jwks == nil {
		return errNotConfigured
	}
	var req struct {
		IDToken string `json:"id_token"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	claims, err := s.verifyPublisherToken(r.Context(), req.IDToken)
	if err != nil {
		s.log.Info("publisher id token refused", "reason", err)
		return &apiError{status: http.StatusUnauthorized, code: "invalid_token",
			msg: "id token refused"}
	}
	return s.exchange(w, claims)
}

// exchange finds or creates the account for the verified claims.
func (s *Server) exchange(w http.ResponseWriter, c *oidcClaims) error {
	email := normalEmail(c.Email)
	if !plausibleEmail(email) {
		return badRequest("id token has no usable email claim")
	}
	// An unverified address must not open someone else's Bonbon account.
	if id, ok := s.userByEmail(email); ok && !c.EmailVerified {
		s.log.Info("exchange refused: email not verified", "bonbon_id", id)
		return &apiError{status: http.StatusConflict, code: "email_unverified",
			msg: "an account exists for this email and the token does not verify it"}
	}
	id, signUp, err := s.findOrCreate(email, func() map[string]any {
		u := map[string]any{"email": email, "email_verified": c.EmailVerified,
			"bonbons":     json.Number("0"),
			"preferences": map[string]any{"pAds": false, "newsletter": false}}
		if c.GivenName != "" {
			u["first_name"] = c.GivenName
		}
		if c.FamilyName != "" {
			u["last_name"] = c.FamilyName
		}
		return u
	})
	if err != nil {
		return err
	}
	tok, err := s.IssueEarnToken(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"earnToken": tok, "signUp": signUp})
	return nil
}

// verifyPublisherToken checks signature (RSA, key from the JWKS by kid), issuer,
// audience and expiry.
func (s *Server) verifyPublisherToken(ctx context.Context, raw string) (*oidcClaims, error) {
	var claims oidcClaims
	_, err := jwt.ParseWithClaims(raw, &claims,
		func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			return s.jwks.key(ctx, kid)
		},
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(s.cfg.Audience),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	if err != nil {
		return nil, err
	}
	if claims.ExpiresAt == nil {
		return nil, errors.New("id token has no exp")
	}
	return &claims, nil
}

// jwksCache holds the publisher's RSA signing keys by kid.
type jwksCache struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func newJWKSCache(url string, client *http.Client, now func() time.Time) *jwksCache {
	return &jwksCache{url: url, client: client, now: now}
}

// key returns the key for kid, fetching the set when it is stale or lacks kid.
func (c *jwksCache) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	age := c.now().Sub(c.fetched)
	k, ok := c.keys[kid]
	if ok && age < jwksMaxAge {
		return k, nil
	}
	if c.keys == nil || age >= jwksMinRefetch {
		keys, err := fetchJWKS(ctx, c.client, c.url)
		if err != nil {
			return nil, err
		}
		c.keys, c.fetched = keys, c.now()
	}
	if k, ok := c.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("no key %q in the key set", kid)
}

// jwk is the part of a JSON Web Key the simulator uses.
type jwk struct {
	Kty, Kid, Use string
	N, E          string
}

func fetchJWKS(ctx context.Context, client *http.Client, url string) (
	map[string]*rsa.PublicKey, error,
) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks: status %d", resp.StatusCode)
	}
	var set struct{ Keys []jwk }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode jwks: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		// Keycloak also lists encryption keys (use "enc"); only signing keys count.
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if pub, err := k.rsa(); err == nil {
			keys[k.Kid] = pub
		}
	}
	return keys, nil
}

func (k jwk) rsa() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, err
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("bad exponent")
	}
	exp := int(new(big.Int).SetBytes(e).Int64())
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}
