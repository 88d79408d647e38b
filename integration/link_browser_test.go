package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/browsertest"
)

// publisherPage is a publisher's page as issue 4 describes it: Bonbon's Web Tags snippet
// (the simulator's bonbon.js) and the bridge's link script, nothing else.
const publisherPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>The Daily Example</title>
<script>window.bonbonDataLayer = window.bonbonDataLayer || [];
  function bonbontag(){ bonbonDataLayer.push(arguments); }</script>
<script async src="%s/bonbon.js" data-clientId="%s"></script>
<script src="%s/link/script.js" async></script>
</head><body><h1>The Daily Example</h1><p id="path"></p>
<script>document.getElementById("path").textContent = location.pathname;</script>
</body></html>`

// TestLinkInBrowser: a Bonbon user signs in on the publisher's page with a one-time code,
// the bridge's script offers the link, the user logs in on Keycloak's real login page,
// and the browser comes back to the publisher with the account linked.
func TestLinkInBrowser(t *testing.T) {
	rig := newLinkRig(t, nil)
	holder := rig.seedAccount(t, "alyssa", sampleEmail, true)
	page := fmt.Sprintf(publisherPage, rig.St.SimURL, simClientID, rig.St.BridgeURL)
	rig.page.Store(&page)
	shots := t.ArtifactDir()

	b := browsertest.Start(t, browsertest.Options{})
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("open the publisher's page", b.Navigate(rig.Publisher.URL+"/"))

	// Sign in to Bonbon with the simulator's one-time code.
	_, err := b.WaitFor("#bonbon-launcher", 10*time.Second)
	step("Bonbon launcher", err)
	step("open Bonbon", b.Click("#bonbon-launcher"))
	step("type email", b.Type("#bonbon-email", sampleEmail))
	step("send code", b.Click("#bonbon-send-code"))
	_, err = b.WaitFor("#bonbon-otp", 5*time.Second)
	step("code field", err)
	step("type code", b.Type("#bonbon-otp", rig.otp(t, sampleEmail)))
	step("verify code", b.Click("#bonbon-verify"))

	// The bridge's script offers the link; the user accepts.
	_, err = b.WaitFor("#bonbon-bridge-link-start", 10*time.Second)
	step("link offer", err)
	_ = b.Screenshot(filepath.Join(shots, "1-offer.png"))
	step("accept the offer", b.Click("#bonbon-bridge-link-start"))

	// Keycloak's own login page, the email filled in from login_hint.
	_, err = b.WaitFor("#password", 10*time.Second)
	step("Keycloak login page", err)
	_ = b.Screenshot(filepath.Join(shots, "2-keycloak-login.png"))
	step("type password", b.Type("#password", passwordOf("alyssa")))
	step("log in", b.Click("#kc-login"))

	// Back on the publisher's return page, linked.
	want := rig.ReturnURL
	err = b.WaitUntil(fmt.Sprintf("location.href === %q", want), 15*time.Second)
	step("return to "+want, err)
	_, err = b.WaitFor("#path", 5*time.Second)
	step("publisher page", err)
	step("screenshot", b.Screenshot(filepath.Join(shots, "3-linked.png")))
	t.Logf("screenshots in %s", shots)
	if l := rig.R.links(t, holder); l["bonbon"] != sampleID {
		t.Fatalf("links = %v, want bonbon → %s", l, sampleID)
	}
	assertAttrs(t, onlyUserByID(t, rig.R, holder), sampleAttributes)
}

// otp reads the pending one-time code from the simulator's control endpoint.
func (rig *linkRig) otp(t *testing.T, email string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(rig.St.SimURL + "/_sim/otp?email=" + url.QueryEscape(email))
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			OTP string `json:"otp"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK && ans.OTP != "" {
			return ans.OTP
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no one-time code for %s at the simulator", email)
	return ""
}
