package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/app"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// editProfile changes the realm's user profile as the admin console does: it reads the
// whole configuration, changes it, and PUTs it back whole.
func editProfile(t *testing.T, r *realm, change func(p map[string]any)) {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(profileJSON(t, r), &p); err != nil {
		t.Fatal(err)
	}
	change(p)
	resp, err := r.Admin.GetRequestWithBearerAuth(context.Background(), r.token(t)).
		SetBody(p).Put(server.URL + "/admin/realms/" + r.Name + "/users/profile")
	if err != nil || resp.StatusCode() != http.StatusOK {
		t.Fatalf("edit user profile: %v %v %s", err, resp.Status(), resp.Body())
	}
}

// profileAttr returns the named attribute's declaration in a decoded profile.
func profileAttr(t *testing.T, p map[string]any, name string) map[string]any {
	t.Helper()
	for _, raw := range p["attributes"].([]any) {
		if a := raw.(map[string]any); a["name"] == name {
			return a
		}
	}
	t.Fatalf("the profile declares no attribute %s", name)
	return nil
}

func dropAttr(p map[string]any, name string) {
	attrs := p["attributes"].([]any)
	p["attributes"] = slices.DeleteFunc(attrs, func(raw any) bool {
		return raw.(map[string]any)["name"] == name
	})
}

// storedAttributes reads what Keycloak really holds for a user, declared or not: it lets
// admins view unmanaged attributes for the length of one read, then restores the policy.
func storedAttributes(t *testing.T, r *realm, userID string) map[string][]string {
	t.Helper()
	editProfile(t, r, func(p map[string]any) { p["unmanagedAttributePolicy"] = "ADMIN_VIEW" })
	defer editProfile(t, r, func(p map[string]any) { delete(p, "unmanagedAttributePolicy") })
	u, err := r.Admin.GetUserByID(context.Background(), r.token(t), r.Name, userID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Attributes == nil {
		return nil
	}
	return *u.Attributes
}

// afterRecent waits out the time during which the bridge trusts the mapping it just read
// (bridge.ProfileMappingConfig.Recent, 1 s): an edit made within it shows up at the next
// re-read, not at the next webhook.
func afterRecent() { time.Sleep(1100 * time.Millisecond) }

func TestConsoleRenameMovesTheValueToTheNewName(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	if a := st.deliver(t, "12345"); a.Body["status"] != "created" {
		t.Fatalf("first webhook = %v", a.Body)
	}

	// The admin renames bonbon_postal to postal_code; the annotation goes with it.
	editProfile(t, r, func(p map[string]any) {
		profileAttr(t, p, "bonbon_postal")["name"] = "postal_code"
	})
	afterRecent()
	st.Calls.take()
	reads := st.Calls.reads()

	// The next webhook writes the new name, once.
	a := st.deliver(t, "12345")
	if a.Status != http.StatusOK || a.Body["status"] != "updated" {
		t.Fatalf("webhook after the rename = %d %v, want 200 updated", a.Status, a.Body)
	}
	calls := adminCalls(st.Calls.take())
	t.Logf("admin calls: %v, profile reads: %d", calls, st.Calls.reads()-reads)
	if countMethod(calls, "PUT") != 1 || st.Calls.reads()-reads != 1 {
		t.Errorf("rename cost %v and %d profile reads, want one PUT and one read", calls,
			st.Calls.reads()-reads)
	}
	u := onlyUser(t, r)
	want := maps(sampleAttributes, map[string]string{"postal_code": "90403"})
	delete(want, "bonbon_postal")
	assertAttrs(t, u, want)
	if _, dup := (*u.Attributes)["bonbon_postal"]; dup {
		t.Errorf("the old name is still visible: %v", *u.Attributes)
	}

	// Keycloak keeps the old name's value in its database, undeclared and invisible to
	// every API and the console until an attribute of that name is declared again. The
	// bridge cannot remove it: it may only write declared attributes. README says so.
	stored := storedAttributes(t, r, *u.ID)
	t.Logf("stored after the rename, declared or not: %v", stored)
	if got := stored["bonbon_postal"]; !slices.Equal(got, []string{"90403"}) {
		t.Logf("note: Keycloak no longer keeps the old value (%v); update the README", got)
	}

	// Then nothing is left to change.
	if a := st.deliver(t, "12345"); a.Body["status"] != "unchanged" {
		t.Errorf("third webhook = %v, want unchanged", a.Body)
	}

	// `bonbon-bridge mapping` shows the new name, read with the bridge's own credentials.
	var out bytes.Buffer
	env := map[string]string{"KEYCLOAK_URL": server.URL, "KEYCLOAK_REALM": r.Name,
		"KEYCLOAK_CLIENT_SECRET": r.ClientSecret}
	if err := app.PrintMapping(t.Context(), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}, &out); err != nil {
		t.Fatalf("mapping command: %v", err)
	}
	t.Logf("bonbon-bridge mapping:\n%s", out.String())
	if !strings.Contains(out.String(), "postal_code") ||
		strings.Contains(out.String(), "bonbon_postal") {
		t.Errorf("mapping command does not show the rename:\n%s", out.String())
	}
}

