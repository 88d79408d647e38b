package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// TestLinkHappyPath is the story: webhook marks the conflict, the page starts the
// flow, the owner logs in, the bridge links, applies the profile, clears the marker and
// returns to the publisher; the next webhook is a plain update.
func TestLinkHappyPath(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)

	// The webhook finds the email taken and only marks the account.
	if a := rig.St.deliver(t, sampleID); a.Status != http.StatusAccepted {
		t.Fatalf("webhook = %d %v, want 202 link_required", a.Status, a.Body)
	}
	if !rig.checkRequired(t) {
		t.Fatal("/link/check says no link is required before the link")
	}

	// The page starts the flow; the owner logs in with the account's password.
	b := newBrowser(t)
	earn := rig.earnToken(t)
	authURL := b.startOK(rig, earn)
	cookie := b.attemptCookie(rig)
	for name, want := range map[string]string{"prompt": "login", "max_age": "0",
		"login_hint": sampleEmail, "code_challenge_method": "S256"} {
		if got := queryParam(t, authURL, name); got != want {
			t.Errorf("authorization URL %s = %q, want %q", name, got, want)
		}
	}
	callback := b.login(authURL, "alyssa", passwordOf("alyssa"))
	p := b.get(callback)

	// Back at the publisher's page, linked, profile applied, marker gone.
	if p.Status != http.StatusSeeOther || p.Location != rig.ReturnURL {
		t.Fatalf("callback = %d to %q, want 303 to %s: %.400s", p.Status, p.Location,
			rig.ReturnURL, p.Body)
	}
	if c := b.attemptCookie(rig); c != "" {
		t.Errorf("attempt cookie still set after the callback")
	}
	if l := rig.R.links(t, holder); l["bonbon"] != sampleID {
		t.Fatalf("links = %v, want bonbon → %s", l, sampleID)
	}
	u := onlyUserByID(t, rig.R, holder)
	assertAttrs(t, u, sampleAttributes)
	if _, marked := (*u.Attributes)[mapping.PendingLinkAttribute]; marked {
		t.Errorf("pending-link marker still set: %v", *u.Attributes)
	}
	if gocloak.PString(u.FirstName) != "Alyssa" || gocloak.PString(u.LastName) != "P. Hacker" {
		t.Errorf("names = %q %q, want Bonbon's", gocloak.PString(u.FirstName),
			gocloak.PString(u.LastName))
	}

	// The next webhook is a plain update of the linked account.
	if a := rig.St.deliver(t, sampleID); a.Status != http.StatusOK || a.Body["user_id"] != holder {
		t.Errorf("webhook after link = %d %v, want 200 for %s", a.Status, a.Body, holder)
	}
	if rig.checkRequired(t) {
		t.Error("/link/check still says a link is required")
	}

	// Decisions are logged with ids; no token, code, cookie, password or full email.
	logs := logSink.String()
	for what, secret := range map[string]string{"earn token": earn, "attempt cookie": cookie,
		"code": queryParam(t, callback, "code"), "password": passwordOf("alyssa"),
		"email": sampleEmail} {
		if strings.Contains(logs, secret) {
			t.Errorf("the bridge logged the %s", what)
		}
	}
	if !strings.Contains(logs, `"msg":"link completed"`) {
		t.Error("no 'link completed' log line")
	}
}

func TestLinkReplayedCallbackIsRefused(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	b := newBrowser(t)
	authURL := b.startOK(rig, rig.earnToken(t))
	callback := b.login(authURL, "alyssa", passwordOf("alyssa"))
	cookie := b.attemptCookie(rig)
	if p := b.get(callback); p.Status != http.StatusSeeOther {
		t.Fatalf("first callback = %d: %.300s", p.Status, p.Body)
	}

	// The same callback with the same cookie (an attacker who copied both) links nothing.
	b.setAttemptCookie(rig, cookie)
	assertRefused(t, b.get(callback), http.StatusConflict, "link_already_completed")
	// Without the cookie (the browser cleared it) the answer is clear too.
	assertRefused(t, b.get(callback), http.StatusBadRequest, "link_attempt_missing")
	rig.assertOneLink(t, holder)
}

func TestLinkWrongUserLogsIn(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	other := rig.seedAccount(t, "ben", "ben.bitdiddle@example.com", true)
	b := newBrowser(t)
	authURL := b.startOK(rig, rig.earnToken(t))
	p := b.get(b.login(authURL, "ben", passwordOf("ben")))
	assertRefused(t, p, http.StatusForbidden, "wrong_account")
	rig.assertNoLink(t, sampleID, holder, other)
}

