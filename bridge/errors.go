package bridge

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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
	c.Set(outcomeKey, a.code)
	attrs := []any{"status", a.status, "code", a.code, "err", err.Error()}
	var withID bonbonIDError
	var inAttempt attemptError
	if errors.As(err, &inAttempt) {
		attrs = append(attrs, "bonbon_id", inAttempt.bonbonID, "user_id", inAttempt.userID)
	} else if errors.As(err, &withID) {
		attrs = append(attrs, "bonbon_id", withID.bonbonID)
	}
	var withSub keycloakSubError
	if errors.As(err, &withSub) {
		attrs = append(attrs, "keycloak_user_id", withSub.sub)
	}
	if ch := bearerChallenge(err); ch != "" {
		c.Header("WWW-Authenticate", ch)
	}
	s.log.Log(c.Request.Context(), a.level, "request failed", attrs...)
	if a.retryAfter > 0 {
		secs := int((a.retryAfter + time.Second - 1) / time.Second)
		c.Header("Retry-After", strconv.Itoa(secs))
	}
	if back, ok := wantsPage(c); ok {
		writePage(c, a, back)
		return
	}
	c.AbortWithStatusJSON(a.status, ErrorBody{Error: a.code, Message: a.message})
}

func (s *Server) classify(err error) answer {
	if a, ok := s.classifyLoad(err); ok {
		return a
	}
	if a, ok := classifyIDToken(err); ok {
		return a
	}
	if a, ok := classifyRequest(err); ok {
		return a
	}
	if a, ok := classifyLink(err); ok {
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

// attemptError carries a link attempt's ids to the error log line.
type attemptError struct {
	error
	bonbonID, userID string
}

func (e attemptError) Unwrap() error { return e.error }

func withAttempt(err error, a attempt) error { return withIDs(err, a.BonbonID, a.UserID) }

func withIDs(err error, bonbonID, userID string) error {
	return attemptError{err, bonbonID, userID}
}

// classifyLink answers the step-up link's refusals. Their messages are shown to the user
// on the error page, so they say what to do next.
func classifyLink(err error) (answer, bool) {
	warn, info := slog.LevelWarn, slog.LevelInfo
	startAgain := " Sign in with Bonbon again on the site to start over."
	var failed errLoginFailed
	switch {
	case errors.Is(err, errLinkOriginNotAllowed):
		return answer{403, "origin_not_allowed", errLinkOriginNotAllowed.Error(), 0, warn}, true
	case errors.Is(err, errNoEarnToken):
		return answer{400, "missing_earn_token", errNoEarnToken.Error(), 0, warn}, true
	case errors.Is(err, errBonbonEmailUnverified):
		return answer{403, "bonbon_email_unverified", "Your Bonbon account's email address is " +
			"not verified, so it cannot be linked to an account here. Verify it at Bonbon first.",
			0, info}, true
	case errors.Is(err, errNoAccountToLink):
		return answer{404, "no_account_to_link", "There is no account with your Bonbon email " +
			"on this site, so there is nothing to link.", 0, info}, true
	case errors.Is(err, errBonbonLinkedElsewhere):
		return answer{409, "bonbon_linked_elsewhere", "Your Bonbon account is already linked to " +
			"another account on this site. Nothing was changed.", 0, warn}, true
	case errors.Is(err, errAccountEmailUnverified):
		return answer{409, "account_email_unverified", "An account on this site has your " +
			"email address, but the address is not verified on that account, so it cannot be " +
			"linked automatically. Log in to that account and verify the address (or ask the " +
			"site's support), then sign in with Bonbon again.", 0, info}, true
	case errors.Is(err, errAttemptMissing):
		return answer{400, "link_attempt_missing", "This browser has no link in progress (it " +
			"may have been completed, or started in another browser)." + startAgain, 0, warn}, true
	case errors.Is(err, errAttemptInvalid):
		return answer{400, "link_attempt_invalid", "The link request could not be read." +
			startAgain, 0, warn}, true
	case errors.Is(err, errAttemptExpired):
		return answer{400, "link_attempt_expired", "The link request expired." + startAgain, 0,
			info}, true
	case errors.Is(err, errStateMismatch), errors.Is(err, errNoCode):
		return answer{400, "link_state_mismatch", "This login answer does not belong to the " +
			"link started in this browser." + startAgain, 0, warn}, true
	case errors.Is(err, errAlreadyLinked):
		return answer{409, "link_already_completed", "This link was completed already; your " +
			"accounts are linked.", 0, warn}, true
	case errors.Is(err, errAttemptOutdated):
		return answer{409, "link_attempt_outdated", "The accounts changed while you were " +
			"logging in; nothing was linked." + startAgain, 0, warn}, true
	case errors.As(err, &failed):
		return answer{400, "login_not_completed", "The login was not completed; nothing was " +
			"linked." + startAgain, 0, info}, true
	case errors.Is(err, errCodeRejected), errors.Is(err, errIDTokenRejected):
		return answer{400, "login_rejected", "The login could not be verified; nothing was " +
			"linked." + startAgain, 0, warn}, true
	case errors.Is(err, errLoginNotFresh):
		return answer{401, "login_not_fresh", "A fresh login is required to link accounts; " +
			"nothing was linked." + startAgain, 0, warn}, true
	case errors.Is(err, errWrongAccount):
		return answer{403, "wrong_account", "You logged in to a different account than the one " +
			"with your Bonbon email; nothing was linked." + startAgain, 0, warn}, true
	case errors.As(err, new(errLinkMisconfigured)):
		return answer{503, "link_misconfigured", "account linking is not configured correctly",
			0, slog.LevelError}, true
	}
	return answer{}, false
}

// htmlErrorsKey marks a route whose errors render as a page when a browser navigates to
// it; its value is the URL the page links back to.
const htmlErrorsKey = "bridge.htmlErrors"

// wantsPage is true for a marked route requested by a browser navigation (which always
// accepts text/html); scripts and API clients get the JSON answer.
func wantsPage(c *gin.Context) (string, bool) {
	back, ok := c.Get(htmlErrorsKey)
	if !ok || !strings.Contains(c.GetHeader("Accept"), "text/html") {
		return "", false
	}
	s, _ := back.(string)
	return s, true
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="bonbon-error" content="{{.Code}}"><title>Account link not completed</title></head>
<body style="font:16px sans-serif;max-width:36em;margin:3em auto;padding:0 1em">
<h1 style="font-size:1.3em">Account link not completed</h1>
<p id="message">{{.Message}}</p>
{{if .Back}}<p><a href="{{.Back}}">Back to the site</a></p>{{end}}
<p style="color:#777;font-size:.8em">Error code: {{.Code}}</p>
</body></html>`))

// writePage renders the answer as a small HTML page.
func writePage(c *gin.Context, a answer, back string) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(a.status)
	_ = errorPage.Execute(c.Writer, map[string]string{
		"Code": a.code, "Message": a.message, "Back": back,
	})
	c.Abort()
}

// classifyIDToken answers Flow 3's errors (bridge/idtoken*.go): 401 when the access token
// is missing or not acceptable, 403 when it is valid but not enough (or the page's origin
// is not allowed), 502/503 when Bonbon does not mint.
func classifyIDToken(err error) (answer, bool) {
	warn := slog.LevelWarn
	var invalid errInvalidAccessToken
	var bb errBonbonIDToken
	switch {
	case errors.Is(err, errNoAccessToken):
		return answer{401, "missing_access_token", errNoAccessToken.Error(), 0, slog.LevelInfo}, true
	case errors.As(err, &invalid):
		return answer{401, "invalid_access_token",
			"the access token was rejected: " + invalid.reason, 0, warn}, true
	case errors.Is(err, errInsufficientScope):
		return answer{403, "insufficient_scope", errInsufficientScope.Error(), 0, warn}, true
	case errors.Is(err, errOriginNotAllowed):
		return answer{403, "origin_not_allowed", errOriginNotAllowed.Error(), 0, warn}, true
	case errors.As(err, new(errIDTokenMisconfigured)):
		return answer{503, "idtoken_misconfigured",
			"the bridge's ID-token settings are incomplete; see its log", 0, slog.LevelError}, true
	case errors.As(err, &bb):
		return classifyBonbonIDToken(bb.error), true
	}
	return answer{}, false
}

// classifyBonbonIDToken: Bonbon refusing /v1/jwt is never the user's fault (their token
// was verified already), so its 4xx answers are the bridge's 502.
func classifyBonbonIDToken(err error) answer {
	var api *bonbon.APIError
	switch {
	case errors.As(err, &api) && api.Status == http.StatusTooManyRequests:
		return answer{503, "bonbon_rate_limited", "Bonbon asked the bridge to slow down",
			max(api.RetryAfter, time.Second), slog.LevelWarn}
	case errors.As(err, &api) && api.Status < 500:
		return answer{502, "bonbon_rejected_request", "Bonbon refused to mint the token (status " +
			strconv.Itoa(api.Status) + "); check the bridge's Bonbon credentials", 0, slog.LevelError}
	case errors.Is(err, bonbon.ErrBadPayload):
		return answer{502, "bonbon_bad_payload", "Bonbon's answer could not be used", 0,
			slog.LevelError}
	}
	return answer{502, "bonbon_unavailable", "Bonbon did not mint the token; retry later", 0,
		slog.LevelError}
}

// bearerChallenge is the WWW-Authenticate header (RFC 6750) for Flow 3's auth errors.
func bearerChallenge(err error) string {
	switch {
	case errors.Is(err, errNoAccessToken):
		return `Bearer realm="bonbon-bridge"`
	case errors.As(err, new(errInvalidAccessToken)):
		return `Bearer realm="bonbon-bridge", error="invalid_token"`
	case errors.Is(err, errInsufficientScope):
		return `Bearer realm="bonbon-bridge", error="insufficient_scope", scope="email"`
	}
	return ""
}
