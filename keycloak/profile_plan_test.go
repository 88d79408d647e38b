package keycloak

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// testSpec declares two Bonbon fields and the marker, as app.ProfileSpec would.
var testSpec = ProfileSpec{
	Group: "bonbon", GroupDisplayName: "Bonbon",
	Attributes: []ProfileAttribute{
		{Name: "bonbon_postal", DisplayName: "Postal code", Field: "postal"},
		{Name: "bonbon_newsletter", DisplayName: "Newsletter", Field: "preferences.newsletter"},
	},
	AdminOnly: []ProfileAttribute{{Name: "bonbon_pending_link", DisplayName: "Pending"}},
}

// defaultProfile is a new Keycloak 26 realm's user profile, saved from the real server.
func defaultProfile(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/keycloak-26-default-profile.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// provisioned is the default profile after a first run of testSpec.
func provisioned(t *testing.T) []byte {
	t.Helper()
	next, changes, _, err := testSpec.PlanProfile(defaultProfile(t))
	if err != nil || len(changes) == 0 {
		t.Fatalf("first plan: %v, %v", changes, err)
	}
	return next
}

// adminEdit decodes a profile, lets f change it as an admin would in the console, re-encodes it.
func adminEdit(t *testing.T, profile []byte,
	f func(attrs map[string]map[string]any, p map[string]any)) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(profile, &p); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, raw := range p["attributes"].([]any) {
		a := raw.(map[string]any)
		byName[a["name"].(string)] = a
	}
	f(byName, p)
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func removeAttr(p map[string]any, name string) {
	var kept []any
	for _, raw := range p["attributes"].([]any) {
		if raw.(map[string]any)["name"] != name {
			kept = append(kept, raw)
		}
	}
	p["attributes"] = kept
}

func TestPlanProfileFirstRun(t *testing.T) {
	next, changes, notes, err := testSpec.PlanProfile(defaultProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"add attribute group bonbon",
		"declare attribute bonbon_postal for Bonbon field postal",
		"declare attribute bonbon_newsletter for Bonbon field preferences.newsletter",
		"declare attribute bonbon_pending_link",
		"record in group bonbon that provisioning declared Bonbon fields postal, " +
			"preferences.newsletter",
	}
	if !reflect.DeepEqual(changes, want) || len(notes) != 0 {
		t.Errorf("changes = %q\nwant %q\nnotes %q", changes, want, notes)
	}
	var p struct {
		Attributes []struct {
			Name        string
			Group       string
			Annotations map[string]string
			Permissions struct{ View, Edit []string }
		}
		Groups []struct {
			Name, DisplayHeader string
			Annotations         map[string]string
		}
	}
	if err := json.Unmarshal(next, &p); err != nil {
		t.Fatal(err)
	}
	postal := p.Attributes[len(p.Attributes)-3]
	if postal.Name != "bonbon_postal" || postal.Group != "bonbon" ||
		postal.Annotations[FieldAnnotation] != "postal" ||
		!reflect.DeepEqual(postal.Permissions.View, []string{"admin", "user"}) ||
		!reflect.DeepEqual(postal.Permissions.Edit, []string{"admin"}) {
		t.Errorf("bonbon_postal declared as %+v", postal)
	}
	g := p.Groups[len(p.Groups)-1]
	if g.Name != "bonbon" || g.DisplayHeader != "Bonbon" ||
		g.Annotations[DeclaredAnnotation] != "postal preferences.newsletter" {
		t.Errorf("group declared as %+v", g)
	}
}

func TestPlanProfileLeavesAdminEditsAlone(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(map[string]map[string]any, map[string]any)
		wantChanges []string
		wantNotes   []string
	}{{
		name: "nothing edited",
	}, {
		name: "display name, permissions, validators, group header edited",
		edit: func(a map[string]map[string]any, p map[string]any) {
			a["bonbon_postal"]["displayName"] = "ZIP"
			a["bonbon_postal"]["permissions"] = map[string]any{"view": []any{"admin"},
				"edit": []any{"admin"}}
			a["bonbon_postal"]["validations"] = map[string]any{"pattern": map[string]any{
				"pattern": "^[0-9]{5}$"}}
			a["bonbon_newsletter"]["group"] = "user-metadata"
			groups := p["groups"].([]any)
			groups[len(groups)-1].(map[string]any)["displayHeader"] = "Rewards"
		},
	}, {
		name: "renamed",
		edit: func(a map[string]map[string]any, _ map[string]any) {
			a["bonbon_postal"]["name"] = "zip"
		},
		wantNotes: []string{"Bonbon field postal is held by attribute zip (not bonbon_postal)"},
	}, {
		name: "removed",
		edit: func(_ map[string]map[string]any, p map[string]any) {
			removeAttr(p, "bonbon_newsletter")
		},
		wantNotes: []string{"Bonbon field preferences.newsletter was declared before"},
	}, {
		name: "annotation moved to an attribute of the admin's",
		edit: func(a map[string]map[string]any, p map[string]any) {
			removeAttr(p, "bonbon_postal")
			p["attributes"] = append(p["attributes"].([]any), map[string]any{
				"name": "postalCode", "annotations": map[string]any{FieldAnnotation: "postal"},
				"permissions": map[string]any{"edit": []any{"admin"}},
			})
		},
		wantNotes: []string{"Bonbon field postal is held by attribute postalCode"},
	}, {
		name: "edit permission taken from admins",
		edit: func(a map[string]map[string]any, _ map[string]any) {
			a["bonbon_postal"]["permissions"] = map[string]any{"view": []any{"admin"}}
			a["bonbon_pending_link"]["permissions"] = map[string]any{"edit": []any{"user"}}
		},
		wantNotes: []string{
			"attribute bonbon_postal: admins may not edit it, so the bridge cannot write " +
				"Bonbon field postal there",
			"attribute bonbon_pending_link: admins may not edit it, so the bridge cannot set it",
		},
	}, {
		name: "marker removed",
		edit: func(_ map[string]map[string]any, p map[string]any) {
			removeAttr(p, "bonbon_pending_link")
		},
		wantChanges: []string{"declare attribute bonbon_pending_link"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := provisioned(t)
			if tt.edit != nil {
				before = adminEdit(t, before, tt.edit)
			}
			next, changes, notes, err := testSpec.PlanProfile(before)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(changes, tt.wantChanges) {
				t.Errorf("changes = %q, want %q", changes, tt.wantChanges)
			}
			checkPrefixes(t, "notes", notes, tt.wantNotes)
			if len(changes) == 0 && !sameJSON(t, before, next) {
				t.Errorf("no change listed, but the profile changed:\n%s",
					profileDiff("r", before, next))
			}
		})
	}
}

