package mapping

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// attr renders one user-profile attribute declaration as Keycloak serves it.
func attr(name, group, field string, edit ...string) string {
	perms := `"permissions": {"view": ["admin", "user"], "edit": [` + quoteAll(edit) + `]}`
	ann := ""
	if field != "" {
		ann = `, "annotations": {"bonbon.field": ` + field + `}`
	}
	return `{"name": "` + name + `", "displayName": "` + name + ` label", "group": "` + group +
		`", ` + perms + ann + `}`
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = `"` + s + `"`
	}
	return strings.Join(q, ", ")
}

func profile(attrs ...string) []byte {
	return []byte(`{"unmanagedAttributePolicy": "ADMIN_VIEW", "attributes": [` +
		strings.Join(attrs, ", ") + `], "groups": [{"name": "bonbon"}]}`)
}

func TestFromProfile(t *testing.T) {
	tests := []struct {
		name        string
		profile     []byte
		want        []Attribute
		wantGroup   string
		wantSkipped []string // "attribute: reason prefix"
	}{{
		name: "annotated attributes in profile order, others ignored",
		profile: profile(
			attr("email", "", "", "admin", "user"),
			attr("zip", "bonbon", `"postal"`, "admin"),
			attr("loyalty_tier", "", "", "admin"),
			attr("newsletterOptIn", "bonbon", `"preferences.newsletter"`, "admin", "user"),
		),
		want: []Attribute{
			{Name: "zip", Field: "postal", DisplayName: "zip label"},
			{Name: "newsletterOptIn", Field: "preferences.newsletter",
				DisplayName: "newsletterOptIn label"},
		},
		wantGroup: "bonbon",
	}, {
		name:      "no annotated attribute maps nothing",
		profile:   profile(attr("email", "", "", "admin")),
		want:      []Attribute{},
		wantGroup: "bonbon",
	}, {
		name:      "group of the first mapped attribute",
		profile:   profile(attr("a", "", `"x"`, "admin"), attr("b", "rewards", `"y"`, "admin")),
		want:      []Attribute{{"a", "x", "a label"}, {"b", "y", "b label"}},
		wantGroup: "rewards",
	}, {
		name: "attributes the bridge could not write are skipped, the rest kept",
		profile: profile(
			attr("email", "", `"email"`, "admin"),
			attr("BONBON_PENDING_LINK", "bonbon", `"id"`, "admin"),
			attr("balance", "bonbon", `"bonbons"`),
			attr("balance_user", "bonbon", `"bonbons"`, "user"),
			attr("count", "bonbon", `42`, "admin"),
			attr("bad_path", "bonbon", `"preferences..pAds"`, "admin"),
			attr("spaced", "bonbon", `"a b"`, "admin"),
			attr("gender", "bonbon", `"gender"`, "admin"),
			attr("gender_copy", "bonbon", `"gender"`, "admin"),
		),
		want:      []Attribute{{"gender", "gender", "gender label"}},
		wantGroup: "bonbon",
		wantSkipped: []string{
			"email: the name is reserved",
			"BONBON_PENDING_LINK: the name is reserved",
			"balance: admins may not edit it",
			"balance_user: admins may not edit it",
			"count: the annotation's value is not text",
			"bad_path: not a Bonbon field path",
			"spaced: not a Bonbon field path",
			"gender_copy: field already held by attribute gender",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, skipped, err := FromProfile(tt.profile)
			if err != nil {
				t.Fatalf("FromProfile: %v", err)
			}
			if !reflect.DeepEqual(c.Attributes, tt.want) {
				t.Errorf("attributes = %+v\nwant %+v", c.Attributes, tt.want)
			}
			if c.Group != tt.wantGroup || c.GroupDisplayName != "Bonbon" {
				t.Errorf("group = %q %q, want %q \"Bonbon\"", c.Group, c.GroupDisplayName,
					tt.wantGroup)
			}
			checkSkipped(t, skipped, tt.wantSkipped)
		})
	}
}

func checkSkipped(t *testing.T, got []Skipped, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("skipped %d: %v\nwant %d: %v", len(got), got, len(want), want)
	}
	for i, w := range want {
		name, reason, _ := strings.Cut(w, ": ")
		if got[i].Attribute != name || !strings.HasPrefix(got[i].Reason, reason) {
			t.Errorf("skipped[%d] = %s, want %s", i, got[i], w)
		}
	}
}

func TestFromProfileRefusesWhatIsNotAProfile(t *testing.T) {
	for _, data := range []string{"", "[]", `{"attributes": {}}`, "{"} {
		t.Run(data, func(t *testing.T) {
			if _, _, err := FromProfile([]byte(data)); err == nil {
				t.Errorf("FromProfile(%q) = nil error, want one", data)
			}
		})
	}
}

// TestFromProfileKeycloakDefault reads the profile a new Keycloak 26 realm has, saved from
// the real server: no Bonbon attribute, so the bridge stores no attribute at all.
func TestFromProfileKeycloakDefault(t *testing.T) {
	data, err := os.ReadFile("testdata/keycloak-26-default-profile.json")
	if err != nil {
		t.Fatal(err)
	}
	c, skipped, err := FromProfile(data)
	if err != nil || len(c.Attributes) != 0 || len(skipped) != 0 {
		t.Errorf("FromProfile = %+v, %v, %v; want no attribute, nothing skipped", c, skipped, err)
	}
}

func TestSameAttributes(t *testing.T) {
	a := Default()
	b := Default()
	if !a.SameAttributes(b) {
		t.Error("two defaults differ")
	}
	b.Attributes[0].Name = "zip"
	if a.SameAttributes(b) {
		t.Error("a rename went unnoticed")
	}
}
