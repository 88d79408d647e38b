package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
)

// idtClientID is the publisher's public client, created by the tests (see
// idtPublicClient): provisioning does not make one.
const idtClientID = "shop-web"

// idtEnv turns Flow 3 on for the stack.
func idtEnv(extra map[string]string) map[string]string {
	env := map[string]string{"BRIDGE_IDTOKEN_CLIENTS": idtClientID}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// idtPublicClient creates the realm's public client a publisher's page logs in through:
// authorization code with PKCE (S256) only, redirect URIs under redirectBase, CORS for
// the same origins ("+"), logout back to them.
func idtPublicClient(t *testing.T, r *realm, redirectBase string) {
	t.Helper()
	_, err := r.Admin.CreateClient(context.Background(), r.token(t), r.Name, gocloak.Client{
		ClientID: gocloak.StringP(idtClientID), Name: gocloak.StringP("Publisher site"),
		PublicClient: gocloak.BoolP(true), StandardFlowEnabled: gocloak.BoolP(true),
		DirectAccessGrantsEnabled: gocloak.BoolP(false),
		ImplicitFlowEnabled:       gocloak.BoolP(false),
		RedirectURIs:              &[]string{redirectBase + "*"},
		WebOrigins:                &[]string{"+"},
		Attributes: &map[string]string{
			"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+",
		},
	})
	if err != nil {
		t.Fatalf("create public client: %v", err)
	}
}

// idtUser creates a user who can log in with a password and returns its id.
func idtUser(t *testing.T, r *realm, username string) string {
	t.Helper()
	email := username + "@shop.test"
	id := r.seedUser(t, gocloak.User{
		Username: &username, Email: &email, EmailVerified: gocloak.BoolP(true),
		FirstName: gocloak.StringP("Ben"), LastName: gocloak.StringP("Bitdiddle"),
	})
	idtSetPassword(t, r, id, idtPassword(username))
	return id
}

func idtPassword(username string) string { return "pw-" + username + "-Secret1" }

func idtSetPassword(t *testing.T, r *realm, userID, password string) {
	t.Helper()
	err := r.Admin.SetPassword(context.Background(), r.token(t), userID, r.Name, password, false)
	if err != nil {
		t.Fatalf("set password: %v", err)
	}
}

// idtLinkedSample delivers the webhook for the document's sample user (created in the
// realm, linked to Bonbon id sampleID), gives it a password and returns its id and username.
func idtLinkedSample(t *testing.T, r *realm, st *stack) (id, username string) {
	t.Helper()
	a := st.deliver(t, sampleID)
	if a.Status != http.StatusOK {
		t.Fatalf("webhook: %d %v", a.Status, a.Body)
	}
	id, _ = a.Body["user_id"].(string)
	u, err := r.Admin.GetUserByID(context.Background(), r.token(t), r.Name, id)
	if err != nil {
		t.Fatal(err)
	}
	username = gocloak.PString(u.Username)
	idtSetPassword(t, r, id, idtPassword(username))
	return id, username
}

var idtFormAction = regexp.MustCompile(`<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"`)

// idtLogin logs in as a browser does: authorization code with PKCE through Keycloak's
// real login form, a cookie jar, no password grant. It returns the token endpoint's answer.
func idtLogin(t *testing.T, kcURL, realmName, username string) idtTokens {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	const redirect = "http://127.0.0.1:1/publisher/"
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirect) {
				return http.ErrUseLastResponse // the page would take over here
			}
			return nil
		}}
	oidcBase := kcURL + "/realms/" + realmName + "/protocol/openid-connect"
	verifier := randomHex(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {idtClientID}, "redirect_uri": {redirect},
		"response_type": {"code"}, "scope": {"openid email profile"}, "state": {randomHex(8)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}

	// The login page, then the form posted with the password.
	body := idtRead(t, c, http.MethodGet, oidcBase+"/auth?"+q.Encode(), nil)
	m := idtFormAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no login form on Keycloak's page:\n%.2000s", body)
	}
	form := url.Values{"username": {username}, "password": {idtPassword(username)}}
	resp, err := c.PostForm(html.UnescapeString(m[1]), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("login answered %d to %q, no code", resp.StatusCode, loc)
	}

	// The code for tokens, as the page's script does.
	tok := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirect}, "client_id": {idtClientID}, "code_verifier": {verifier}}
	var out idtTokens
	raw := idtRead(t, c, http.MethodPost, oidcBase+"/token", tok)
	if err := json.Unmarshal([]byte(raw), &out); err != nil || out.Access == "" {
		t.Fatalf("token answer: %v %.500s", err, raw)
	}
	return out
}

type idtTokens struct {
	Access  string `json:"access_token"`
	ID      string `json:"id_token"`
	Refresh string `json:"refresh_token"`
}

