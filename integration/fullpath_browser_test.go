package integration

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon/sim"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/browsertest"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// fullPath is one realm, one bridge with Flows 2 and 3 and the demo publisher page, and
// the simulator delivering its webhooks to that bridge, as Bonbon's servers would.
type fullPath struct {
	R       *realm
	St      *stack
	Public  string // the bridge's URL, reserved before anything starts
	Page    string // the demo publisher page, also the link's return URL
	Holder  string // the existing, unlinked account holding the sample user's email
	B       *browsertest.Browser
	shots   string
	shotNum int
}

// newFullPath reserves the bridge's port first: the simulator's webhook URL, the realm's
// redirect URIs and the bridge's public URL all name it before the bridge starts.
func newFullPath(t *testing.T) *fullPath {
	t.Helper()
	r := newRealm(t)
	ln := reserveListener(t)
	addr := ln.Addr().String()
	fp := &fullPath{R: r, Public: "http://" + addr, shots: t.ArtifactDir()}
	fp.Page = fp.Public + "/publisher/"
	pc := provisionConfig(t, r.Name, r.ClientSecret)
	pc.RedirectURIs = []string{fp.Public + "/link/callback"}
	if err := keycloak.Provision(context.Background(), pc); err != nil {
		t.Fatalf("provision redirect URI: %v", err)
	}
	idtPublicClient(t, r, fp.Page)
	fp.Holder = (&linkRig{R: r}).seedAccount(t, "alyssa", sampleEmail, true)

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := idtEnv(map[string]string{
		"BRIDGE_ADDR": addr, "BRIDGE_PUBLIC_URL": fp.Public,
		"BRIDGE_LINK_RETURN_URL": fp.Page, "BRIDGE_ALLOWED_ORIGINS": fp.Public,
		"BRIDGE_COOKIE_KEY": base64.StdEncoding.EncodeToString(key),
	})
	fp.St = newStack(t, r, stackOptions{Env: env, DemoPage: true, Listener: ln,
		SimWebhookURL: fp.Public + "/webhooks/bonbon"})
	fp.B = browsertest.Start(t, browsertest.Options{})
	return fp
}

// must fails the test with what was being done.
func (fp *fullPath) must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// shot saves a numbered screenshot under the test's artifact directory.
func (fp *fullPath) shot(t *testing.T, name string) {
	t.Helper()
	fp.shotNum++
	path := filepath.Join(fp.shots, fmt.Sprintf("%d-%s.png", fp.shotNum, name))
	fp.must(t, "screenshot "+name, fp.B.Screenshot(path))
}

// TestFullPathInBrowser is issue 10's story in one headless Chromium on the demo
// publisher page: a Bonbon OTP sign-in through the simulator's Web Tags, the simulator's
// webhook answered 202 link_required, the link script's step-up through Keycloak's real
// login page, the account linked, then a Keycloak login on the page and the loggedIn
// signal recorded by the simulator. No earn token is made by the test: every one comes
// from the page's own sign-in. Screenshots: go test -artifacts -outputdir=DIR keeps them.
func TestFullPathInBrowser(t *testing.T) {
	fp := newFullPath(t)
	fp.openPage(t)

	// Bonbon sign-in: the page's events carry the earn token; the webhook marks the account.
	token := fp.signInToBonbon(t)
	fp.assertWebhookMarked(t)

	// The bonbon::login handler offers the link; the owner logs in on Keycloak's page.
	fp.stepUp(t)
	fp.assertLinked(t, token)

	// Logged in through Keycloak on the publisher page: the signal reaches Bonbon.
	fp.publisherLogin(t)
	fp.assertSignal(t)
	idtNoConsoleErrors(t, fp.B)
	t.Logf("screenshots in %s", fp.shots)
}

// openPage loads the demo page and waits for Web Tags, the link script and signal.js;
// it then records the Bonbon events the page receives in window.fpEvents.
func (fp *fullPath) openPage(t *testing.T) {
	t.Helper()
	fp.must(t, "open the publisher page", fp.B.Navigate(fp.Page))
	fp.must(t, "scripts loaded", fp.B.WaitUntil("window.Bonbon && window.Bonbon.simulator && "+
		"window.BonbonBridgeLink && window.bonbonBridge && window.bonbonBridge.refresh",
		15*time.Second))
	fp.must(t, "record events", fp.B.ExecuteScript(`window.fpEvents = [];
		["bonbon::auth::login", "bonbon::login"].forEach(function (name) {
		  window.addEventListener(name, function (e) {
		    window.fpEvents.push({type: name, token: e.detail.earn_token || ""});
		  });
		});`, nil))
	fp.shot(t, "publisher-page")
}