func TestConsoleRemovedAttributeIsNoLongerStored(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	if a := st.deliver(t, "12345"); a.Body["status"] != "created" {
		t.Fatalf("first webhook = %v", a.Body)
	}

	// The admin removes gender; Bonbon then changes it.
	editProfile(t, r, func(p map[string]any) { dropAttr(p, "bonbon_gender") })
	changeSampleUser(t, st, func(m map[string]any) { m["gender"] = "Female" })
	afterRecent()

	// Nothing the realm keeps changed: no write.
	st.Calls.take()
	if a := st.deliver(t, "12345"); a.Status != http.StatusOK || a.Body["status"] != "unchanged" {
		t.Fatalf("webhook after the removal = %d %v, want 200 unchanged", a.Status, a.Body)
	}
	if calls := adminCalls(st.Calls.take()); countMethod(calls, "PUT") != 0 {
		t.Errorf("calls %v, want no PUT", calls)
	}
	if u := onlyUser(t, r); (*u.Attributes)["bonbon_gender"] != nil {
		t.Errorf("gender still visible: %v", *u.Attributes)
	}

	// A user created afterwards has no gender stored at all, not even hidden.
	ben := `{"id": "67890", "email": "ben.bitdiddle@bonbon.tech", "email_verified": true,
		"first_name": "Ben", "last_name": "Bitdiddle", "gender": "Male", "postal": "02139"}`
	if err := st.Sim.PutUser(json.RawMessage(ben)); err != nil {
		t.Fatal(err)
	}
	a := st.deliver(t, "67890")
	if a.Body["status"] != "created" {
		t.Fatalf("webhook for a new user = %v", a.Body)
	}
	stored := storedAttributes(t, r, a.Body["user_id"].(string))
	if stored["bonbon_gender"] != nil || !slices.Equal(stored["bonbon_postal"], []string{"02139"}) {
		t.Errorf("new user stored %v, want postal and no gender", stored)
	}
}

func TestConsoleAnnotatedAttributeIsPickedUpOnTheRefreshInterval(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{Env: map[string]string{"BRIDGE_MAPPING_REFRESH": "1s"}})
	changeSampleUser(t, st, func(m map[string]any) { m["tier"] = "gold" })
	if a := st.deliver(t, "12345"); a.Body["status"] != "created" {
		t.Fatalf("first webhook = %v", a.Body)
	}

	// The admin declares an attribute of their own holding Bonbon's "tier".
	editProfile(t, r, func(p map[string]any) {
		p["attributes"] = append(p["attributes"].([]any), map[string]any{
			"name": "loyalty_tier", "displayName": "Loyalty tier", "group": "bonbon",
			"annotations": map[string]any{mapping.FieldAnnotation: "tier"},
			"permissions": map[string]any{"view": []any{"admin"}, "edit": []any{"admin"}},
		})
	})

	// Within two refresh intervals, the bridge applies it.
	reads := st.Calls.reads()
	deadline := time.Now().Add(10 * time.Second)
	for st.Calls.reads() < reads+2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	a := st.deliver(t, "12345")
	if a.Body["status"] != "updated" {
		t.Fatalf("webhook after the annotation = %v, want updated", a.Body)
	}
	assertAttrs(t, onlyUser(t, r),
		maps(sampleAttributes, map[string]string{"loyalty_tier": "gold"}))
}

