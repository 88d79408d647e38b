package integration

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/app"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// TestServerVersion pins what each Keycloak version tells whom about its version: the
// provisioning admin always sees the exact version; the bridge's least-privilege service
// account sees it on 24 and 25, while 26 hides systemInfo from it and the bridge then
// assumes 26. Either way the bridge starts and logs the version.
func TestServerVersion(t *testing.T) {
	name, secret := "it-"+randomHex(4), randomHex(16)
	pc := provisionConfig(t, name, secret)
	var out bytes.Buffer
	pc.Out = &out
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	want := "ok: Keycloak "
	if server.Version != "" {
		want += server.Version
	}
	if !strings.HasPrefix(first, want) {
		t.Errorf("provision's first line = %q, want %q", first, want)
	}

	kc, err := keycloak.New(keycloak.Config{URL: server.URL, Realm: name, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	caps, err := kc.ServerCapabilities(t.Context())
	if err != nil {
		t.Fatalf("the bridge's account cannot read the version: %v", err)
	}
	t.Logf("Keycloak %s (%s) answers the bridge's account: %s", server.Version, server.How,
		caps.Version)
	if exact, err := keycloak.ParseVersion(server.Version); err == nil {
		if exact.Major < 26 && caps.Version != exact {
			t.Errorf("version = %+v, want exactly %+v", caps.Version, exact)
		}
		if caps.Version.Major != exact.Major {
			t.Errorf("major = %d, want %d", caps.Version.Major, exact.Major)
		}
	}

	// The bridge checks the version while it is built, before it serves anything.
	env := map[string]string{
		"BRIDGE_ADDR": "127.0.0.1:0", "KEYCLOAK_URL": server.URL, "KEYCLOAK_REALM": name,
		"KEYCLOAK_CLIENT_SECRET": secret, "BONBON_API_URL": "http://127.0.0.1:9/v1",
		"BONBON_CLIENT_ID": simClientID, "BONBON_API_KEY": simAPIKey,
	}
	cfg, err := app.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	// A buffer, not the test's log: background work may still log after the test ends.
	var logged syncBuffer
	a, err := app.New(cfg, app.Options{Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
	if err != nil {
		t.Fatalf("the bridge refused Keycloak %s: %v", server.Version, err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if !strings.Contains(logged.String(), `"msg":"keycloak version"`) {
		t.Errorf("the bridge did not log Keycloak's version at start-up:\n%s", logged.String())
	}
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serverCaps is the capabilities of the package's Keycloak, from the version it was
// started at, else (an existing server) from serverinfo as the master admin sees it.
func serverCaps(t *testing.T) keycloak.Capabilities {
	t.Helper()
	v, err := keycloak.ParseVersion(server.Version)
	if err != nil {
		r := &realm{Admin: gocloak.NewClient(server.URL)}
		resp, gerr := r.Admin.GetRequestWithBearerAuth(t.Context(), r.token(t)).
			Get(server.URL + "/admin/serverinfo")
		if gerr != nil {
			t.Fatalf("read serverinfo: %v", gerr)
		}
		var info struct {
			SystemInfo struct{ Version string } `json:"systemInfo"`
		}
		_ = json.Unmarshal(resp.Body(), &info)
		if v, err = keycloak.ParseVersion(info.SystemInfo.Version); err != nil {
			t.Fatalf("server version: %v", err)
		}
	}
	caps, err := keycloak.CapabilitiesOf(v)
	if err != nil {
		t.Fatal(err)
	}
	return caps
}

// foundUserReads is how many admin calls a webhook spends finding an existing user: one
// search, and on 24 and 25 a read by id (keycloak.Capabilities.
// ListsShowUndeclaredAttributes).
func foundUserReads(t *testing.T) int {
	t.Helper()
	if serverCaps(t).ListsShowUndeclaredAttributes {
		return 2
	}
	return 1
}

// TestSearchShowsUndeclaredAttributes pins the one admin-API difference between the
// supported versions the bridge handles: after an attribute is removed from the user
// profile, the user search still returns it on 24 and 25 (GET by id never does), and the
// bridge's lookups return users as GET by id shows them on every version.
func TestSearchShowsUndeclaredAttributes(t *testing.T) {
	r := newRealm(t)
	declareAttribute(t, r, "legacy_tier")
	id := r.seedUser(t, gocloak.User{
		Username: gocloak.StringP("searcher"), Email: gocloak.StringP("searcher@example.test"),
		FirstName: gocloak.StringP("S"), LastName: gocloak.StringP("T"),
		Attributes: &map[string][]string{"legacy_tier": {"gold"}},
	})
	editProfile(t, r, func(p map[string]any) { dropAttr(p, "legacy_tier") })

	found, err := r.Admin.GetUsers(t.Context(), r.token(t), r.Name, gocloak.GetUsersParams{
		Username: gocloak.StringP("searcher"), Exact: gocloak.BoolP(true),
		BriefRepresentation: gocloak.BoolP(false),
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("search: %v, %d users", err, len(found))
	}
	_, inSearch := attrsOf(found[0])["legacy_tier"]
	if want := serverCaps(t).ListsShowUndeclaredAttributes; inSearch != want {
		t.Errorf("Keycloak %s: search shows the undeclared attribute = %v, want %v",
			server.Version, inSearch, want)
	}
	byID, err := r.Admin.GetUserByID(t.Context(), r.token(t), r.Name, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := attrsOf(byID)["legacy_tier"]; ok {
		t.Errorf("GET by id shows the undeclared attribute")
	}

	kc, err := keycloak.New(keycloak.Config{URL: server.URL, Realm: r.Name,
		ClientSecret: r.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	u, err := kc.FindByEmail(t.Context(), "searcher@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Attributes["legacy_tier"]; ok {
		t.Errorf("FindByEmail returned the undeclared attribute: %v", u.Attributes)
	}
}

func attrsOf(u *gocloak.User) map[string][]string {
	if u == nil || u.Attributes == nil {
		return nil
	}
	return *u.Attributes
}

// accountLoginClient creates a public client with the password grant and full scope, and
// returns its client id. Keycloak 26 lets any of the realm's access tokens call the
// account API; 24 and 25 answer 401 unless the token is for the "account" audience,
// which admin-cli's tokens are not (no roles in scope). A full-scope client's tokens
// carry the user's account roles, and so that audience, on every version.
func accountLoginClient(t *testing.T, r *realm) string {
	t.Helper()
	id := "it-account-login"
	_, err := r.Admin.CreateClient(t.Context(), r.token(t), r.Name, gocloak.Client{
		ClientID: &id, PublicClient: gocloak.BoolP(true), Enabled: gocloak.BoolP(true),
		DirectAccessGrantsEnabled: gocloak.BoolP(true), FullScopeAllowed: gocloak.BoolP(true),
		StandardFlowEnabled: gocloak.BoolP(false),
	})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	return id
}