// signInToBonbon runs the OTP flow in Web Tags' modal, with the code read from the
// simulator's control endpoint, and returns the earn token the page received.
func (fp *fullPath) signInToBonbon(t *testing.T) string {
	t.Helper()
	b := fp.B
	_, err := b.WaitFor("#bonbon-launcher", 10*time.Second)
	fp.must(t, "Bonbon launcher", err)
	fp.must(t, "open Bonbon", b.Click("#bonbon-launcher"))
	fp.must(t, "type email", b.Type("#bonbon-email", sampleEmail))
	fp.must(t, "send code", b.Click("#bonbon-send-code"))
	_, err = b.WaitFor("#bonbon-otp", 5*time.Second)
	fp.must(t, "code field", err)
	fp.must(t, "type code", b.Type("#bonbon-otp", (&linkRig{St: fp.St}).otp(t, sampleEmail)))
	fp.shot(t, "bonbon-otp")
	fp.must(t, "verify code", b.Click("#bonbon-verify"))

	// Both events, with the same earn token, which Bonbon's API says is the sample user.
	fp.must(t, "login events", b.WaitUntil("window.fpEvents.length >= 2", 10*time.Second))
	var events []struct{ Type, Token string }
	fp.must(t, "read events", b.ExecuteScript("return window.fpEvents;", &events))
	if len(events) != 2 || events[0].Type != "bonbon::auth::login" ||
		events[1].Type != "bonbon::login" || events[0].Token == "" ||
		events[0].Token != events[1].Token {
		t.Fatalf("page events %+v: want bonbon::auth::login then bonbon::login, one token",
			events)
	}
	if id := fp.earnUserID(t, events[0].Token); id != sampleID {
		t.Fatalf("the page's earn token is Bonbon user %q, want %s", id, sampleID)
	}
	return events[0].Token
}