func idtRead(t *testing.T, c *http.Client, method, u string, form url.Values) string {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %.1000s", method, u, resp.StatusCode, b)
	}
	return string(b)
}

// idtAnswer is the bridge's answer to GET /bonbon/id-token.
type idtAnswer struct {
	Status    int
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
	Error     string `json:"error"`
	Message   string `json:"message"`
}

func (st *stack) idToken(t *testing.T, accessToken string) idtAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, st.BridgeURL+"/bonbon/id-token", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := idtAnswer{Status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
	}
	return a
}

// idtMinted asks the simulator, as bonbon.js does, whether it minted tok, and for whom.
func (st *stack) idtMinted(t *testing.T, tok string) (valid bool, sub, bonbonID string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"command": "signal", "name": "loggedIn",
		"token": tok})
	resp, err := http.Post(st.SimURL+"/_sim/signals", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sigs := st.Sim.Signals()
	last := sigs[len(sigs)-1]
	return last.Valid, last.Sub, last.BonbonID
}

func (st *stack) jwtCalls(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(st.SimURL + "/_sim/hits")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hits map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&hits); err != nil {
		t.Fatal(err)
	}
	return hits["/jwt"]
}

func TestIDTokenRealLogin(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{Env: idtEnv(nil)})
	idtPublicClient(t, r, "http://127.0.0.1:1/publisher/")
	linkedID, linkedName := idtLinkedSample(t, r, st)
	plainID := idtUser(t, r, "ben")

	tests := []struct {
		name, username, wantSub, wantBonbonID string
	}{
		{"linked user carries the Bonbon id", linkedName, linkedID, sampleID},
		{"unlinked user", "ben", plainID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			access := idtLogin(t, server.URL, r.Name, tt.username).Access
			before := st.jwtCalls(t)
			a := st.idToken(t, access)
			if a.Status != http.StatusOK || a.Token == "" {
				t.Fatalf("GET /bonbon/id-token: %d %s %s", a.Status, a.Error, a.Message)
			}
			if exp, err := time.Parse(time.RFC3339, a.ExpiresAt); err != nil ||
				time.Until(exp) < 30*time.Minute {
				t.Errorf("expires_at %q (%v): want the simulator's hour", a.ExpiresAt, err)
			}
			valid, sub, bonbonID := st.idtMinted(t, a.Token)
			if !valid || sub != tt.wantSub || bonbonID != tt.wantBonbonID {
				t.Errorf("simulator: valid=%v sub=%q bonbon_id=%q, want %q %q", valid, sub,
					bonbonID, tt.wantSub, tt.wantBonbonID)
			}

			// The same user again: served from the cache, no Bonbon call.
			again := st.idToken(t, access)
			if again.Status != http.StatusOK || again.Token != a.Token {
				t.Errorf("second request: %d, same token %v", again.Status, again.Token == a.Token)
			}
			if n := st.jwtCalls(t) - before; n != 1 {
				t.Errorf("%d Bonbon /jwt calls for two requests, want 1", n)
			}
		})
	}
	t.Run("ID token offered instead", func(t *testing.T) {
		a := st.idToken(t, idtLogin(t, server.URL, r.Name, "ben").ID)
		if a.Status != http.StatusUnauthorized || a.Error != "invalid_access_token" {
			t.Errorf("got %d %s, want 401 invalid_access_token", a.Status, a.Error)
		}
	})
}

func TestIDTokenKeyRotation(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{Env: idtEnv(nil)})
	idtPublicClient(t, r, "http://127.0.0.1:1/publisher/")
	idtUser(t, r, "ben")

	// The bridge learns the realm's first key.
	first := idtLogin(t, server.URL, r.Name, "ben").Access
	if a := st.idToken(t, first); a.Status != http.StatusOK {
		t.Fatalf("before rotation: %d %s", a.Status, a.Message)
	}

	// Rotate: a new active key with a higher priority, the old ones disabled.
	idtRotateKeys(t, r)
	second := idtLogin(t, server.URL, r.Name, "ben").Access
	if idtKid(t, first) == idtKid(t, second) {
		t.Fatal("the realm still signs with the old key")
	}
	if a := st.idToken(t, second); a.Status != http.StatusOK {
		t.Errorf("after rotation, without restart: %d %s %s", a.Status, a.Error, a.Message)
	}
}

