package bridge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

var (
	errNoRoute    = errors.New("no such endpoint")
	errNoMethod   = errors.New("method not allowed on this endpoint")
	errBodyTooBig = errors.New("request body too large")
)

// errNotReady wraps why /readyz failed.
type errNotReady struct{ error }

func (e errNotReady) Unwrap() error { return e.error }

// bonbonIDError carries the Bonbon id to the error log line.
type bonbonIDError struct {
	error
	bonbonID string
}

func (e bonbonIDError) Unwrap() error { return e.error }

func withBonbonID(err error, id string) error { return bonbonIDError{err, id} }

// answer is an error as the client sees it.
type answer struct {
	status     int
	code       string
	message    string
	retryAfter time.Duration
	level      slog.Level
}

// ErrorBody is the JSON of every error answer: a stable machine-readable code and a
// message for humans.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// writeError is the one place errors become HTTP answers, and the one place they are
// logged.
func (s *Server) writeError(c *gin.Context, err error) {
	a := s.classify(err)
	attrs := []any{"status", a.status, "code", a.code, "err", err.Error()}
	var withID bonbonIDError
	if errors.As(err, &withID) {
		attrs = append(attrs, "bonbon_id", withID.bonbonID)
	}
	s.log.Log(c.Request.Context(), a.level, "request failed", attrs...)
	if a.retryAfter > 0 {
		secs := int((a.retryAfter + time.Second - 1) / time.Second)
		c.Header("Retry-After", strconv.Itoa(secs))
	}
	c.AbortWithStatusJSON(a.status, ErrorBody{Error: a.code, Message: a.message})
}

func (s *Server) classify(err error) answer {
	if a, ok := classifyRequest(err); ok {
		return a
	}
	if a, ok := classifyBonbon(err); ok {
		return a
	}
	return s.classifyKeycloak(err)
}

func classifyRequest(err error) (answer, bool) {
	warn := slog.LevelWarn
	switch {
	case errors.Is(err, errNoBearer):
		return answer{401, "missing_bearer", "an earn token is required as a Bearer token", 0, warn}, true
	case errors.Is(err, errMalformedBearer):
		return answer{401, "malformed_bearer", errMalformedBearer.Error(), 0, warn}, true
	case errors.Is(err, errNoRoute):
		return answer{404, "not_found", err.Error(), 0, slog.LevelDebug}, true
	case errors.Is(err, errNoMethod):
		return answer{405, "method_not_allowed", err.Error(), 0, slog.LevelDebug}, true
	case errors.Is(err, errBodyTooBig):
		return answer{413, "body_too_large", err.Error(), 0, warn}, true
	case errors.Is(err, mapping.ErrInvalidUser):
		return answer{422, "invalid_bonbon_user",
			"Bonbon's user cannot be stored without losing data: " + err.Error(), 0, warn}, true
	case errors.Is(err, errLinkedElsewhere):
		return answer{409, "email_linked_elsewhere", err.Error(), 0, warn}, true
	case errors.Is(err, errUsernameTaken):
		return answer{409, "username_taken", err.Error(), 0, slog.LevelError}, true
	}
	return answer{}, false
}

func classifyBonbon(err error) (answer, bool) {
	var api *bonbon.APIError
	switch {
	case errors.As(err, &api):
		switch {
		case api.Status == http.StatusUnauthorized:
			return answer{401, "earn_token_rejected", "Bonbon did not accept the earn token", 0,
				slog.LevelWarn}, true
		case api.Status == http.StatusForbidden:
			return answer{502, "bonbon_credentials_rejected",
				"Bonbon refused the bridge's client id or secret", 0, slog.LevelError}, true
		case api.Status == http.StatusNotFound:
			return answer{404, "bonbon_user_not_found", "Bonbon no longer has this user", 0,
				slog.LevelWarn}, true
		case api.Status == http.StatusTooManyRequests:
			return answer{503, "bonbon_rate_limited", "Bonbon asked the bridge to slow down",
				max(api.RetryAfter, time.Second), slog.LevelWarn}, true
		}
		return answer{502, "bonbon_unavailable", "Bonbon answered " + strconv.Itoa(api.Status), 0,
			slog.LevelError}, true
	case errors.Is(err, bonbon.ErrInvalidInput):
		return answer{401, "malformed_bearer", "the earn token cannot be sent to Bonbon", 0,
			slog.LevelWarn}, true
	case errors.Is(err, bonbon.ErrBadPayload):
		return answer{502, "bonbon_bad_payload", "Bonbon's answer could not be used", 0,
			slog.LevelError}, true
	case errors.Is(err, bonbon.ErrUnavailable):
		return answer{502, "bonbon_unavailable", "Bonbon could not be reached", 0,
			slog.LevelError}, true
	}
	return answer{}, false
}

func (s *Server) classifyKeycloak(err error) answer {
	retry := s.cfg.RetryAfter
	switch {
	case errors.As(err, new(errNotReady)):
		return answer{503, "not_ready", "Keycloak is not usable: " + err.Error(), retry,
			slog.LevelWarn}
	case errors.Is(err, keycloak.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return answer{503, "keycloak_unavailable", "Keycloak did not answer in time; retry later",
			retry, slog.LevelError}
	case errors.Is(err, keycloak.ErrUnauthorized):
		return answer{503, "keycloak_unauthorized",
			"Keycloak refused the bridge's credentials or roles; run provision", retry, slog.LevelError}
	case errors.Is(err, keycloak.ErrInvalid):
		return answer{422, "keycloak_rejected_user", "Keycloak refused the user: " + err.Error(), 0,
			slog.LevelWarn}
	case errors.Is(err, keycloak.ErrAmbiguous):
		return answer{409, "duplicate_link", keycloak.ErrAmbiguous.Error(), 0, slog.LevelError}
	case errors.Is(err, keycloak.ErrExists):
		return answer{409, "email_in_use", "another Keycloak account has this email", 0,
			slog.LevelWarn}
	case errors.Is(err, context.Canceled):
		return answer{499, "client_closed", "the request was cancelled", 0, slog.LevelInfo}
	}
	return answer{500, "internal_error", "unexpected error", 0, slog.LevelError}
}
