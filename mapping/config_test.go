package mapping

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if c.Group != "bonbon" || c.GroupDisplayName != "Bonbon" {
		t.Errorf("group = %q/%q, want bonbon/Bonbon", c.Group, c.GroupDisplayName)
	}
	want := []Attribute{
		{Name: "bonbon_postal", Field: "postal", DisplayName: "Postal code"},
		{Name: "bonbon_gender", Field: "gender", DisplayName: "Gender"},
		{Name: "bonbon_bonbons", Field: "bonbons", DisplayName: "Bonbons balance"},
		{Name: "bonbon_personalized_ads", Field: "preferences.pAds",
			DisplayName: "Personalized ads"},
		{Name: "bonbon_newsletter", Field: "preferences.newsletter", DisplayName: "Newsletter"},
		{Name: "bonbon_reward", Field: "reward", DisplayName: "Reward"},
	}
	if !reflect.DeepEqual(c.Attributes, want) {
		t.Errorf("Default().Attributes =\n%+v\nwant\n%+v", c.Attributes, want)
	}
}

func TestParse(t *testing.T) {
	one := "attributes:\n  - {name: bonbon_postal, field: postal, display_name: Postal}\n"
	tests := []struct {
		name    string
		yaml    string
		want    Config
		wantErr []string // substrings that must all appear; nil means success
	}{
		{
			name: "defaults applied",
			yaml: one,
			want: Config{Group: "bonbon", GroupDisplayName: "Bonbon", Attributes: []Attribute{
				{Name: "bonbon_postal", Field: "postal", DisplayName: "Postal"},
			}},
		},
		{
			name: "explicit group kept",
			yaml: "group: loyalty\ngroup_display_name: Loyalty data\n" + one,
			want: Config{Group: "loyalty", GroupDisplayName: "Loyalty data",
				Attributes: []Attribute{
					{Name: "bonbon_postal", Field: "postal", DisplayName: "Postal"},
				}},
		},
		{
			name: "no attributes on purpose",
			yaml: "attributes: []\n",
			want: Config{Group: "bonbon", GroupDisplayName: "Bonbon", Attributes: []Attribute{}},
		},
		{
			name: "name of 100 characters",
			yaml: "attributes:\n  - {name: a" + strings.Repeat("b", 99) + ", field: x}\n",
			want: Config{Group: "bonbon", GroupDisplayName: "Bonbon", Attributes: []Attribute{
				{Name: "a" + strings.Repeat("b", 99), Field: "x"},
			}},
		},
		{name: "empty document", yaml: "", wantErr: []string{"empty document"}},
		{name: "only a comment", yaml: "# nothing\n", wantErr: []string{"empty document"}},
		{name: "syntax error", yaml: "attributes: [\n", wantErr: []string{"parse mapping config"}},
		{
			name:    "two documents",
			yaml:    one + "---\n" + one,
			wantErr: []string{"more than one YAML document"},
		},
		{name: "unknown top-level key", yaml: "grup: x\n" + one, wantErr: []string{"grup"}},
		{
			name:    "unknown attribute key",
			yaml:    "attributes:\n  - {name: bonbon_postal, feild: postal}\n",
			wantErr: []string{"feild"},
		},
		{
			name:    "duplicate YAML key",
			yaml:    "group: a\ngroup: b\n" + one,
			wantErr: []string{"already defined"},
		},
		{
			name:    "wrong type",
			yaml:    "attributes: postal\n",
			wantErr: []string{"parse mapping config"},
		},
		{
			name: "duplicate names",
			yaml: "attributes:\n  - {name: bonbon_x, field: a}\n" +
				"  - {name: bonbon_x, field: b}\n",
			wantErr: []string{`attributes[1] ("bonbon_x"): name already used by attributes[0]`},
		},
		{
			name: "duplicate fields",
			yaml: "attributes:\n  - {name: bonbon_a, field: postal}\n" +
				"  - {name: bonbon_b, field: postal}\n",
			wantErr: []string{`field "postal" already mapped by attributes[0]`},
		},
		{
			name:    "reserved name email",
			yaml:    "attributes:\n  - {name: email, field: email}\n",
			wantErr: []string{`("email"): name is reserved`},
		},
		{
			name:    "reserved name is the marker",
			yaml:    "attributes:\n  - {name: bonbon_pending_link, field: x}\n",
			wantErr: []string{`("bonbon_pending_link"): name is reserved`},
		},
		{
			name:    "reserved name in another case",
			yaml:    "attributes:\n  - {name: firstname, field: first_name}\n",
			wantErr: []string{`("firstname"): name is reserved`},
		},
		{
			name: "reserved camelCase name fails twice",
			yaml: "attributes:\n  - {name: lastName, field: last_name}\n",
			wantErr: []string{`("lastName"): name must match`,
				`("lastName"): name is reserved`},
		},
		{
			name:    "upper-case name",
			yaml:    "attributes:\n  - {name: Bonbon_postal, field: postal}\n",
			wantErr: []string{"name must match"},
		},
		{
			name:    "name with a dash",
			yaml:    "attributes:\n  - {name: bonbon-postal, field: postal}\n",
			wantErr: []string{"name must match"},
		},
		{
			name:    "name starting with a digit",
			yaml:    "attributes:\n  - {name: 1postal, field: postal}\n",
			wantErr: []string{"name must match"},
		},
		{
			name:    "non-ASCII name",
			yaml:    "attributes:\n  - {name: bonbon_plz_ä, field: postal}\n",
			wantErr: []string{"name must match"},
		},
		{
			name:    "name of 101 characters",
			yaml:    "attributes:\n  - {name: a" + strings.Repeat("b", 100) + ", field: x}\n",
			wantErr: []string{"name must match"},
		},
		{
			name:    "missing name",
			yaml:    "attributes:\n  - {field: postal}\n",
			wantErr: []string{`("")`, "name must match"},
		},
		{
			name:    "missing field",
			yaml:    "attributes:\n  - {name: bonbon_postal}\n",
			wantErr: []string{"field: empty"},
		},
		{
			name:    "field with empty segment",
			yaml:    "attributes:\n  - {name: bonbon_ads, field: preferences..pAds}\n",
			wantErr: []string{"empty segment"},
		},
		{
			name:    "field with leading dot",
			yaml:    "attributes:\n  - {name: bonbon_ads, field: .pAds}\n",
			wantErr: []string{"empty segment"},
		},
		{
			name:    "field with a space",
			yaml:    "attributes:\n  - {name: bonbon_ads, field: \"preferences. pAds\"}\n",
			wantErr: []string{"whitespace"},
		},
		{
			name:    "bad group name",
			yaml:    "group: Bonbon Data\n" + one,
			wantErr: []string{`group "Bonbon Data"`},
		},
		{
			name: "every problem reported at once",
			yaml: "attributes:\n" +
				"  - {name: email, field: a}\n" +
				"  - {name: Bad, field: b}\n" +
				"  - {name: bonbon_c, field: a}\n" +
				"  - {name: bonbon_c, field: \"\"}\n",
			wantErr: []string{
				`attributes[0] ("email"): name is reserved`,
				`attributes[1] ("Bad"): name must match`,
				`attributes[2] ("bonbon_c"): field "a" already mapped by attributes[0]`,
				`attributes[3] ("bonbon_c"): name already used by attributes[2]`,
				`attributes[3] ("bonbon_c"): field: empty`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml))
			if tt.wantErr != nil {
				assertErrContains(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, good, "attributes:\n  - {name: bonbon_reward, field: reward}\n")
	writeFile(t, bad, "attributes:\n  - {name: email, field: email}\n")

	tests := []struct {
		name    string
		path    string
		want    []string
		wantErr []string
	}{
		{name: "valid file", path: good, want: []string{"bonbon_reward"}},
		{name: "missing file", path: filepath.Join(dir, "nope.yaml"),
			wantErr: []string{"read mapping config"}},
		{name: "invalid file names the path", path: bad,
			wantErr: []string{bad, "name is reserved"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.path)
			if tt.wantErr != nil {
				assertErrContains(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if !reflect.DeepEqual(got.Names(), tt.want) {
				t.Errorf("Load().Names() = %v, want %v", got.Names(), tt.want)
			}
		})
	}
}

func TestValidateHandBuilt(t *testing.T) {
	tests := []struct {
		name    string
		c       Config
		wantErr []string
	}{
		{name: "zero config lacks a group", c: Config{}, wantErr: []string{`group ""`}},
		{
			name: "control character in display names",
			c: Config{Group: "bonbon", GroupDisplayName: "Bon\nbon", Attributes: []Attribute{
				{Name: "bonbon_x", Field: "x", DisplayName: "X\x00"},
			}},
			wantErr: []string{"group_display_name", "display_name contains a control"},
		},
		{name: "valid without attributes", c: Config{Group: "bonbon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			assertErrContains(t, err, tt.wantErr...)
		})
	}
}

func TestNamesIsACopyWithoutMarker(t *testing.T) {
	c := Default()
	names := c.Names()
	want := []string{"bonbon_postal", "bonbon_gender", "bonbon_bonbons",
		"bonbon_personalized_ads", "bonbon_newsletter", "bonbon_reward"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	names[0] = "changed"
	if c.Names()[0] != "bonbon_postal" || c.Attributes[0].Name != "bonbon_postal" {
		t.Error("changing the result of Names() changed the config")
	}
}

func assertErrContains(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