func checkPrefixes(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %q, want prefixes %q", what, got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("%s[%d] = %q, want prefix %q", what, i, got[i], want[i])
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		t.Fatal("not JSON")
	}
	return reflect.DeepEqual(va, vb)
}

func TestPlanProfileNeverTouchesAnAdminsAttribute(t *testing.T) {
	// The admin declared bonbon_postal before the first run, for something else.
	before := adminEdit(t, defaultProfile(t), func(_ map[string]map[string]any, p map[string]any) {
		p["attributes"] = append(p["attributes"].([]any), map[string]any{
			"name": "bonbon_postal", "displayName": "Our own", "permissions": map[string]any{
				"view": []any{"admin"}, "edit": []any{}},
		})
	})
	next, changes, notes, err := testSpec.PlanProfile(before)
	if err != nil {
		t.Fatal(err)
	}
	checkPrefixes(t, "notes", notes, []string{"attribute bonbon_postal exists without " +
		"bonbon.field=postal: it is not provisioning's and is left alone"})
	for _, c := range changes {
		if strings.Contains(c, "bonbon_postal") || strings.Contains(c, "postal,") {
			t.Errorf("planned %q", c)
		}
	}
	var p struct{ Attributes []map[string]any }
	_ = json.Unmarshal(next, &p)
	for _, a := range p.Attributes {
		if a["name"] == "bonbon_postal" && (a["displayName"] != "Our own" || a["group"] != nil) {
			t.Errorf("the admin's attribute was changed: %v", a)
		}
	}
}

func TestPlanProfileNewFieldLater(t *testing.T) {
	spec := testSpec
	spec.Attributes = append(spec.Attributes[:len(spec.Attributes):len(spec.Attributes)],
		ProfileAttribute{Name: "bonbon_reward", DisplayName: "Reward", Field: "reward"})
	_, changes, _, err := spec.PlanProfile(provisioned(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"declare attribute bonbon_reward for Bonbon field reward",
		"record in group bonbon that provisioning declared Bonbon fields reward",
	}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes = %q, want %q", changes, want)
	}
}

func TestPlanProfileRefusesWhatIsNotAProfile(t *testing.T) {
	for _, data := range []string{"", "null", "[]", "{"} {
		if _, _, _, err := testSpec.PlanProfile([]byte(data)); err == nil {
			t.Errorf("PlanProfile(%q) = nil error", data)
		}
	}
}

func TestLineDiff(t *testing.T) {
	a := strings.Split("a b c d e f g h i j k l m", " ")
	b := strings.Split("a b c X d e f g h i j k l m Y", " ")
	want := "@@ -1,6 +1,7 @@\n  a\n  b\n  c\n+ X\n  d\n  e\n  f\n" +
		"@@ -11,3 +12,4 @@\n  k\n  l\n  m\n+ Y\n"
	if got := lineDiff(a, b, 3); got != want {
		t.Errorf("lineDiff =\n%s\nwant\n%s", got, want)
	}
	if got := lineDiff(a, a, 3); got != "" {
		t.Errorf("equal inputs gave %q", got)
	}
	if got := lineDiff([]string{"x"}, []string{"y"}, 3); got != "@@ -1,1 +1,1 @@\n- x\n+ y\n" {
		t.Errorf("replacement gave %q", got)
	}
}

func TestProfileDiffShowsOnlyTheAdditions(t *testing.T) {
	before := defaultProfile(t)
	next, _, _, err := testSpec.PlanProfile(before)
	if err != nil {
		t.Fatal(err)
	}
	d := profileDiff("demo", before, next)
	for _, line := range strings.Split(strings.TrimSpace(d), "\n")[2:] {
		if strings.HasPrefix(line, "- ") {
			t.Errorf("diff removes a line: %q", line)
		}
	}
	for _, want := range []string{`+       "name": "bonbon_postal",`,
		`+       "annotations": {"bonbon.field": "postal"},`,
		`+       "permissions": {"edit": ["admin"], "view": ["admin", "user"]},`} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
}
