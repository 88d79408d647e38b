package bridge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge/storetest"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

const (
	linkEarnToken = "aaa.bbb.ccc"
	linkOrigin    = "https://publisher.test"
	linkReturn    = "https://publisher.test/welcome"
	linkEmail     = "alyssa.p.hacker@bonbon.tech"
)

// linkBonbon answers EarnUser for linkEarnToken only.
type linkBonbon struct{ user bonbon.User }

func (f linkBonbon) EarnUser(_ context.Context, tok string) (bonbon.User, error) {
	if tok != linkEarnToken {
		return bonbon.User{}, &bonbon.APIError{Status: http.StatusUnauthorized}
	}
	return f.user, nil
}

func linkBonbonUser() bonbon.User {
	return bonbon.User{ID: "12345", Email: linkEmail, EmailVerified: true, FirstName: "Alyssa",
		LastName: "P. Hacker", Fields: map[string]string{"postal": "90403"}}
}

// linkEnv is a bridge with the link flow on, a fake OP, the fake store with the email's
// account (marked as the webhook marks it), and a browser.
type linkEnv struct {
	store  *storetest.Fake
	op     *linkOP
	bridge *httptest.Server
	holder string
	jar    *cookiejar.Jar
	client *http.Client
}

func newLinkEnv(t *testing.T, user bonbon.User) *linkEnv {
	t.Helper()
	e := &linkEnv{store: storetest.NewFake(), op: newLinkOP(t)}
	var err error
	e.holder, err = e.store.Seed(keycloak.User{Username: "alyssa", Email: linkEmail,
		EmailVerified: true, Attributes: map[string][]string{
			mapping.PendingLinkAttribute: {"12345"}, "kept": {"yes"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.op.Sub = e.holder
	var h http.Handler
	e.bridge = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.bridge.Close)
	srv, err := bridge.New(bridge.Config{
		Users: e.store, Bonbon: linkBonbon{user},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Link: &bridge.LinkConfig{
			PublicURL: e.bridge.URL, ReturnURL: linkReturn, AllowedOrigins: []string{linkOrigin},
			CookieKeys: [][]byte{make([]byte, 32)}, Issuer: e.op.URL(),
			AuthURL: e.op.URL() + "/auth", TokenURL: e.op.URL() + "/token",
			JWKSURL: e.op.URL() + "/certs", ClientID: "bonbon-bridge", ClientSecret: "s",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h = srv.Handler()
	e.jar, _ = cookiejar.New(nil)
	e.client = &http.Client{Jar: e.jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return e
}

type linkReply struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (e *linkEnv) do(t *testing.T, req *http.Request) linkReply {
	t.Helper()
	req.Header.Set("Accept", "text/html")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return linkReply{resp.StatusCode, resp.Header.Get("Location"), string(b), resp.Header}
}

func (e *linkEnv) get(t *testing.T, u string) linkReply {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return e.do(t, req)
}

func (e *linkEnv) start(t *testing.T, origin string) linkReply {
	req, _ := http.NewRequest(http.MethodPost, e.bridge.URL+"/link/start",
		strings.NewReader(url.Values{"earn_token": {linkEarnToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return e.do(t, req)
}

// callbackURL starts and logs in at the fake OP; it returns the callback URL and the
// attempt cookie.
func (e *linkEnv) callbackURL(t *testing.T) (string, *http.Cookie) {
	t.Helper()
	r := e.start(t, linkOrigin)
	if r.status != http.StatusSeeOther {
		t.Fatalf("start = %d: %s", r.status, r.body)
	}
	u, _ := url.Parse(e.bridge.URL + "/link/callback")
	cookies := e.jar.Cookies(u)
	if len(cookies) != 1 {
		t.Fatalf("attempt cookies = %v, want one", cookies)
	}
	r = e.get(t, r.location)
	return r.location, cookies[0]
}

var linkCodeOf = regexp.MustCompile(`name="bonbon-error" content="([^"]*)"`)

func linkPageCode(r linkReply) string {
	if m := linkCodeOf.FindStringSubmatch(r.body); m != nil {
		return m[1]
	}
	return ""
}

func TestLinkFlowLinksAndIsSingleUse(t *testing.T) {
	e := newLinkEnv(t, linkBonbonUser())
	callback, cookie := e.callbackURL(t)
	r := e.get(t, callback)
	if r.status != http.StatusSeeOther || r.location != linkReturn {
		t.Fatalf("callback = %d to %q: %s", r.status, r.location, r.body)
	}
	if !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("callback did not clear the attempt cookie: %q", r.header.Get("Set-Cookie"))
	}
	u, err := e.store.FindByLink(context.Background(), "12345")
	if err != nil || u.ID != e.holder {
		t.Fatalf("FindByLink() = %q, %v; want %s", u.ID, err, e.holder)
	}
	if _, marked := u.Attributes[mapping.PendingLinkAttribute]; marked {
		t.Error("pending-link marker not cleared")
	}
	if u.Attributes["bonbon_postal"][0] != "90403" || u.Attributes["kept"][0] != "yes" ||
		u.FirstName != "Alyssa" {
		t.Errorf("profile not applied or foreign attribute lost: %+v", u)
	}

	// Single use: the same callback and cookie again are refused with a page.
	bridgeURL, _ := url.Parse(e.bridge.URL + "/link/")
	e.jar.SetCookies(bridgeURL, []*http.Cookie{cookie})
	r = e.get(t, callback)
	if r.status != http.StatusConflict || linkPageCode(r) != "link_already_completed" {
		t.Errorf("replay = %d %q, want 409 link_already_completed", r.status, linkPageCode(r))
	}
	if n := e.store.Calls["Link"]; n != 1 {
		t.Errorf("Link called %d times, want 1", n)
	}
}

// TestLinkFlowRefusesTokens changes one claim of the ID token at a time.
func TestLinkFlowRefusesTokens(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(jwt.MapClaims)
		want  string
	}{
		{"audience is another client", func(c jwt.MapClaims) { c["aud"] = "other-app" },
			"login_rejected"},
		{"another issuer", func(c jwt.MapClaims) { c["iss"] = "https://evil.test" },
			"login_rejected"},
		{"expired", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() },
			"login_rejected"},
		{"nonce of another attempt", func(c jwt.MapClaims) { c["nonce"] = "x" }, "login_rejected"},
		{"no nonce", func(c jwt.MapClaims) { delete(c, "nonce") }, "login_rejected"},
		{"azp is another client", func(c jwt.MapClaims) { c["azp"] = "other-app" },
			"login_rejected"},
		{"an access token", func(c jwt.MapClaims) { c["typ"] = "Bearer" }, "login_rejected"},
		{"auth_time before the attempt", func(c jwt.MapClaims) {
			c["auth_time"] = time.Now().Add(-time.Hour).Unix()
		}, "login_not_fresh"},
		{"no auth_time", func(c jwt.MapClaims) { delete(c, "auth_time") }, "login_not_fresh"},
		{"another account logged in", func(c jwt.MapClaims) { c["sub"] = "someone-else" },
			"wrong_account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLinkEnv(t, linkBonbonUser())
			e.op.Tweak = tt.tweak
			callback, _ := e.callbackURL(t)
			r := e.get(t, callback)
			if linkPageCode(r) != tt.want || r.status < 400 || r.status >= 500 {
				t.Errorf("callback = %d %q, want 4xx %q", r.status, linkPageCode(r), tt.want)
			}
			if n := e.store.Calls["Link"]; n != 0 {
				t.Errorf("Link called %d times, want 0", n)
			}
		})
	}
}

func TestLinkFlowRefusesRequests(t *testing.T) {
	unverified := linkBonbonUser()
	unverified.EmailVerified = false
	tests := []struct {
		name   string
		user   bonbon.User
		origin string
		change func(t *testing.T, e *linkEnv, callback string) string
		want   string
	}{
		{"origin not allowed", linkBonbonUser(), "https://evil.test", nil, "origin_not_allowed"},
		{"Bonbon email unverified", unverified, linkOrigin, nil, "bonbon_email_unverified"},
		{"state of another attempt", linkBonbonUser(), linkOrigin,
			func(t *testing.T, _ *linkEnv, cb string) string {
				return strings.Replace(cb, "state=", "state=x", 1)
			}, "link_state_mismatch"},
		{"Keycloak answered an error", linkBonbonUser(), linkOrigin,
			func(t *testing.T, _ *linkEnv, cb string) string {
				u, _ := url.Parse(cb)
				q := u.Query()
				q.Del("code")
				q.Set("error", "access_denied")
				u.RawQuery = q.Encode()
				return u.String()
			}, "login_not_completed"},
		{"Bonbon id linked to another account meanwhile", linkBonbonUser(), linkOrigin,
			func(t *testing.T, e *linkEnv, cb string) string {
				id, _ := e.store.Create(context.Background(), keycloak.User{Username: "x",
					Email: "x@example.com"}, "12345")
				_ = id
				return cb
			}, "bonbon_linked_elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLinkEnv(t, tt.user)
			var r linkReply
			if tt.change == nil {
				r = e.start(t, tt.origin)
			} else {
				cb, _ := e.callbackURL(t)
				r = e.get(t, tt.change(t, e, cb))
			}
			if linkPageCode(r) != tt.want || r.status < 400 || r.status >= 500 {
				t.Errorf("answer = %d %q, want 4xx %q: %s", r.status, linkPageCode(r), tt.want,
					r.body)
			}
			if n := e.store.Calls["Link"]; n != 0 {
				t.Errorf("Link called %d times, want 0", n)
			}
		})
	}
}

func TestLinkScriptNamesTheBridge(t *testing.T) {
	e := newLinkEnv(t, linkBonbonUser())
	r := e.get(t, e.bridge.URL+"/link/script.js")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"`+e.bridge.URL+`"`) ||
		!strings.Contains(r.body, "bonbon::login") {
		t.Errorf("script = %d: %.200s", r.status, r.body)
	}
}
