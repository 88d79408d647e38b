package sim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token uses, in the token_use claim, so that a BONBON_ID_TOKEN is never accepted where
// an earn token is expected although both are signed with the same key.
const (
	useEarn = "earn"
	useID   = "id"
)

// earnClaims are the simulator's earn token claims. Bonbon does not document its own;
// the bridge must not depend on these (it only ever sends the token back).
type earnClaims struct {
	jwt.RegisteredClaims
	TokenUse string `json:"token_use"`
}

// idClaims are the claims of a BONBON_ID_TOKEN from POST /jwt.
type idClaims struct {
	jwt.RegisteredClaims
	TokenUse      string `json:"token_use"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	BonbonID      string `json:"bonbon_id,omitempty"`
}

// IssueEarnToken signs an RS256 earn token for bonbonID: sub, iat, exp = now + TokenTTL,
// iss = Issuer. The user need not exist (a test of the 404 path wants exactly that).
func (s *Server) IssueEarnToken(bonbonID string) (string, error) {
	if bonbonID == "" {
		return "", errors.New("issue earn token: empty bonbon id")
	}
	now := s.cfg.Now()
	claims := earnClaims{
		RegisteredClaims: s.registered(bonbonID, now, s.cfg.TokenTTL),
		TokenUse:         useEarn,
	}
	return s.sign(claims)
}

func (s *Server) registered(sub string, now time.Time, ttl time.Duration) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    Issuer,
		Subject:   sub,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		ID:        randomID(),
	}
}

func (s *Server) sign(claims jwt.Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = s.keyID()
	signed, err := tok.SignedString(s.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

// keyID names the signing key by a digest of its modulus.
func (s *Server) keyID() string {
	sum := sha256.Sum256(s.cfg.Key.N.Bytes())
	return hex.EncodeToString(sum[:8])
}

// errBadToken covers every reason an earn token is refused; the reason is logged, the
// caller only learns "invalid_token".
var errBadToken = errors.New("invalid earn token")

// verifyEarnToken checks signature, algorithm, issuer, expiry and use, and returns sub.
func (s *Server) verifyEarnToken(raw string) (string, error) {
	var claims earnClaims
	_, err := jwt.ParseWithClaims(raw, &claims,
		func(*jwt.Token) (any, error) { return &s.cfg.Key.PublicKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: %w", errBadToken, err)
	case claims.ExpiresAt == nil:
		// jwt v5.0.0 accepts a token without exp; ours always have one.
		return "", fmt.Errorf("%w: no exp", errBadToken)
	case claims.TokenUse != useEarn:
		return "", fmt.Errorf("%w: token_use %q", errBadToken, claims.TokenUse)
	case claims.Subject == "":
		return "", fmt.Errorf("%w: no sub", errBadToken)
	}
	return claims.Subject, nil
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
