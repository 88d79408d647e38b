package bonbon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"
)

// IDTokenRequest describes the publisher's logged-in user for POST /jwt. Sub and Email
// are required; the rest is sent when set (EmailVerified always).
type IDTokenRequest struct {
	// Sub is the publisher's own user id (the Keycloak user id).
	Sub string
	// Email is the user's address.
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	// BonbonID is the linked Bonbon id, when the accounts are linked.
	BonbonID string
}

// LogValue logs the ids only: the email and names are personal data.
func (r IDTokenRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sub", r.Sub), slog.String("bonbon_id", r.BonbonID))
}

// IDToken is a BONBON_ID_TOKEN for bonbontag("signal", "loggedIn", token). The token is
// opaque to the publisher; cache it for less than ExpiresIn.
type IDToken struct {
	// Token is a bearer credential: String and LogValue redact it.
	Token string
	// ExpiresIn is Bonbon's stated lifetime, counted from the answer.
	ExpiresIn time.Duration
}

// String describes t without its token.
func (t IDToken) String() string {
	return fmt.Sprintf("bonbon.IDToken{Token:%s ExpiresIn:%s}", redacted, t.ExpiresIn)
}

// GoString is String, so that %#v does not print the token either.
func (t IDToken) GoString() string { return t.String() }

// LogValue logs t without its token.
func (t IDToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", redacted), slog.Duration("expires_in", t.ExpiresIn))
}

// jwtRequest is the assumed body of POST /jwt (see bonbon-api.md).
type jwtRequest struct {
	Sub           string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	BonbonID      string `json:"bonbon_id,omitempty"`
}

// IDToken asks Bonbon for a BONBON_ID_TOKEN: POST {BaseURL}/jwt.
//
// Errors: ErrInvalidInput when Sub or Email is empty (no request is made); *APIError;
// ErrUnavailable; ErrBadPayload when the answer lacks a token or a positive expires_in.
func (c *Client) IDToken(ctx context.Context, r IDTokenRequest) (IDToken, error) {
	if r.Sub == "" || r.Email == "" {
		return IDToken{}, fmt.Errorf("id token: %w: sub and email are required", ErrInvalidInput)
	}
	payload, err := json.Marshal(jwtRequest(r))
	if err != nil {
		return IDToken{}, fmt.Errorf("id token: %w", err)
	}
	body, err := c.do(ctx, request{method: http.MethodPost, path: "/jwt", body: payload})
	if err != nil {
		return IDToken{}, fmt.Errorf("id token: %w", err)
	}
	tok, err := decodeIDToken(body)
	if err != nil {
		return IDToken{}, fmt.Errorf("id token: %w: %w", ErrBadPayload, err)
	}
	return tok, nil
}

// maxExpiresIn is a sanity bound: a longer stated lifetime is treated as a broken answer.
const maxExpiresIn = 7 * 24 * time.Hour

func decodeIDToken(body []byte) (IDToken, error) {
	var ans struct {
		Token     *string  `json:"token"`
		ExpiresIn *float64 `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return IDToken{}, errors.New("answer is not the expected JSON object")
	}
	if ans.Token == nil || !validToken(*ans.Token) {
		return IDToken{}, errors.New(`"token" is missing or not a usable token`)
	}
	if ans.ExpiresIn == nil || *ans.ExpiresIn <= 0 || math.IsNaN(*ans.ExpiresIn) ||
		*ans.ExpiresIn > maxExpiresIn.Seconds() {
		return IDToken{}, errors.New(`"expires_in" is missing or not a sane positive number`)
	}
	d := time.Duration(*ans.ExpiresIn * float64(time.Second))
	return IDToken{Token: *ans.Token, ExpiresIn: d}, nil
}
