package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/browsertest"
)

// realmAdmin creates an administrator of r itself (realm-management's realm-admin role),
// as a publisher's IAM team member would be, and returns their username and password.
func (r *realm) realmAdmin(t *testing.T) (string, string) {
	t.Helper()
	ctx, tok := context.Background(), r.token(t)
	username, password := "iam-admin", "iam-"+randomHex(8)
	id := r.seedUser(t, gocloak.User{
		Username: gocloak.StringP(username), Email: gocloak.StringP("iam@publisher.test"),
		EmailVerified: gocloak.BoolP(true),
		FirstName:     gocloak.StringP("Ida"), LastName: gocloak.StringP("Admin"),
	})
	if err := r.Admin.SetPassword(ctx, tok, id, r.Name, password, false); err != nil {
		t.Fatalf("set password: %v", err)
	}
	clients, err := r.Admin.GetClients(ctx, tok, r.Name,
		gocloak.GetClientsParams{ClientID: gocloak.StringP("realm-management")})
	if err != nil || len(clients) != 1 {
		t.Fatalf("realm-management client: %v", err)
	}
	role, err := r.Admin.GetClientRole(ctx, tok, r.Name, *clients[0].ID, "realm-admin")
	if err != nil {
		t.Fatalf("realm-admin role: %v", err)
	}
	if err := r.Admin.AddClientRolesToUser(ctx, tok, r.Name, *clients[0].ID, id,
		[]gocloak.Role{*role}); err != nil {
		t.Fatalf("grant realm-admin: %v", err)
	}
	return username, password
}

// bonbonSection reads the user form's "Bonbon" attribute group: the section under the
// heading whose id is the group's name, with each field's label and value by attribute.
const bonbonSection = `
const h = document.querySelector("h1#bonbon");
if (!h) { return null; }
const section = h.closest("section");
const fields = {};
for (const input of section.querySelectorAll("input[name^='attributes.']")) {
  const label = section.querySelector("label[for='" + input.id + "']");
  fields[input.name.slice("attributes.".length)] = {
    label: label ? label.innerText.trim() : "", value: input.value};
}
h.scrollIntoView({block: "start"});
return {header: h.innerText.trim(), fields: fields};`

type bonbonGroup struct {
	Header string `json:"header"`
	Fields map[string]struct {
		Label string `json:"label"`
		Value string `json:"value"`
	} `json:"fields"`
}

// linkedProviders reads the "Linked identity providers" table, the first on the tab (the
// "Available identity providers" table below it carries the same label): one row a link.
const linkedProviders = `
const rows = [];
const table = document.querySelector("table[aria-label='LinkedIdPs']");
for (const tr of table.querySelectorAll("tbody tr")) {
  const cells = [...tr.querySelectorAll("td")].map(td => td.innerText.trim());
  const a = tr.querySelector("a");
  rows.push({href: a ? a.getAttribute("href") : "", name: cells[0], userId: cells[2],
    username: cells[3]});
}
return rows;`

type linkedProvider struct {
	Href, Name, UserID, Username string
}

// TestConsoleShowsBonbonData: the realm's admin logs in to the real admin console, opens
// the sample user, and sees the Bonbon attribute group with the sample values and the
// bonbon identity provider link. Screenshots are saved in the test's artifact directory
// (go test -artifacts -outputdir=DIR keeps them).
func TestConsoleShowsBonbonData(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	a := st.deliver(t, "12345")
	if a.Body["status"] != "created" {
		t.Fatalf("webhook = %v", a.Body)
	}
	userID := a.Body["user_id"].(string)
	username, password := r.realmAdmin(t)
	shots := t.ArtifactDir()
	console := server.URL + "/admin/" + r.Name + "/console/"
	userPage := fmt.Sprintf("%s#/%s/users/%s/", console, r.Name, userID)

	b := browsertest.Start(t, browsertest.Options{Width: 1400, Height: 1000,
		Timeout: 30 * time.Second})
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Log in to the realm's own admin console.
	step("open the admin console", b.Navigate(console))
	_, err := b.WaitFor("#username", 30*time.Second)
	step("login page", err)
	step("type username", b.Type("#username", username))
	step("type password", b.Type("#password", password))
	step("log in", b.Click("#kc-login"))
	// Navigating before the login's redirect lands would abort the login on a slow machine.
	step("console after login", b.WaitUntil(`!document.querySelector("#kc-login") && `+
		`location.href.indexOf("/admin/`+r.Name+`/console/") >= 0`, 60*time.Second))

	// The sample user's details, once the form holds the user's values.
	step("open the user", b.Navigate(userPage+"settings"))
	err = b.WaitUntil(`(document.querySelector("#bonbon_postal") || {}).value === "90403"`,
		60*time.Second)
	step("user details with the Bonbon values", err)
	step("screenshot", b.Screenshot(filepath.Join(shots, "1-user-details.png")))

	// The "Bonbon" group holds every attribute with Bonbon's value and its display name.
	var group bonbonGroup
	step("read the Bonbon group", b.ExecuteScript(bonbonSection, &group))
	step("screenshot", b.Screenshot(filepath.Join(shots, "2-bonbon-attribute-group.png")))
	t.Logf("Bonbon group: %+v", group)
	if group.Header != "Bonbon" {
		t.Errorf("group header = %q, want Bonbon", group.Header)
	}
	labels := map[string]string{"bonbon_postal": "Postal code", "bonbon_gender": "Gender",
		"bonbon_bonbons": "Bonbons balance", "bonbon_personalized_ads": "Personalized ads",
		"bonbon_newsletter": "Newsletter", "bonbon_reward": "Reward"}
	for name, want := range sampleAttributes {
		f, ok := group.Fields[name]
		if !ok || f.Value != want || f.Label != labels[name] {
			t.Errorf("Bonbon group field %s = %+v (present %v), want %q labelled %q",
				name, f, ok, want, labels[name])
		}
	}

	// The identity provider links tab: bonbon -> 12345.
	step("open the links", b.Navigate(userPage+"identity-provider-links"))
	err = b.WaitUntil(`document.querySelector("table[aria-label='LinkedIdPs'] tbody tr") `+
		`!== null`, 30*time.Second)
	step("linked identity providers", err)
	var links []linkedProvider
	step("read the links", b.ExecuteScript(linkedProviders, &links))
	step("screenshot", b.Screenshot(filepath.Join(shots, "3-identity-provider-links.png")))
	t.Logf("linked identity providers: %+v", links)
	if len(links) != 1 || !strings.Contains(links[0].Href, "/identity-providers/oidc/bonbon/") ||
		links[0].UserID != "12345" {
		t.Errorf("links = %+v, want one to bonbon with user id 12345", links)
	}
	t.Logf("screenshots in %s", shots)
}
