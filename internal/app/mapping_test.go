package app

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// TestProvisionedProfileReadsBackAsTheMapping: what provisioning declares in a new realm
// is, read back from the profile, the mapping it was declared from.
func TestProvisionedProfileReadsBackAsTheMapping(t *testing.T) {
	if keycloak.FieldAnnotation != mapping.FieldAnnotation {
		t.Fatalf("provisioning writes %q, the bridge reads %q", keycloak.FieldAnnotation,
			mapping.FieldAnnotation)
	}
	fresh, err := os.ReadFile("../../mapping/testdata/keycloak-26-default-profile.json")
	if err != nil {
		t.Fatal(err)
	}
	next, _, _, err := ProfileSpec(mapping.Default()).PlanProfile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, skipped, err := mapping.FromProfile(next)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("FromProfile: %v, skipped %v", err, skipped)
	}
	if want := mapping.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v\nwant %+v", got, want)
	}
}

func TestPrintMappingFromTheRealm(t *testing.T) {
	profile := `{"attributes": [
		{"name": "email", "permissions": {"edit": ["admin", "user"]}},
		{"name": "zip", "displayName": "ZIP", "permissions": {"edit": ["admin"]},
		 "annotations": {"bonbon.field": "postal"}},
		{"name": "balance", "permissions": {"edit": []},
		 "annotations": {"bonbon.field": "bonbons"}}]}`
	kc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/realms/shop/protocol/openid-connect/token":
			_, _ = w.Write([]byte(`{"access_token": "t", "token_type": "Bearer",
				"expires_in": 60}`))
		case "/admin/realms/shop/users/profile":
			_, _ = w.Write([]byte(profile))
		default:
			http.NotFound(w, r)
		}
	}))
	defer kc.Close()
	var out bytes.Buffer
	err := PrintMapping(t.Context(), envOf(map[string]string{"KEYCLOAK_URL": kc.URL,
		"KEYCLOAK_REALM": "shop", "KEYCLOAK_CLIENT_SECRET": "s"}), &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"realm shop's user profile", "zip", "postal", "ZIP",
		"attribute balance (field bonbons): admins may not edit it"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPrintMappingFromAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mapping.yaml")
	yaml := "attributes:\n  - name: zip\n    field: postal\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// No Keycloak is named: with a file, the realm is not read.
	if err := PrintMapping(t.Context(), envOf(map[string]string{"BRIDGE_MAPPING_FILE": file}),
		&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "does not read the realm's user profile") ||
		!strings.Contains(out.String(), "zip") {
		t.Errorf("output:\n%s", out.String())
	}
}