func TestLinkExpiredState(t *testing.T) {
	rig := newLinkRig(t, map[string]string{"BRIDGE_LINK_TTL": "2s"})
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	b := newBrowser(t)
	authURL := b.startOK(rig, rig.earnToken(t))
	cookie := b.attemptCookie(rig)
	callback := b.login(authURL, "alyssa", passwordOf("alyssa"))
	time.Sleep(2500 * time.Millisecond)
	// The jar has dropped the cookie (Max-Age); send it anyway, as a replaying client would.
	b.setAttemptCookie(rig, cookie)
	assertRefused(t, b.get(callback), http.StatusBadRequest, "link_attempt_expired")
	rig.assertNoLink(t, sampleID, holder)
}

func TestLinkTamperedCookie(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	b := newBrowser(t)
	authURL := b.startOK(rig, rig.earnToken(t))
	callback := b.login(authURL, "alyssa", passwordOf("alyssa"))
	cookie := []byte(b.attemptCookie(rig))
	i := len(cookie) / 2
	cookie[i] = map[bool]byte{true: 'B', false: 'A'}[cookie[i] == 'A']
	b.setAttemptCookie(rig, string(cookie))
	assertRefused(t, b.get(callback), http.StatusBadRequest, "link_attempt_invalid")
	rig.assertNoLink(t, sampleID, holder)
}

// TestLinkMismatchedPKCEVerifier injects a code obtained for one attempt into another
// attempt of the same browser: the state matches, the PKCE verifier does not.
func TestLinkMismatchedPKCEVerifier(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	b := newBrowser(t)
	first := b.startOK(rig, rig.earnToken(t))
	second := b.startOK(rig, rig.earnToken(t)) // its cookie replaces the first's
	callback := b.login(first, "alyssa", passwordOf("alyssa"))
	callback = withParam(t, callback, "state", queryParam(t, second, "state"))
	assertRefused(t, b.get(callback), http.StatusBadRequest, "login_rejected")
	rig.assertNoLink(t, sampleID, holder)
}

func TestLinkStateFromAnotherBrowser(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	victim, attacker := newBrowser(t), newBrowser(t)
	callback := attacker.login(attacker.startOK(rig, rig.earnToken(t)), "alyssa",
		passwordOf("alyssa"))

	// The victim's browser has an attempt of its own: the state does not match it.
	victim.startOK(rig, rig.earnToken(t))
	assertRefused(t, victim.get(callback), http.StatusBadRequest, "link_state_mismatch")
	// A browser with no attempt at all.
	assertRefused(t, newBrowser(t).get(callback), http.StatusBadRequest, "link_attempt_missing")
	rig.assertNoLink(t, sampleID, holder)
}

// TestLinkStaleAuthTime strips prompt=login and max_age=0 from the authorization URL (a
// Keycloak that ignored them would behave the same): an SSO session older than the attempt
// answers without a login, and the bridge refuses the old auth_time itself.
func TestLinkStaleAuthTime(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	b := newBrowser(t)
	b.login(b.startOK(rig, rig.earnToken(t)), "alyssa", passwordOf("alyssa")) // SSO session
	time.Sleep(2200 * time.Millisecond)                                       // > skew (1 s)

	authURL := b.startOK(rig, rig.earnToken(t))
	authURL = withParam(t, withParam(t, authURL, "prompt", ""), "max_age", "")
	p := b.get(authURL)
	if p.Status != http.StatusFound || !strings.Contains(p.Location, "/link/callback") {
		t.Fatalf("Keycloak did not answer from the SSO session: %d %q", p.Status, p.Location)
	}
	assertRefused(t, b.get(p.Location), http.StatusUnauthorized, "login_not_fresh")
	rig.assertNoLink(t, sampleID, holder)
}

