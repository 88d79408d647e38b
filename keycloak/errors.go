package keycloak

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-resty/resty/v2"
)

// Errors callers branch on. Every error this package returns wraps one of them or a
// context error.
var (
	// ErrNotFound: the user, link or object does not exist.
	ErrNotFound = errors.New("keycloak: not found")
	// ErrExists: Keycloak answered 409, e.g. a user with that username or email exists.
	ErrExists = errors.New("keycloak: already exists")
	// ErrInvalid: Keycloak refused the data (400), e.g. a user-profile validation.
	ErrInvalid = errors.New("keycloak: rejected as invalid")
	// ErrUnauthorized: the bridge's credentials or roles were refused (401/403).
	ErrUnauthorized = errors.New("keycloak: credentials or roles refused")
	// ErrUnavailable: Keycloak did not answer, timed out, or failed (5xx).
	ErrUnavailable = errors.New("keycloak: unavailable")
	// ErrAmbiguous: more than one user is linked to the same Bonbon id. Keycloak does not
	// prevent it; an admin must remove the extra link before the bridge touches either.
	ErrAmbiguous = errors.New("keycloak: several users linked to one Bonbon id")
)

// Error is a failed admin call: what was attempted, Keycloak's status and message.
type Error struct {
	Op      string
	Status  int
	Message string
	kind    error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: keycloak answered %d", e.Op, e.Status)
	if e.Status == 0 {
		msg = e.Op + ": " + e.kind.Error()
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap lets errors.Is find the sentinel.
func (e *Error) Unwrap() error { return e.kind }

// check turns a resty result into nil or an *Error wrapping a sentinel.
func check(op string, resp *resty.Response, err error) error {
	if err != nil {
		return &Error{Op: op, Message: trimMessage(err.Error()), kind: ErrUnavailable}
	}
	status := resp.StatusCode()
	if status < 300 {
		return nil
	}
	kind := kindOf(status)
	if status == http.StatusBadRequest && !isValidationError(resp.Body()) {
		kind = ErrUnavailable // see isValidationError
	}
	return &Error{Op: op, Status: status, Message: keycloakMessage(resp.Body()), kind: kind}
}

func kindOf(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrExists
	case status == http.StatusBadRequest:
		return ErrInvalid
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUnauthorized
	default:
		return ErrUnavailable
	}
}

// keycloakMessage picks the human part of Keycloak's error bodies, which come in several
// shapes ({"errorMessage"}, {"error_description"}, {"error"}, {"field","errorMessage"}).
func keycloakMessage(body []byte) string {
	var b struct {
		ErrorMessage     string `json:"errorMessage"`
		ErrorDescription string `json:"error_description"`
		Error            string `json:"error"`
		Field            string `json:"field"`
		Errors           []struct {
			Field        string `json:"field"`
			ErrorMessage string `json:"errorMessage"`
		} `json:"errors"`
	}
	if jsonUnmarshal(body, &b) != nil {
		return ""
	}
	parts := []string{}
	for _, m := range []string{b.Field, b.ErrorMessage, b.ErrorDescription, b.Error} {
		if m != "" {
			parts = append(parts, m)
		}
	}
	for _, e := range b.Errors {
		parts = append(parts, e.Field+" "+e.ErrorMessage)
	}
	return trimMessage(strings.Join(parts, ": "))
}

func trimMessage(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
