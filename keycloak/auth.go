package keycloak

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// tokenCache keeps the admin token until shortly before it expires, like
// oauth2.ReuseTokenSourceWithExpiry, and can also drop it when Keycloak refuses it early
// (a restarted Keycloak with new keys, an admin's "log out all sessions", a revoked
// session). Without the drop, every admin call would fail with 401 until the token's
// natural expiry, up to its whole lifetime. Safe for concurrent use.
type tokenCache struct {
	src   oauth2.TokenSource
	early time.Duration
	now   func() time.Time

	mu  sync.Mutex
	tok *oauth2.Token
}

// fetchToken is a TokenSource that asks Keycloak every time. Not cc.TokenSource: that one
// caches, so dropping our copy of a refused token would hand the same token back.
type fetchToken func() (*oauth2.Token, error)

// Token implements oauth2.TokenSource.
func (f fetchToken) Token() (*oauth2.Token, error) { return f() }

func newTokenCache(src oauth2.TokenSource, early time.Duration) *tokenCache {
	return &tokenCache{src: src, early: early, now: time.Now}
}

// Token returns the cached token, or fetches one when none is cached or it expires within
// the early margin. Concurrent callers wait for a single fetch.
func (c *tokenCache) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && (c.tok.Expiry.IsZero() || c.now().Add(c.early).Before(c.tok.Expiry)) {
		return c.tok, nil
	}
	tok, err := c.src.Token()
	if err != nil {
		return nil, err
	}
	c.tok = tok
	return tok, nil
}

// drop forgets the cached token if it is still the refused one; a concurrent call that
// has already replaced it keeps the new token, so a burst of 401s causes one fetch.
func (c *tokenCache) drop(refused string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.tok.AccessToken == refused {
		c.tok = nil
	}
}

// retryUnauthorized is the admin calls' transport: when Keycloak answers 401 to a request
// carrying a bearer token, it drops that token, fetches a fresh one and sends the request
// again, once. A second 401 is returned as it is (ErrUnauthorized to the caller): the
// credentials or roles are really wrong, and looping would only hammer Keycloak.
// A 403 is never retried: a fresh token carries the same roles.
type retryUnauthorized struct {
	next   http.RoundTripper
	tokens *tokenCache
}

func (t *retryUnauthorized) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	refused, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return resp, nil // not ours to renew, or the body cannot be sent twice
	}
	t.tokens.drop(refused)
	fresh, terr := t.tokens.Token()
	if terr != nil || fresh.AccessToken == refused {
		return resp, nil // the caller sees the original 401
	}
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		body, berr := req.GetBody()
		if berr != nil {
			return resp, nil
		}
		again.Body = body
	}
	again.Header.Set("Authorization", "Bearer "+fresh.AccessToken)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return t.next.RoundTrip(again)
}

// withoutRedirects returns a copy of hc that never follows a redirect. Why: the token
// request carries the client secret in its body, which Go's client sends again on a 307 or
// 308 to whatever host the Location names, and admin calls carry the admin token. A
// Keycloak URL that redirects (a misconfigured proxy, a wrong KEYCLOAK_URL) must fail
// visibly, not hand credentials on. The caller's client is left as it is.
func withoutRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