// TestLinkCodeForAnotherClient delivers a code Keycloak issued to another client of the
// realm (same redirect URI, same state) to the bridge's callback.
func TestLinkCodeForAnotherClient(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	callbackURL := rig.St.BridgeURL + "/link/callback"
	_, err := rig.R.Admin.CreateClient(context.Background(), rig.R.token(t), rig.R.Name,
		gocloak.Client{
			ClientID: gocloak.StringP("other-app"), PublicClient: gocloak.BoolP(true),
			StandardFlowEnabled: gocloak.BoolP(true), RedirectURIs: &[]string{callbackURL},
		})
	if err != nil {
		t.Fatalf("create other client: %v", err)
	}
	b := newBrowser(t)
	authURL := b.startOK(rig, rig.earnToken(t))
	other := withParam(t, authURL, "client_id", "other-app")
	other = withParam(t, withParam(t, other, "code_challenge", ""), "code_challenge_method", "")
	callback := b.login(other, "alyssa", passwordOf("alyssa"))
	assertRefused(t, b.get(callback), http.StatusBadRequest, "login_rejected")
	rig.assertNoLink(t, sampleID, holder)
}

func TestLinkUnverifiedBonbonEmail(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	changeSampleUser(t, rig.St, func(u map[string]any) { u["email_verified"] = false })
	p := newBrowser(t).start(rig, rig.earnToken(t))
	assertRefused(t, p, http.StatusForbidden, "bonbon_email_unverified")
	rig.assertNoLink(t, sampleID, holder)
}

func TestLinkBonbonIDLinkedElsewhere(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	other := rig.seedAccount(t, "ben", "ben.bitdiddle@example.com", true)

	// The holder's attempt starts, then an admin links the Bonbon id to another account.
	b := newBrowser(t)
	authURL := b.startOK(rig, rig.earnToken(t))
	err := rig.R.Admin.CreateUserFederatedIdentity(context.Background(), rig.R.token(t),
		rig.R.Name, other, "bonbon", gocloak.FederatedIdentityRepresentation{
			IdentityProvider: gocloak.StringP("bonbon"), UserID: gocloak.StringP(sampleID),
			UserName: gocloak.StringP(sampleID),
		})
	if err != nil {
		t.Fatalf("link other account: %v", err)
	}
	// Refused at the callback, and at any new start.
	p := b.get(b.login(authURL, "alyssa", passwordOf("alyssa")))
	assertRefused(t, p, http.StatusConflict, "bonbon_linked_elsewhere")
	assertRefused(t, b.start(rig, rig.earnToken(t)), http.StatusConflict, "bonbon_linked_elsewhere")
	if l := rig.R.links(t, holder); len(l) != 0 {
		t.Errorf("holder links = %v, want none", l)
	}
}

func TestLinkUnverifiedAccountEmail(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, false)
	p := newBrowser(t).start(rig, rig.earnToken(t))
	assertRefused(t, p, http.StatusConflict, "account_email_unverified")
	if !strings.Contains(p.Body, "verify") {
		t.Errorf("page does not tell the user to verify the address: %s", p.Body)
	}
	rig.assertNoLink(t, sampleID, holder)
}

func TestLinkStartChecksOrigin(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	b := newBrowser(t)
	for _, origin := range []string{"", "null", "http://127.0.0.1:1"} {
		p := b.postForm(rig.St.BridgeURL+"/link/start", origin,
			url.Values{"earn_token": {rig.earnToken(t)}})
		assertRefused(t, p, http.StatusForbidden, "origin_not_allowed")
	}
	rig.assertNoLink(t, sampleID, holder)
}

// checkRequired asks /link/check as the page script does.
func (rig *linkRig) checkRequired(t *testing.T) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, rig.St.BridgeURL+"/link/check",
		strings.NewReader(url.Values{"earn_token": {rig.earnToken(t)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", rig.Publisher.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		LinkRequired bool `json:"link_required"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/link/check = %d, %v", resp.StatusCode, err)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != rig.Publisher.URL {
		t.Errorf("/link/check CORS origin = %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	return ans.LinkRequired
}

// assertOneLink: exactly the holder is linked to the sample user.
func (rig *linkRig) assertOneLink(t *testing.T, holder string) {
	t.Helper()
	us, err := rig.R.Admin.GetUsers(context.Background(), rig.R.token(t), rig.R.Name,
		gocloak.GetUsersParams{IDPAlias: gocloak.StringP("bonbon"),
			IDPUserID: gocloak.StringP(sampleID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || gocloak.PString(us[0].ID) != holder {
		t.Errorf("%d account(s) linked to %s, want only %s", len(us), sampleID, holder)
	}
}

func onlyUserByID(t *testing.T, r *realm, id string) *gocloak.User {
	t.Helper()
	u, err := r.Admin.GetUserByID(context.Background(), r.token(t), r.Name, id)
	if err != nil {
		t.Fatalf("read user: %v", err)
	}
	return u
}
