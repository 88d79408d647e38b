package mapping

import (
	"errors"
	"maps"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
)

func TestUsername(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string
	}{
		{name: "numeric id", id: "12345", want: "bonbon-12345"},
		{name: "dash and underscore", id: "a_b-c", want: "bonbon-a_b-c"},
		{name: "longest plain id", id: strings.Repeat("a", 63),
			want: "bonbon-" + strings.Repeat("a", 63)},
		{name: "too long for plain", id: strings.Repeat("a", 64)},
		{name: "upper case is hashed", id: "ABC",
			want: "bonbon-b5d4045c3f466fa91fe2cc6abe79232a.h"},
		{name: "punctuation is hashed", id: "User#42",
			want: "bonbon-e8bfb3e84d8c7e6d192fb57fe49c2825.h"},
		{name: "leading dash is hashed", id: "-12345"},
		{name: "leading underscore is hashed", id: "_12345"},
		{name: "dot is hashed", id: "a.h"},
		{name: "unicode is hashed", id: "ünïcode"},
		{name: "space is hashed", id: " 12345"},
		{name: "empty is hashed", id: ""},
	}
	hashed := regexp.MustCompile(`^bonbon-[0-9a-f]{32}\.h$`)
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Username(tt.id)
			if tt.want != "" && got != tt.want {
				t.Errorf("Username(%q) = %q, want %q", tt.id, got, tt.want)
			}
			if !plainID.MatchString(tt.id) && !hashed.MatchString(got) {
				t.Errorf("Username(%q) = %q, want the hashed form", tt.id, got)
			}
			if got != strings.ToLower(got) || got != Username(tt.id) {
				t.Errorf("Username(%q) = %q is not stable under lower-casing", tt.id, got)
			}
			if other, dup := seen[got]; dup {
				t.Errorf("Username(%q) = Username(%q) = %q", tt.id, other, got)
			}
			seen[got] = tt.id
		})
	}
	if Username("abc") == Username("ABC") {
		t.Error("ids differing in case share a username")
	}
}

// baseUser is a valid user close to the document's sample; cases change a copy.
func baseUser() bonbon.User {
	return bonbon.User{
		ID:            "12345",
		Email:         "alyssa@example.org",
		EmailVerified: true,
		FirstName:     "Alyssa",
		LastName:      "P. Hacker",
		Fields: map[string]string{
			"id":    "12345",
			"email": "alyssa@example.org", "email_verified": "true",
			"first_name": "Alyssa", "last_name": "P. Hacker",
			"postal": "90403", "gender": "Male", "bonbons": "100",
			"preferences.pAds": "true", "preferences.newsletter": "true",
			"reward": "airpods_v1",
		},
	}
}

func baseDesired() Desired {
	return Desired{
		BonbonID:      "12345",
		Username:      "bonbon-12345",
		Email:         "alyssa@example.org",
		EmailVerified: true,
		FirstName:     "Alyssa",
		LastName:      "P. Hacker",
		Attributes: map[string]string{
			"bonbon_postal": "90403", "bonbon_gender": "Male", "bonbon_bonbons": "100",
			"bonbon_personalized_ads": "true", "bonbon_newsletter": "true",
			"bonbon_reward": "airpods_v1",
		},
	}
}

