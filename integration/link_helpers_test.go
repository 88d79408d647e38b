package integration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// sampleID and sampleEmail are the document's sample user at the simulator.
const sampleID, sampleEmail = "12345", "alyssa.p.hacker@bonbon.tech"

// linkRig is a realm and a bridge with the step-up link on, plus the publisher's page
// (the return URL and the allowed origin).
type linkRig struct {
	R         *realm
	St        *stack
	Publisher *httptest.Server
	ReturnURL string
	// page, when set, is what the publisher serves on every path.
	page atomic.Pointer[string]
}

// newLinkRig reserves the bridge's port first, so its public URL is known before it starts
// and the realm's client allows that callback (as provision does for BRIDGE_PUBLIC_URL).
func newLinkRig(t *testing.T, env map[string]string) *linkRig {
	t.Helper()
	r := newRealm(t)
	ln := reserveListener(t)
	addr := ln.Addr().String()
	public := "http://" + addr
	pc := provisionConfig(t, r.Name, r.ClientSecret)
	pc.RedirectURIs = []string{public + "/link/callback"}
	if err := keycloak.Provision(context.Background(), pc); err != nil {
		t.Fatalf("provision redirect URI: %v", err)
	}
	rig := &linkRig{R: r}
	pub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		page := "<!doctype html><title>Publisher</title><h1>Welcome back</h1>"
		if p := rig.page.Load(); p != nil {
			page = *p
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(pub.Close)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	all := map[string]string{
		"BRIDGE_ADDR": addr, "BRIDGE_PUBLIC_URL": public,
		"BRIDGE_LINK_RETURN_URL": pub.URL + "/welcome", "BRIDGE_ALLOWED_ORIGINS": pub.URL,
		"BRIDGE_COOKIE_KEY": base64.StdEncoding.EncodeToString(key), "BRIDGE_LINK_CLOCK_SKEW": "1s",
	}
	for k, v := range env {
		all[k] = v
	}
	rig.St = newStack(t, r, stackOptions{Env: all, Listener: ln})
	rig.Publisher, rig.ReturnURL = pub, pub.URL+"/welcome"
	return rig
}

// reserveListener opens the bridge's loopback listener before the bridge exists, so its
// address can go into the redirect URI without another process taking the port meanwhile.
func reserveListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// seedAccount creates an enabled account with a password, as a publisher's user has.
func (rig *linkRig) seedAccount(t *testing.T, username, email string, verified bool) string {
	t.Helper()
	id := rig.R.seedUser(t, gocloak.User{
		Username: &username, Email: &email, EmailVerified: &verified,
		FirstName: gocloak.StringP("Existing"), LastName: gocloak.StringP("Account"),
	})
	err := rig.R.Admin.SetPassword(context.Background(), rig.R.token(t), id, rig.R.Name,
		passwordOf(username), false)
	if err != nil {
		t.Fatalf("set password: %v", err)
	}
	return id
}

func passwordOf(username string) string { return "pw-" + username + "-Secret1" }

// earnToken is a fresh earn token for the sample user.
func (rig *linkRig) earnToken(t *testing.T) string {
	t.Helper()
	tok, err := rig.St.Sim.IssueEarnToken(sampleID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// assertNoLink reads Keycloak back: no account is linked to the Bonbon id, and none of
// the given accounts has a Bonbon link.
func (rig *linkRig) assertNoLink(t *testing.T, bonbonID string, userIDs ...string) {
	t.Helper()
	us, err := rig.R.Admin.GetUsers(context.Background(), rig.R.token(t), rig.R.Name,
		gocloak.GetUsersParams{IDPAlias: gocloak.StringP("bonbon"), IDPUserID: &bonbonID})
	if err != nil {
		t.Fatalf("find by link: %v", err)
	}
	if len(us) != 0 {
		t.Errorf("%d account(s) linked to Bonbon id %s, want none", len(us), bonbonID)
	}
	for _, id := range userIDs {
		if l := rig.R.links(t, id); len(l) != 0 {
			t.Errorf("account %s has links %v, want none", id, l)
		}
	}
}

// browser is an HTTP client with a cookie jar that does not follow redirects, so each
// step of the flow can be looked at.
type browser struct {
	t   *testing.T
	jar *cookiejar.Jar
	c   *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, jar: jar, c: &http.Client{
		Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// page is one answer, body read.
type page struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return page{resp.StatusCode, resp.Header.Get("Location"), resp.Header, string(body)}
}

func (b *browser) get(rawURL string) page {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) postForm(rawURL, origin string, form url.Values) page {
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

// start submits the earn token as the publisher's page does and returns the answer.
func (b *browser) start(rig *linkRig, earnToken string) page {
	return b.postForm(rig.St.BridgeURL+"/link/start", rig.Publisher.URL,
		url.Values{"earn_token": {earnToken}})
}

// startOK starts and returns Keycloak's authorization URL.
func (b *browser) startOK(rig *linkRig, earnToken string) string {
	b.t.Helper()
	p := b.start(rig, earnToken)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, server.URL) {
		b.t.Fatalf("start = %d to %q, want 303 to Keycloak; body %s", p.Status, p.Location, p.Body)
	}
	return p.Location
}

var loginForm = regexp.MustCompile(`(?s)<form[^>]*\bid="kc-form-login"[^>]*>`)
var formAction = regexp.MustCompile(`\baction="([^"]*)"`)

// login opens Keycloak's login page, submits its real form and returns the callback URL
// Keycloak redirects to.
func (b *browser) login(authURL, username, password string) string {
	b.t.Helper()
	p := b.get(authURL)
	if p.Status == http.StatusFound || p.Status == http.StatusSeeOther {
		return p.Location // an SSO session answered without a login page
	}
	form := loginForm.FindString(p.Body)
	m := formAction.FindStringSubmatch(form)
	if p.Status != http.StatusOK || m == nil {
		b.t.Fatalf("no login form at Keycloak (%d): %.300s", p.Status, p.Body)
	}
	action := html.UnescapeString(m[1])
	p = b.postForm(action, "", url.Values{"username": {username}, "password": {password},
		"credentialId": {""}})
	if p.Status != http.StatusFound || !strings.Contains(p.Location, "/link/callback") {
		b.t.Fatalf("login answered %d to %q, want a redirect to the callback: %.300s",
			p.Status, p.Location, p.Body)
	}
	return p.Location
}

// attemptCookie is the bridge's attempt cookie as the jar holds it ("" when none).
func (b *browser) attemptCookie(rig *linkRig) string {
	u, _ := url.Parse(rig.St.BridgeURL + "/link/callback")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "bonbon_link_attempt" {
			return c.Value
		}
	}
	return ""
}

// setAttemptCookie replaces the jar's attempt cookie.
func (b *browser) setAttemptCookie(rig *linkRig, value string) {
	u, _ := url.Parse(rig.St.BridgeURL + "/link/")
	b.jar.SetCookies(u, []*http.Cookie{{Name: "bonbon_link_attempt", Value: value,
		Path: "/link/", Secure: true, HttpOnly: true}})
}

var errorMeta = regexp.MustCompile(`<meta name="bonbon-error" content="([^"]*)">`)

// errorCode is the code an error page names in its meta tag.
func errorCode(p page) string {
	m := errorMeta.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return m[1]
}

// assertRefused checks a clear error page (not a 5xx) with the given code.
func assertRefused(t *testing.T, p page, status int, code string) {
	t.Helper()
	if p.Status != status || errorCode(p) != code {
		t.Errorf("answer = %d %q, want %d %q; body: %.400s", p.Status, errorCode(p), status, code,
			p.Body)
	}
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		t.Errorf("error answer is %q, want an HTML page", p.Header.Get("Content-Type"))
	}
}

// queryParam reads one parameter of a URL.
func queryParam(t *testing.T, rawURL, name string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(name)
}

// withParam returns rawURL with one query parameter replaced (or removed when v is "").
func withParam(t *testing.T, rawURL, name, v string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if v == "" {
		q.Del(name)
	} else {
		q.Set(name, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