// TestConsoleProvisionKeepsAdminEdits: provisioning again after an admin edited the
// Bonbon attributes in the console leaves every edit as it is and writes nothing.
func TestConsoleProvisionKeepsAdminEdits(t *testing.T) {
	r := newRealm(t)
	editProfile(t, r, func(p map[string]any) {
		profileAttr(t, p, "bonbon_postal")["name"] = "postal_code"
		profileAttr(t, p, "bonbon_gender")["displayName"] = "Geschlecht"
		profileAttr(t, p, "bonbon_bonbons")["permissions"] = map[string]any{
			"view": []any{"admin"}, "edit": []any{"admin"}}
		profileAttr(t, p, "bonbon_reward")["validations"] = map[string]any{
			"pattern": map[string]any{"pattern": "^[a-z0-9_]+$", "error-message": "bad reward"}}
		ads := profileAttr(t, p, "bonbon_personalized_ads")
		ads["group"] = "user-metadata"
		ads["annotations"].(map[string]any)["inputType"] = "select"
		dropAttr(p, "bonbon_newsletter")
		for _, g := range p["groups"].([]any) {
			if g := g.(map[string]any); g["name"] == "bonbon" {
				g["displayHeader"] = "Rewards programme"
			}
		}
	})
	before := profileJSON(t, r)

	var out bytes.Buffer
	pc := provisionConfig(t, r.Name, r.ClientSecret)
	pc.Out = &out
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatalf("provision again: %v", err)
	}
	t.Logf("provision after the edits:\n%s", out.String())
	if after := profileJSON(t, r); !bytes.Equal(before, after) {
		t.Errorf("provision changed the edited profile:\nbefore %s\nafter  %s", before, after)
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(line, "ok: ") {
			t.Errorf("provision planned a change: %q", line)
		}
	}
	for _, want := range []string{"held by attribute postal_code",
		"preferences.newsletter was declared before"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// A dry run with a field the realm never had shows just that field as a diff.
	pc.Profile.Attributes = append(pc.Profile.Attributes,
		keycloak.ProfileAttribute{Name: "bonbon_tier", DisplayName: "Tier", Field: "tier"})
	pc.DryRun = true
	out.Reset()
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatal(err)
	}
	t.Logf("dry run:\n%s", out.String())
	for _, want := range []string{"would user profile: declare attribute bonbon_tier",
		`+       "annotations": {"bonbon.field": "tier"},`, "--- user profile of realm"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run lacks %q", want)
		}
	}
	if after := profileJSON(t, r); !bytes.Equal(before, after) {
		t.Error("the dry run changed the profile")
	}
}

// TestConsoleProvisionNeverTouchesAnAdminsAttribute: an attribute the admin declared
// before provisioning, under a name provisioning would use, stays the admin's.
func TestConsoleProvisionNeverTouchesAnAdminsAttribute(t *testing.T) {
	name := "it-" + randomHex(4)
	secret := randomHex(16)
	pc := provisionConfig(t, name, secret)
	full := pc.Profile
	pc.Profile.Attributes = nil
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatal(err)
	}
	r := &realm{Name: name, ClientSecret: secret, Admin: gocloak.NewClient(server.URL)}
	declareAttribute(t, r, "bonbon_postal")
	own := profileAttrJSON(t, r, "bonbon_postal")

	pc.Profile = full
	var out bytes.Buffer
	pc.Out = &out
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatal(err)
	}
	if after := profileAttrJSON(t, r, "bonbon_postal"); after != own {
		t.Errorf("the admin's attribute changed:\nbefore %s\nafter  %s", own, after)
	}
	if !strings.Contains(out.String(), "attribute bonbon_postal exists without bonbon.field") {
		t.Errorf("output does not explain why postal is not stored:\n%s", out.String())
	}

	// The bridge does not write it: it holds no Bonbon field.
	st := newStack(t, r, stackOptions{})
	if a := st.deliver(t, "12345"); a.Body["status"] != "created" {
		t.Fatalf("webhook = %v", a.Body)
	}
	if v := (*onlyUser(t, r).Attributes)["bonbon_postal"]; v != nil {
		t.Errorf("the bridge wrote the admin's attribute: %v", v)
	}
}

func profileAttrJSON(t *testing.T, r *realm, name string) string {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(profileJSON(t, r), &p); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(profileAttr(t, p, name))
	return string(b)
}