func TestMap(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name    string
		config  *Config // nil means Default()
		user    func(u *bonbon.User)
		want    func(d *Desired)
		wantErr []string // ErrInvalidUser is implied
		noLeak  string   // a value the error must not quote
	}{
		{name: "sample-like user unchanged"},
		{
			name: "postal keeps leading zeros",
			user: func(u *bonbon.User) { u.Fields["postal"] = "00501" },
			want: func(d *Desired) { d.Attributes["bonbon_postal"] = "00501" },
		},
		{
			name: "numbers as canonical strings",
			user: func(u *bonbon.User) { u.Fields["bonbons"] = "12.75" },
			want: func(d *Desired) { d.Attributes["bonbon_bonbons"] = "12.75" },
		},
		{
			name: "negative and zero numbers",
			user: func(u *bonbon.User) { u.Fields["bonbons"] = "-3"; u.Fields["postal"] = "0" },
			want: func(d *Desired) {
				d.Attributes["bonbon_bonbons"] = "-3"
				d.Attributes["bonbon_postal"] = "0"
			},
		},
		{
			name: "false booleans kept",
			user: func(u *bonbon.User) {
				u.Fields["preferences.pAds"] = "false"
				u.Fields["preferences.newsletter"] = "false"
			},
			want: func(d *Desired) {
				d.Attributes["bonbon_personalized_ads"] = "false"
				d.Attributes["bonbon_newsletter"] = "false"
			},
		},
		{
			name: "unicode names and values",
			user: func(u *bonbon.User) {
				u.FirstName, u.LastName = "Zoë", "Núñez 李 🍬"
				u.Fields["gender"] = "Weiblich ♀"
			},
			want: func(d *Desired) {
				d.FirstName, d.LastName = "Zoë", "Núñez 李 🍬"
				d.Attributes["bonbon_gender"] = "Weiblich ♀"
			},
		},
		{
			name: "names trimmed, inner spaces kept",
			user: func(u *bonbon.User) { u.FirstName, u.LastName = "  Alyssa ", "\tP.  Hacker\n" },
			want: func(d *Desired) { d.LastName = "P.  Hacker" },
		},
		{
			name: "missing names stay empty",
			user: func(u *bonbon.User) { u.FirstName, u.LastName = "", "   " },
			want: func(d *Desired) { d.FirstName, d.LastName = "", "" },
		},
		{
			name: "upper-case and spaced email",
			user: func(u *bonbon.User) { u.Email = "  Alyssa.P.Hacker@Bonbon.TECH \t" },
			want: func(d *Desired) { d.Email = "alyssa.p.hacker@bonbon.tech" },
		},
		{
			name: "international email",
			user: func(u *bonbon.User) { u.Email = "Zoë@Exämple.de" },
			want: func(d *Desired) { d.Email = "zoë@exämple.de" },
		},
		{
			name: "no email: verified dropped",
			user: func(u *bonbon.User) { u.Email = "" },
			want: func(d *Desired) { d.Email, d.EmailVerified = "", false },
		},
		{
			name: "blank email counts as none",
			user: func(u *bonbon.User) { u.Email = "   " },
			want: func(d *Desired) { d.Email, d.EmailVerified = "", false },
		},
		{
			name: "unverified email",
			user: func(u *bonbon.User) { u.EmailVerified = false },
			want: func(d *Desired) { d.EmailVerified = false },
		},
		{
			name: "no fields at all",
			user: func(u *bonbon.User) { u.Fields = nil },
			want: func(d *Desired) { d.Attributes = map[string]string{} },
		},
		{
			name: "missing or null field left out",
			user: func(u *bonbon.User) { delete(u.Fields, "gender") },
			want: func(d *Desired) { delete(d.Attributes, "bonbon_gender") },
		},
		{
			name: "blank value left out",
			user: func(u *bonbon.User) { u.Fields["reward"] = ""; u.Fields["gender"] = "  " },
			want: func(d *Desired) {
				delete(d.Attributes, "bonbon_reward")
				delete(d.Attributes, "bonbon_gender")
			},
		},
		{
			name: "unknown fields ignored",
			user: func(u *bonbon.User) {
				u.Fields["loyalty.tier"] = "gold"
				u.Fields["preferences.sms"] = "true"
			},
		},
		{
			name:   "field left out of the config is not stored",
			config: &Config{Attributes: []Attribute{{Name: "bonbon_postal", Field: "postal"}}},
			want: func(d *Desired) {
				d.Attributes = map[string]string{"bonbon_postal": "90403"}
			},
		},
		{
			name:   "custom attribute names",
			config: &Config{Attributes: []Attribute{{Name: "zip", Field: "postal"}}},
			want:   func(d *Desired) { d.Attributes = map[string]string{"zip": "90403"} },
		},
		{
			name: "value of exactly 2048 characters",
			user: func(u *bonbon.User) { u.Fields["reward"] = long(2048) },
			want: func(d *Desired) { d.Attributes["bonbon_reward"] = long(2048) },
		},
		{
			name: "id needing a hash",
			user: func(u *bonbon.User) { u.ID = "User#42" },
			want: func(d *Desired) {
				d.BonbonID = "User#42"
				d.Username = "bonbon-e8bfb3e84d8c7e6d192fb57fe49c2825.h"
			},
		},
		{
			name: "name of exactly 255 characters",
			user: func(u *bonbon.User) { u.LastName = long(255) },
			want: func(d *Desired) { d.LastName = long(255) },
		},
		{
			name:    "value of 2049 characters",
			user:    func(u *bonbon.User) { u.Fields["reward"] = long(2049) },
			wantErr: []string{"attribute bonbon_reward (field reward): 2049 characters"},
		},
		{
			name:    "astral characters count twice",
			user:    func(u *bonbon.User) { u.Fields["reward"] = strings.Repeat("🍬", 1025) },
			wantErr: []string{"bonbon_reward", "2050 characters, more than 2048"},
		},
		{
			name:    "newline in a value",
			user:    func(u *bonbon.User) { u.Fields["gender"] = "Ma\nle" },
			wantErr: []string{"attribute bonbon_gender (field gender): contains a control"},
		},
		{
			name:    "NUL in a nested value",
			user:    func(u *bonbon.User) { u.Fields["preferences.pAds"] = "tr\x00ue" },
			wantErr: []string{"bonbon_personalized_ads (field preferences.pAds)"},
		},
		{
			name:    "invalid UTF-8 in a value",
			user:    func(u *bonbon.User) { u.Fields["postal"] = "\xff90403" },
			wantErr: []string{"bonbon_postal", "not valid UTF-8"},
		},
		{
			name:    "control character in a name",
			user:    func(u *bonbon.User) { u.FirstName = "Aly\x1bssa" },
			wantErr: []string{"first_name: contains a control character"},
		},
		{
			name:    "name of 256 characters",
			user:    func(u *bonbon.User) { u.LastName = long(256) },
			wantErr: []string{"last_name: 256 characters, more than 255"},
		},
		{
			name:    "email without @",
			user:    func(u *bonbon.User) { u.Email = "alyssa.example.org" },
			wantErr: []string{"email: not an address"},
			noLeak:  "alyssa.example.org",
		},
		{
			name:    "email with two @",
			user:    func(u *bonbon.User) { u.Email = "a@b@example.org" },
			wantErr: []string{"email: not an address"},
		},
		{
			name:    "email without local part",
			user:    func(u *bonbon.User) { u.Email = "@example.org" },
			wantErr: []string{"email: not an address"},
		},
		{
			name:    "email without domain",
			user:    func(u *bonbon.User) { u.Email = "alyssa@" },
			wantErr: []string{"email: not an address"},
		},
		{
			name:    "email with inner space",
			user:    func(u *bonbon.User) { u.Email = "aly ssa@example.org" },
			wantErr: []string{"email: contains whitespace"},
		},
		{
			name:    "email with control character",
			user:    func(u *bonbon.User) { u.Email = "aly\x7fssa@example.org" },
			wantErr: []string{"email: contains whitespace or a control character"},
		},
		{
			name:    "email not valid UTF-8",
			user:    func(u *bonbon.User) { u.Email = "aly\xffssa@example.org" },
			wantErr: []string{"email: not valid UTF-8"},
		},
		{
			name:    "email too long",
			user:    func(u *bonbon.User) { u.Email = "a@" + long(250) + ".org" },
			wantErr: []string{"email: longer than 254 bytes"},
		},
		{
			name:    "email local part too long",
			user:    func(u *bonbon.User) { u.Email = long(65) + "@example.org" },
			wantErr: []string{"email: local part longer than 64 bytes"},
		},
		{
			name:    "missing id",
			user:    func(u *bonbon.User) { u.ID = "" },
			wantErr: []string{"id: missing"},
		},
		{
			name:    "id too long for the link",
			user:    func(u *bonbon.User) { u.ID = long(256) },
			wantErr: []string{"id: 256 characters, more than 255"},
		},
		{
			name: "every problem reported at once",
			user: func(u *bonbon.User) {
				u.Email = "not-an-address"
				u.FirstName = "A\tB"
				u.Fields["bonbons"] = "1\r"
			},
			wantErr: []string{"email: not an address", "first_name: contains a control",
				"attribute bonbon_bonbons (field bonbons): contains a control"},
			noLeak: "not-an-address",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			if tt.config != nil {
				c = *tt.config
			}
			u := baseUser()
			if tt.user != nil {
				tt.user(&u)
			}

			got, err := c.Map(u)
			if tt.wantErr != nil {
				if !errors.Is(err, ErrInvalidUser) {
					t.Fatalf("Map() error = %v, want ErrInvalidUser", err)
				}
				assertErrContains(t, err, tt.wantErr...)
				if tt.noLeak != "" && strings.Contains(err.Error(), tt.noLeak) {
					t.Errorf("error %q quotes the value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Map() error = %v", err)
			}
			want := baseDesired()
			if tt.want != nil {
				tt.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Map() =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestMapDoesNotShareFields(t *testing.T) {
	u := baseUser()
	before := maps.Clone(u.Fields)
	d, err := Default().Map(u)
	if err != nil {
		t.Fatal(err)
	}
	d.Attributes["bonbon_postal"] = "changed"
	if !maps.Equal(u.Fields, before) {
		t.Error("changing Desired.Attributes changed the user's Fields")
	}
}
