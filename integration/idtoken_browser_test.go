package integration

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon/sim"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/browsertest"
)

// TestIDTokenBrowserSignal is Flow 3 in a real headless Chromium: the demo publisher page
// with the simulator's Web Tags, Keycloak's own login page, the bridge's signal.js, and
// the simulator recording bonbontag("signal", "loggedIn", token) with a token it minted
// for that user. Screenshots go to the test's artifact directory
// (go test -artifacts -outputdir=DIR keeps them).
func TestIDTokenBrowserSignal(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{Env: idtEnv(nil), DemoPage: true})
	idtPublicClient(t, r, st.BridgeURL+"/publisher/")
	userID, username := idtLinkedSample(t, r, st)
	shots := t.ArtifactDir()

	b := browsertest.Start(t, browsertest.Options{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// Logged out: Web Tags load, nothing is signalled, the console stays clean.
	must(b.Navigate(st.BridgeURL + "/publisher/"))
	must(b.WaitUntil("window.Bonbon && window.Bonbon.simulator", 10*time.Second))
	must(b.WaitUntil("window.bonbonBridge && window.bonbonBridge.refresh", 10*time.Second))
	time.Sleep(500 * time.Millisecond)
	if n := len(st.Sim.Signals()); n != 0 {
		t.Errorf("%d signals before anyone logged in", n)
	}
	idtNoConsoleErrors(t, b)
	must(b.Screenshot(filepath.Join(shots, "1-publisher-logged-out.png")))

	// Keycloak's real login page.
	must(b.Click("#login"))
	_, err := b.WaitFor("#username", 15*time.Second)
	must(err)
	if u, _ := b.CurrentURL(); !strings.HasPrefix(u, server.URL+"/realms/"+r.Name) {
		t.Fatalf("login page is %s, want the realm's", u)
	}
	must(b.Screenshot(filepath.Join(shots, "2-keycloak-login.png")))
	must(b.Type("#username", username))
	must(b.Type("#password", idtPassword(username)))
	must(b.Click("#kc-login"))

	// Back on the publisher's page: the token fetched and signalled.
	_, err = b.WaitFor("#signal-status.ok", 20*time.Second)
	must(err)
	must(b.Screenshot(filepath.Join(shots, "3-publisher-signalled.png")))
	sig := idtWaitSignal(t, st, 10*time.Second)
	if sig.Name != "loggedIn" || !sig.Valid || sig.Sub != userID || sig.BonbonID != sampleID ||
		sig.ClientID != simClientID || !strings.HasPrefix(sig.Page, st.BridgeURL+"/publisher/") {
		t.Errorf("signal %+v: want loggedIn, minted by the simulator for %s (Bonbon %s)",
			sig, userID, sampleID)
	}
	var status string
	must(b.ExecuteScript(`return document.getElementById("kc-status").textContent;`, &status))
	if !strings.Contains(status, "Signed in") {
		t.Errorf("page status %q", status)
	}

	// Sign out: Keycloak ends the session and sends the browser back; no new signal.
	signals := len(st.Sim.Signals())
	must(b.Click("#logout"))
	must(b.WaitUntil(`location.pathname === "/publisher/" && `+
		`!document.getElementById("login").hidden`, 15*time.Second))
	time.Sleep(500 * time.Millisecond)
	must(b.Screenshot(filepath.Join(shots, "4-publisher-logged-out-again.png")))
	if n := len(st.Sim.Signals()); n != signals {
		t.Errorf("%d new signals after logout", n-signals)
	}
	idtNoConsoleErrors(t, b)
	t.Logf("screenshots in %s", shots)
}

// idtWaitSignal waits for the simulator to record a signal.
func idtWaitSignal(t *testing.T, st *stack, limit time.Duration) sim.Signal {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if sigs := st.Sim.Signals(); len(sigs) > 0 {
			return sigs[len(sigs)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no signal recorded by the simulator within %s", limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// idtNoConsoleErrors fails on console errors, a missing favicon aside.
func idtNoConsoleErrors(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	logs, err := b.ConsoleLogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		if l.Level == "SEVERE" && !strings.Contains(l.Message, "favicon.ico") {
			t.Errorf("console error: %s", l.Message)
		}
	}
}

// idtStubPage is a publisher page on its own origin: a stub bonbontag that records its
// calls, the hook handing over whatever window.testAccessToken holds, and the bridge's
// signal.js.
const idtStubPage = `<!doctype html><html><head><title>stub publisher</title>
<script>
  window.calls = [];
  function bonbontag() { window.calls.push(Array.prototype.slice.call(arguments)); }
  window.testAccessToken = null;
  window.bonbonBridge = { accessToken: function () { return window.testAccessToken; } };
</script>
<script src="BRIDGE/bonbon/signal.js"></script>
</head><body><p>stub</p></body></html>`

// TestIDTokenSignalScript drives signal.js on pages of other origins: CORS in a real
// browser, nothing done while logged out, the stub bonbontag called with a token the
// simulator minted, a refused access token neither signalled nor retried.
func TestIDTokenSignalScript(t *testing.T) {
	r := newRealm(t)
	var bridgeURL string // set once the stack runs; the pages read it per request
	page := func() *httptest.Server {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, strings.ReplaceAll(idtStubPage, "BRIDGE", bridgeURL))
		}))
		t.Cleanup(hs.Close)
		return hs
	}
	allowed, foreign := page(), page()
	st := newStack(t, r, stackOptions{Env: idtEnv(map[string]string{
		"BRIDGE_ALLOWED_ORIGINS": allowed.URL})})
	bridgeURL = st.BridgeURL
	idtPublicClient(t, r, "http://127.0.0.1:1/publisher/")
	id := idtUser(t, r, "ben")
	access := idtLogin(t, server.URL, r.Name, "ben").Access
	b := browsertest.Start(t, browsertest.Options{})

	tests := []struct {
		name      string
		page      *httptest.Server
		token     string // the hook's answer; "" is null (logged out)
		wantCalls int
		wantWarn  bool
	}{
		{"logged out: nothing", allowed, "", 0, false},
		{"logged in: signalled", allowed, access, 1, false},
		{"refused access token", allowed, access[:len(access)-4] + "AAAA", 0, true},
		{"origin not allowed", foreign, access, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idtSignalOn(t, b, tt.page.URL, tt.token)
			var calls [][]string
			if err := b.ExecuteScript("return window.calls;", &calls); err != nil {
				t.Fatal(err)
			}
			if len(calls) != tt.wantCalls {
				t.Fatalf("bonbontag calls %q, want %d", calls, tt.wantCalls)
			}
			if tt.wantCalls > 0 {
				valid, sub, _ := st.idtMinted(t, calls[0][2])
				if calls[0][0] != "signal" || calls[0][1] != "loggedIn" || !valid || sub != id {
					t.Errorf("call %q: valid=%v sub=%q, want a loggedIn signal for %s",
						calls[0][:2], valid, sub, id)
				}
			}
			logs, _ := b.ConsoleLogs()
			warned := false
			for _, l := range logs {
				warned = warned || strings.Contains(l.Message, "no BONBON_ID_TOKEN")
				if !tt.wantWarn && l.Level == "SEVERE" && !strings.Contains(l.Message, "favicon") {
					t.Errorf("console error: %s", l.Message)
				}
			}
			if warned != tt.wantWarn {
				t.Errorf("console warning %v, want %v: %+v", warned, tt.wantWarn, logs)
			}
		})
	}
}

// idtSignalOn loads the stub page, sets the hook's token, runs signal.js's refresh and
// waits for it to settle.
func idtSignalOn(t *testing.T, b *browsertest.Browser, pageURL, token string) {
	t.Helper()
	if err := b.Navigate(pageURL); err != nil {
		t.Fatal(err)
	}
	_, _ = b.ConsoleLogs() // start from a clean console
	var tok any
	if token != "" {
		tok = token
	}
	err := b.ExecuteAsyncScript(`var done = arguments[arguments.length - 1];
		window.testAccessToken = arguments[0];
		window.bonbonBridge.refresh().then(function () { done(true); });`, nil, tok)
	if err != nil {
		t.Fatal(err)
	}
}