// idtRotateKeys adds an RSA key provider and disables the realm's existing signing ones.
func idtRotateKeys(t *testing.T, r *realm) {
	t.Helper()
	ctx, tok := context.Background(), r.token(t)
	comps, err := r.Admin.GetComponents(ctx, tok, r.Name)
	if err != nil {
		t.Fatal(err)
	}
	realmRep, err := r.Admin.GetRealm(ctx, tok, r.Name)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Admin.CreateComponent(ctx, tok, r.Name, gocloak.Component{
		Name: gocloak.StringP("rotated-rsa"), ProviderID: gocloak.StringP("rsa-generated"),
		ProviderType: gocloak.StringP("org.keycloak.keys.KeyProvider"), ParentID: realmRep.ID,
		ComponentConfig: &map[string][]string{"priority": {"500"}, "algorithm": {"RS256"},
			"active": {"true"}, "enabled": {"true"}},
	})
	if err != nil {
		t.Fatalf("add key: %v", err)
	}
	for _, c := range comps {
		if gocloak.PString(c.ProviderID) != "rsa-generated" {
			continue
		}
		cfg := map[string][]string{}
		if c.ComponentConfig != nil {
			cfg = *c.ComponentConfig
		}
		cfg["active"], cfg["enabled"] = []string{"false"}, []string{"false"}
		c.ComponentConfig = &cfg
		if err := r.Admin.UpdateComponent(ctx, tok, r.Name, *c); err != nil {
			t.Fatalf("disable old key: %v", err)
		}
	}
}

func idtKid(t *testing.T, jwt string) string {
	t.Helper()
	head, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(head, &h)
	return h.Kid
}

// TestIDTokenPublicIssuerDiffersFromInternalURL runs the bridge as in a compose network:
// it reaches Keycloak through another URL (a proxy here) than the one browsers use, which
// is the issuer in the tokens.
func TestIDTokenPublicIssuerDiffersFromInternalURL(t *testing.T) {
	r := newRealm(t)
	target, _ := url.Parse(server.URL)
	var certs atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		if strings.HasSuffix(q.URL.Path, "/protocol/openid-connect/certs") {
			certs.Add(1)
		}
		proxy.ServeHTTP(w, q)
	}))
	t.Cleanup(internal.Close)
	idtPublicClient(t, r, "http://127.0.0.1:1/publisher/")
	idtUser(t, r, "ben")
	access := idtLogin(t, server.URL, r.Name, "ben").Access

	tests := []struct {
		name       string
		env        map[string]string
		wantStatus int
	}{
		{"public URL configured", map[string]string{"KEYCLOAK_PUBLIC_URL": server.URL}, 200},
		{"issuer taken from the internal URL", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStack(t, r, stackOptions{KeycloakURL: internal.URL, Env: idtEnv(tt.env)})
			certs.Store(0)
			a := st.idToken(t, access)
			if a.Status != tt.wantStatus {
				t.Fatalf("got %d %s %s, want %d", a.Status, a.Error, a.Message, tt.wantStatus)
			}
			if tt.wantStatus == 200 && certs.Load() == 0 {
				t.Error("the keys were not fetched through the internal URL")
			}
		})
	}
}

// TestIDTokenEndsWithKeycloakSession: a user who logged out keeps nothing. The access
// token they hold stays a valid JWT until it expires (Keycloak does not revoke JWTs, and
// the bridge does not introspect), but no request after that gets a token, and the page
// cannot get a new access token from the ended session.
func TestIDTokenEndsWithKeycloakSession(t *testing.T) {
	r := newRealm(t)
	const lifespan = 6 * time.Second
	ctx := context.Background()
	rep, err := r.Admin.GetRealm(ctx, r.token(t), r.Name)
	if err != nil {
		t.Fatal(err)
	}
	rep.AccessTokenLifespan = gocloak.IntP(int(lifespan.Seconds()))
	if err := r.Admin.UpdateRealm(ctx, r.token(t), *rep); err != nil {
		t.Fatal(err)
	}
	st := newStack(t, r, stackOptions{Env: idtEnv(nil)})
	idtPublicClient(t, r, "http://127.0.0.1:1/publisher/")
	id := idtUser(t, r, "ben")
	toks := idtLogin(t, server.URL, r.Name, "ben")
	if a := st.idToken(t, toks.Access); a.Status != http.StatusOK {
		t.Fatalf("while logged in: %d %s", a.Status, a.Message)
	}

	// The user logs out: Keycloak ends every session of theirs.
	if err := r.Admin.LogoutAllSessions(ctx, r.token(t), r.Name, id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(lifespan + 1500*time.Millisecond)

	a := st.idToken(t, toks.Access)
	if a.Status != http.StatusUnauthorized || !strings.Contains(a.Message, "expired") {
		t.Errorf("after logout and expiry: %d %s, want 401 expired", a.Status, a.Message)
	}
	resp, err := http.PostForm(server.URL+"/realms/"+r.Name+"/protocol/openid-connect/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {toks.Refresh},
			"client_id": {idtClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("refresh after logout: %d, want 400 (session ended)", resp.StatusCode)
	}
}
