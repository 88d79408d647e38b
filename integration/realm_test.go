package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/bridge/storetest"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// profileJSON reads the realm's user profile exactly as Keycloak serves it.
func profileJSON(t *testing.T, r *realm) []byte {
	t.Helper()
	resp, err := r.Admin.GetRequestWithBearerAuth(context.Background(), r.token(t)).
		Get(server.URL + "/admin/realms/" + r.Name + "/users/profile")
	if err != nil || resp.StatusCode() != http.StatusOK {
		t.Fatalf("read user profile: %v %v", err, resp.Status())
	}
	return resp.Body()
}

// declareAttribute adds an attribute of the admin's own to the realm's user profile.
func declareAttribute(t *testing.T, r *realm, name string) {
	t.Helper()
	var profile map[string]any
	if err := json.Unmarshal(profileJSON(t, r), &profile); err != nil {
		t.Fatal(err)
	}
	profile["attributes"] = append(profile["attributes"].([]any), map[string]any{
		"name": name, "displayName": name,
		"permissions": map[string]any{"view": []string{"admin"}, "edit": []string{"admin"}},
	})
	resp, err := r.Admin.GetRequestWithBearerAuth(context.Background(), r.token(t)).
		SetBody(profile).Put(server.URL + "/admin/realms/" + r.Name + "/users/profile")
	if err != nil || resp.StatusCode() != http.StatusOK {
		t.Fatalf("declare %s: %v %v", name, err, resp.Status())
	}
}

// changeSampleUser edits the document's sample user at the simulator.
func changeSampleUser(t *testing.T, st *stack, change func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile("../testdata/bonbon/users.json")
	if err != nil {
		t.Fatal(err)
	}
	var users []map[string]any
	if err := json.Unmarshal(data, &users); err != nil {
		t.Fatal(err)
	}
	change(users[0])
	raw, _ := json.Marshal(users[0])
	if err := st.Sim.PutUser(raw); err != nil {
		t.Fatal(err)
	}
}

func TestProvisionTwiceChangesNothing(t *testing.T) {
	name := "it-" + randomHex(4)
	secret := randomHex(16)
	var first, second bytes.Buffer
	pc := provisionConfig(t, name, secret)
	pc.Out = &first
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatalf("first provision: %v", err)
	}
	r := &realm{Name: name, ClientSecret: secret, Admin: gocloak.NewClient(server.URL)}
	profile := profileJSON(t, r)

	pc.Out = &second
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatalf("second provision: %v", err)
	}
	if again := profileJSON(t, r); !bytes.Equal(profile, again) {
		t.Errorf("user profile changed on the second run:\nfirst  %s\nsecond %s", profile, again)
	}
	for _, line := range strings.Split(strings.TrimSpace(second.String()), "\n") {
		if !strings.HasPrefix(line, "ok: ") {
			t.Errorf("second run planned a change: %q", line)
		}
	}
	t.Logf("first run:\n%s", first.String())

	// The bridge's own credentials work, and only with its roles.
	kc, err := keycloak.New(keycloak.Config{URL: server.URL, Realm: name, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.Ping(t.Context()); err != nil {
		t.Errorf("bridge client cannot use the realm: %v", err)
	}
}

func TestProvisionDryRunChangesNothing(t *testing.T) {
	name := "it-" + randomHex(4)
	r := &realm{Name: name, Admin: gocloak.NewClient(server.URL)}
	pc := provisionConfig(t, name, randomHex(8))
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatal(err)
	}
	before := profileJSON(t, r)
	pc.Profile.Attributes = append(pc.Profile.Attributes, keycloak.ProfileAttribute{Name: "bonbon_extra"})
	pc.DryRun = true
	var out bytes.Buffer
	pc.Out = &out
	if err := keycloak.Provision(t.Context(), pc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would user profile: declare attribute bonbon_extra") {
		t.Errorf("dry run output lacks the plan:\n%s", out.String())
	}
	if after := profileJSON(t, r); !bytes.Equal(before, after) {
		t.Errorf("dry run changed the profile")
	}
}

func TestReadiness(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	if status := get(t, st.BridgeURL+"/readyz"); status != http.StatusOK {
		t.Errorf("readyz = %d with a working Keycloak, want 200", status)
	}
	bad := *r
	bad.ClientSecret = "wrong"
	st = newStack(t, &bad, stackOptions{})
	if status := get(t, st.BridgeURL+"/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("readyz = %d with a wrong secret, want 503", status)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestStoreConformance runs the suite the in-memory fake passes against the real store.
func TestStoreConformance(t *testing.T) {
	r := newRealm(t)
	kc, err := keycloak.New(keycloak.Config{URL: server.URL, Realm: r.Name, ClientSecret: r.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	seed := func(u keycloak.User) (string, error) {
		attrs := u.Attributes
		return r.Admin.CreateUser(context.Background(), r.token(t), r.Name, gocloak.User{
			Username: &u.Username, Email: &u.Email, EmailVerified: &u.EmailVerified,
			FirstName: &u.FirstName, LastName: &u.LastName, Attributes: &attrs,
			Enabled: gocloak.BoolP(true),
		})
	}
	storetest.Run(t, func(*testing.T) storetest.Subject { return storetest.Subject{Store: kc, Seed: seed} })
}