// earnUserID asks the simulator's API, as the bridge does, whose earn token tok is.
func (fp *fullPath) earnUserID(t *testing.T, tok string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fp.St.SimURL+"/v1/earn/user", nil)
	req.Header.Set("x-bonbon-clientid", simClientID)
	req.Header.Set("x-bonbon-api-key", simAPIKey)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	fp.must(t, "GET /earn/user", err)
	defer resp.Body.Close()
	var u struct {
		ID string `json:"id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&u)
	return u.ID
}

// assertWebhookMarked waits for the simulator's login delivery to be answered 202 (its
// delivery log) and reads the marker, and no link, back from Keycloak.
func (fp *fullPath) assertWebhookMarked(t *testing.T) {
	t.Helper()
	d := fp.waitDelivery(t, 15*time.Second)
	if !d.OK || len(d.Attempts) != 1 || d.Attempts[0].Status != http.StatusAccepted ||
		d.URL != fp.Public+"/webhooks/bonbon" {
		t.Fatalf("delivery %+v: want one attempt to the bridge answered 202", d)
	}
	u := onlyUserByID(t, fp.R, fp.Holder)
	if u.Attributes == nil || len((*u.Attributes)[mapping.PendingLinkAttribute]) == 0 {
		t.Fatalf("no pending-link marker after the 202: %v", u.Attributes)
	}
	if l := fp.R.links(t, fp.Holder); len(l) != 0 {
		t.Fatalf("links %v after the webhook, want none before the step-up", l)
	}
}

// waitDelivery polls GET /_sim/deliveries for the finished login delivery of the sample
// user.
func (fp *fullPath) waitDelivery(t *testing.T, limit time.Duration) sim.Delivery {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var ds []sim.Delivery
		fp.getJSON(t, fp.St.SimURL+"/_sim/deliveries", &ds)
		for _, d := range ds {
			if d.BonbonID == sampleID && d.Reason == "login" && d.Done {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished login delivery within %s: %+v", limit, ds)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (fp *fullPath) getJSON(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	fp.must(t, "GET "+u, err)
	defer resp.Body.Close()
	fp.must(t, "decode "+u, json.NewDecoder(resp.Body).Decode(out))
}

// stepUp accepts the link script's offer and logs in on Keycloak's page with the
// account's password; the browser comes back to the publisher page.
func (fp *fullPath) stepUp(t *testing.T) {
	t.Helper()
	b := fp.B
	_, err := b.WaitFor("#bonbon-bridge-link-start", 10*time.Second)
	fp.must(t, "link offer", err)
	fp.shot(t, "link-offer")
	fp.must(t, "accept the offer", b.Click("#bonbon-bridge-link-start"))

	_, err = b.WaitFor("#password", 15*time.Second)
	fp.must(t, "Keycloak login page", err)
	if u, _ := b.CurrentURL(); !strings.HasPrefix(u, server.URL+"/realms/"+fp.R.Name+"/") {
		t.Fatalf("login page is %s, want the realm's", u)
	}
	var hint string
	fp.must(t, "read username", b.ExecuteScript(
		`return document.getElementById("username").value;`, &hint))
	if hint != sampleEmail {
		t.Errorf("username field %q, want the login_hint %s", hint, sampleEmail)
	}
	fp.shot(t, "keycloak-step-up-login")
	fp.must(t, "type password", b.Type("#password", passwordOf("alyssa")))
	fp.must(t, "log in", b.Click("#kc-login"))

	err = b.WaitUntil(`location.href === `+jsString(fp.Page)+` && `+
		`document.getElementById("login") !== null`, 20*time.Second)
	fp.must(t, "back on the publisher page", err)
	fp.shot(t, "linked-back-on-publisher")
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// assertLinked reads Keycloak back: the link, Bonbon's profile, no marker. The earn token
// is the page's, still valid: Bonbon's answer to it names the linked user.
func (fp *fullPath) assertLinked(t *testing.T, token string) {
	t.Helper()
	if l := fp.R.links(t, fp.Holder); l["bonbon"] != sampleID {
		t.Fatalf("links = %v, want bonbon → %s", l, sampleID)
	}
	u := onlyUserByID(t, fp.R, fp.Holder)
	assertAttrs(t, u, sampleAttributes)
	if _, marked := (*u.Attributes)[mapping.PendingLinkAttribute]; marked {
		t.Errorf("pending-link marker still set: %v", *u.Attributes)
	}
	if gocloak.PString(u.FirstName) != "Alyssa" || gocloak.PString(u.LastName) != "P. Hacker" {
		t.Errorf("names = %q %q, want Bonbon's", gocloak.PString(u.FirstName),
			gocloak.PString(u.LastName))
	}
	if id := fp.earnUserID(t, token); id != sampleID {
		t.Errorf("earn token now names %q", id)
	}
}

// publisherLogin signs in with the page's own button. Keycloak's session from the step-up
// usually answers without a login page; when it asks, the password is typed again.
func (fp *fullPath) publisherLogin(t *testing.T) {
	t.Helper()
	b := fp.B
	fp.must(t, "sign in", b.Click("#login"))
	fp.must(t, "signed in or asked", b.WaitUntil(
		`!!(document.querySelector("#signal-status.ok") || document.querySelector("#password"))`,
		20*time.Second))
	var onKeycloak bool
	fp.must(t, "where", b.ExecuteScript(`return !!document.querySelector("#password");`,
		&onKeycloak))
	if onKeycloak {
		fp.shot(t, "keycloak-publisher-login")
		var user string
		_ = b.ExecuteScript(`return document.getElementById("username").value;`, &user)
		if user == "" {
			fp.must(t, "type username", b.Type("#username", "alyssa"))
		}
		fp.must(t, "type password", b.Type("#password", passwordOf("alyssa")))
		fp.must(t, "log in", b.Click("#kc-login"))
	}
	_, err := b.WaitFor("#signal-status.ok", 20*time.Second)
	fp.must(t, "signal shown on the page", err)
	fp.shot(t, "publisher-signalled")
}

// assertSignal reads GET /_sim/signals: a loggedIn signal from the publisher page with a
// BONBON_ID_TOKEN the simulator minted for the linked account and Bonbon user.
func (fp *fullPath) assertSignal(t *testing.T) {
	t.Helper()
	var sigs []sim.Signal
	deadline := time.Now().Add(10 * time.Second)
	for len(sigs) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		fp.getJSON(t, fp.St.SimURL+"/_sim/signals", &sigs)
	}
	if len(sigs) != 1 {
		t.Fatalf("signals %+v, want exactly one", sigs)
	}
	s := sigs[0]
	if s.Command != "signal" || s.Name != "loggedIn" || !s.Valid || s.Sub != fp.Holder ||
		s.BonbonID != sampleID || s.ClientID != simClientID ||
		!strings.HasPrefix(s.Page, fp.Page) {
		t.Errorf("signal %+v: want loggedIn from %s, minted for %s (Bonbon %s)", s, fp.Page,
			fp.Holder, sampleID)
	}
	var status string
	fp.must(t, "page status", fp.B.ExecuteScript(
		`return document.getElementById("kc-status").textContent;`, &status))
	if !strings.Contains(status, "Signed in as alyssa") {
		t.Errorf("page status %q, want signed in as alyssa", status)
	}
}
