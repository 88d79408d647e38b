package bridge

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Errors of a link attempt's cookie. None says more to the browser than which one it is.
var (
	// errAttemptMissing: the callback came without the attempt cookie (another browser,
	// cookies blocked, or the cookie outlived its Max-Age).
	errAttemptMissing = errors.New("no link attempt in this browser")
	// errAttemptInvalid: the cookie does not decrypt under any configured key (tampered,
	// truncated, or sealed with a key no longer configured).
	errAttemptInvalid = errors.New("link attempt cookie is invalid")
	// errAttemptExpired: the cookie decrypts but its attempt is past its expiry.
	errAttemptExpired = errors.New("link attempt expired")
)

// attemptVersion prefixes every sealed attempt, so a future format can be told apart.
const attemptVersion byte = 1

// attemptAAD binds a sealed attempt to its purpose: a value sealed with the same key for
// another cookie never opens as an attempt.
var attemptAAD = []byte("bonbon-bridge link attempt v1")

// attempt is one step-up link in progress. It travels only inside the sealed cookie.
type attempt struct {
	// BonbonID is Bonbon's id of the user, as Bonbon answered for EarnToken.
	BonbonID string `json:"b"`
	// UserID is the Keycloak account that held the email at the start: the only sub
	// the callback accepts.
	UserID string `json:"u"`
	// EarnToken is sent back to Bonbon at the callback, to read the profile to apply.
	EarnToken string `json:"e"`
	// State, Nonce and Verifier are fresh per attempt (OAuth state, OIDC nonce, PKCE).
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	// Started and Expires are Unix milliseconds.
	Started int64 `json:"t"`
	Expires int64 `json:"x"`
}

// LogValue keeps the earn token, PKCE verifier and nonce out of logs.
func (a attempt) LogValue() slog.Value {
	return slog.GroupValue(slog.String("bonbon_id", a.BonbonID), slog.String("user_id", a.UserID))
}

func (a attempt) started() time.Time { return time.UnixMilli(a.Started) }

// sealer encrypts and authenticates attempts with AES-256-GCM. The first key seals; every
// key opens, so a key can be rotated without breaking attempts in flight. Safe for
// concurrent use.
type sealer struct {
	aeads []cipher.AEAD
}

// newSealer accepts 32-byte keys only (AES-256).
func newSealer(keys [][]byte) (*sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("at least one cookie key is required")
	}
	s := &sealer{}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("cookie key %d: want 32 bytes, have %d", i+1, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("cookie key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("cookie key %d: %w", i+1, err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// seal returns the cookie value: base64url(version | GCM nonce | ciphertext and tag).
func (s *sealer) seal(a attempt) (string, error) {
	plain, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("encode link attempt: %w", err)
	}
	aead := s.aeads[0]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = attemptVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return "", fmt.Errorf("link attempt nonce: %w", err)
	}
	out = aead.Seal(out, out[1:], plain, attemptAAD)
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// open authenticates and decrypts a cookie value and checks the attempt's expiry.
func (s *sealer) open(value string, now time.Time) (attempt, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < 1 || raw[0] != attemptVersion {
		return attempt{}, errAttemptInvalid
	}
	var a attempt
	for _, aead := range s.aeads {
		if len(raw) < 1+aead.NonceSize() {
			break
		}
		nonce, box := raw[1:1+aead.NonceSize()], raw[1+aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, box, attemptAAD)
		if err != nil {
			continue
		}
		if err := json.Unmarshal(plain, &a); err != nil {
			return attempt{}, errAttemptInvalid
		}
		if now.UnixMilli() >= a.Expires {
			return attempt{}, errAttemptExpired
		}
		return a, nil
	}
	return attempt{}, errAttemptInvalid
}

// randomToken is 32 random bytes, base64url: for state, nonce and the PKCE verifier.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
