package bridge

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"
)

// Refusals of the link flow that are about the request itself.
var (
	errLinkOriginNotAllowed = errors.New("the page's origin may not start a link")
	errNoEarnToken          = errors.New("an earn_token form field is required")
	errStateMismatch        = errors.New("the callback's state is not this browser's attempt")
	errNoCode               = errors.New("the callback carries no authorization code")
)

// errLoginFailed is Keycloak's own refusal, passed back in the callback's error parameter.
type errLoginFailed struct{ code string }

func (e errLoginFailed) Error() string { return "keycloak answered the login with " + e.code }

// errLinkMisconfigured: the flow's configuration did not validate.
type errLinkMisconfigured struct{ error }

func (e errLinkMisconfigured) Unwrap() error { return e.error }

// start is POST /link/start: a form the publisher's page submits (a top-level navigation)
// with the earn token. It answers 303 to Keycloak's login page, or to the return URL when
// the account is linked already.
func (f *linkFlow) start(c *gin.Context) error {
	if _, err := f.origin(c); err != nil {
		return err
	}
	token, err := earnTokenOf(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), f.s.cfg.WebhookTimeout)
	defer cancel()

	// Decide from Bonbon's answer and Keycloak's current state, nothing else.
	p, err := f.plan(ctx, token)
	if err != nil {
		return err
	}
	if p.alreadyLinked {
		f.log.Info("link not needed: already linked", "bonbon_id", p.bonbonID, "user_id", p.userID)
		c.Redirect(http.StatusSeeOther, f.cfg.ReturnURL)
		return nil
	}

	// A fresh attempt, sealed into the browser's cookie; Keycloak gets only its hashes.
	a, authURL, err := f.newAttempt(p, token)
	if err != nil {
		return withBonbonID(err, p.bonbonID)
	}
	value, err := f.seal.seal(a)
	if err != nil {
		return withBonbonID(err, p.bonbonID)
	}
	f.cookie.set(c, value)
	f.log.Info("link started: sent to login", "attempt", a, "email", Email(p.desired.Email))
	c.Redirect(http.StatusSeeOther, authURL)
	return nil
}

// newAttempt makes the attempt and the authorization URL that goes with it.
func (f *linkFlow) newAttempt(p linkPlan, earnToken string) (attempt, string, error) {
	state, err := randomToken()
	if err != nil {
		return attempt{}, "", err
	}
	nonce, err := randomToken()
	if err != nil {
		return attempt{}, "", err
	}
	now := f.cfg.Now()
	a := attempt{
		BonbonID: p.bonbonID, UserID: p.userID, EarnToken: earnToken,
		State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier(),
		Started: now.UnixMilli(), Expires: now.Add(f.cfg.TTL).UnixMilli(),
	}
	authURL := f.oauth.AuthCodeURL(state,
		oauth2.S256ChallengeOption(a.Verifier),
		oauth2.SetAuthURLParam("nonce", nonce),
		// A fresh login whatever session the browser has: Keycloak's prompt=login and
		// max_age=0. auth_time is still checked at the callback, as neither is proof.
		oauth2.SetAuthURLParam("prompt", "login"),
		oauth2.SetAuthURLParam("max_age", "0"),
		oauth2.SetAuthURLParam("login_hint", p.desired.Email),
	)
	return a, authURL, nil
}

// callback is GET /link/callback, where Keycloak sends the browser after the login.
func (f *linkFlow) callback(c *gin.Context) error {
	// The attempt cookie is good for one callback: it is cleared whatever happens next.
	raw, cookieErr := c.Cookie(f.cookie.name)
	f.cookie.clear(c)
	if cookieErr != nil {
		return errAttemptMissing
	}
	a, err := f.seal.open(raw, f.cfg.Now())
	if err != nil {
		return err
	}
	if err := f.finish(c, a); err != nil {
		return withAttempt(err, a)
	}
	c.Redirect(http.StatusSeeOther, f.cfg.ReturnURL)
	return nil
}

// finish checks the callback against the attempt, and links when everything holds.
func (f *linkFlow) finish(c *gin.Context, a attempt) error {
	// The callback must answer this browser's attempt, and carry a code.
	q := c.Request.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(a.State)) != 1 {
		return errStateMismatch
	}
	// RFC 9207: an answer naming another issuer is a mix-up, whatever else it carries.
	if iss := q.Get("iss"); iss != "" && iss != f.cfg.Issuer {
		return fmt.Errorf("%w: callback from issuer %s", errIDTokenRejected, safeText(iss))
	}
	if code := q.Get("error"); code != "" {
		return errLoginFailed{code: safeCode(code)}
	}
	if q.Get("code") == "" {
		return errNoCode
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), f.s.cfg.WebhookTimeout)
	defer cancel()

	// Decide again: the account, its email and its links may have changed since the start,
	// and a link already made means this callback is a replay.
	p, err := f.plan(ctx, a.EarnToken)
	if err != nil {
		return err
	}
	if err := p.sameAs(a); err != nil {
		return err
	}

	// The login: code and PKCE verifier for tokens, then the ID token's own checks.
	if err := f.login(ctx, q.Get("code"), a); err != nil {
		return err
	}

	// Link, then apply Bonbon's profile and clear the marker.
	out, err := f.complete(ctx, a, p)
	if err != nil {
		return err
	}
	f.log.Info("link completed", "attempt", a, "status", out.Status,
		"took_ms", f.cfg.Now().Sub(a.started()).Milliseconds())
	return nil
}

// origin returns the request's Origin when it is one of the allowed ones.
func (f *linkFlow) origin(c *gin.Context) (string, error) {
	o := c.GetHeader("Origin")
	if o == "" || !slices.Contains(f.cfg.AllowedOrigins, o) {
		return "", errLinkOriginNotAllowed
	}
	return o, nil
}

// earnTokenOf reads the earn_token form field; its shape is checked as a bearer's is.
func earnTokenOf(c *gin.Context) (string, error) {
	v := c.PostForm("earn_token")
	if v == "" {
		return "", errNoEarnToken
	}
	return bearer("Bearer " + v)
}

// safeCode keeps an OAuth error code loggable: a short token of safe characters.
func safeCode(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	out := []rune{}
	for _, r := range s {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			out = append(out, r)
		}
	}
	return string(out)
}

// safeText keeps a provider's message loggable: printable ASCII, bounded.
func safeText(s string) string {
	out := []rune{}
	for _, r := range s {
		if len(out) == 120 {
			break
		}
		if r >= ' ' && r <= '~' {
			out = append(out, r)
		}
	}
	return string(out)
}

// cookieSpec is the attempt cookie's attributes. Secure, HttpOnly and SameSite=Lax: Lax
// still sends it on Keycloak's top-level redirect back to the callback. Browsers (and
// Go's cookie jar) treat loopback addresses as secure, so plain-HTTP local runs work.
type cookieSpec struct {
	name, path string
	maxAge     time.Duration
}

const attemptCookie = "bonbon_link_attempt"

func (cs cookieSpec) set(c *gin.Context, value string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: cs.name, Value: value, Path: cs.path, MaxAge: int(cs.maxAge / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func (cs cookieSpec) clear(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: cs.name, Value: "", Path: cs.path, MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// browserErrors marks the link routes: their errors render as a small page when a
// browser navigates to them (errors.go). The code in a callback URL must not leak through
// Referer, and no answer here may be cached.
func (f *linkFlow) browserErrors(c *gin.Context) {
	c.Set(htmlErrorsKey, f.cfg.ReturnURL)
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("Cache-Control", "no-store")
	c.Next()
}
