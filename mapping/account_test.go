package mapping

import (
	"reflect"
	"testing"
)

func TestNewAccount(t *testing.T) {
	tests := []struct {
		name string
		d    Desired
		want Account
	}{
		{
			name: "full user",
			d:    baseDesired(),
			want: Account{
				Username: "bonbon-12345", Email: "alyssa@example.org", EmailVerified: true,
				FirstName: "Alyssa", LastName: "P. Hacker",
				Attributes: map[string][]string{
					"bonbon_postal": {"90403"}, "bonbon_gender": {"Male"},
					"bonbon_bonbons": {"100"}, "bonbon_personalized_ads": {"true"},
					"bonbon_newsletter": {"true"}, "bonbon_reward": {"airpods_v1"},
				},
			},
		},
		{
			name: "no email is never verified",
			d:    Desired{BonbonID: "7", Username: "bonbon-7", EmailVerified: true},
			want: Account{Username: "bonbon-7", Attributes: map[string][]string{}},
		},
		{
			name: "marker never set",
			d: Desired{Username: "bonbon-7", Attributes: map[string]string{
				PendingLinkAttribute: "x", "bonbon_reward": "r"}},
			want: Account{Username: "bonbon-7",
				Attributes: map[string][]string{"bonbon_reward": {"r"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.NewAccount(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("NewAccount() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// stored is the account NewAccount(baseDesired()) creates, as read back from Keycloak.
func stored() Account { return baseDesired().NewAccount() }

func TestApply(t *testing.T) {
	owned := Default().Names()
	tests := []struct {
		name        string
		cur         func(a *Account) // changes stored(); nil keeps it
		d           func(d *Desired) // changes baseDesired(); nil keeps it
		owned       []string         // nil means Default().Names()
		want        func(a *Account) // changes the result of cur; nil means want == cur
		wantChanged bool
	}{
		{name: "same data is a no-op"},
		{
			name: "nil and empty attributes are equal",
			cur:  func(a *Account) { a.Attributes = nil },
			d:    func(d *Desired) { d.Attributes = map[string]string{} },
		},
		{
			name: "attribute with no values equals an absent one",
			cur:  func(a *Account) { a.Attributes["admin_note"] = []string{} },
		},
		{
			name:        "changed attribute",
			d:           func(d *Desired) { d.Attributes["bonbon_bonbons"] = "250" },
			want:        func(a *Account) { a.Attributes["bonbon_bonbons"] = []string{"250"} },
			wantChanged: true,
		},
		{
			name: "new attribute on an account without any",
			cur:  func(a *Account) { a.Attributes = nil },
			d:    func(d *Desired) { d.Attributes = map[string]string{"bonbon_reward": "r"} },
			want: func(a *Account) {
				a.Attributes = map[string][]string{"bonbon_reward": {"r"}}
			},
			wantChanged: true,
		},
		{
			name: "owned attribute missing from Bonbon is kept",
			d:    func(d *Desired) { delete(d.Attributes, "bonbon_postal") },
		},
		{
			name:        "multi-valued owned attribute becomes single",
			cur:         func(a *Account) { a.Attributes["bonbon_gender"] = []string{"Male", "x"} },
			want:        func(a *Account) { a.Attributes["bonbon_gender"] = []string{"Male"} },
			wantChanged: true,
		},
		{
			name: "attributes the bridge does not own survive",
			cur:  func(a *Account) { a.Attributes["admin_note"] = []string{"vip", "b2b"} },
			d:    func(d *Desired) { d.Attributes["bonbon_newsletter"] = "false" },
			want: func(a *Account) {
				a.Attributes["bonbon_newsletter"] = []string{"false"}
			},
			wantChanged: true,
		},
		{
			name:  "desired attribute not owned is not written",
			owned: []string{"bonbon_postal"},
			d:     func(d *Desired) { d.Attributes["bonbon_reward"] = "other" },
		},
		{
			name:  "marker untouched even when listed and sent",
			cur:   func(a *Account) { a.Attributes[PendingLinkAttribute] = []string{"12345"} },
			owned: append([]string{PendingLinkAttribute}, owned...),
			d:     func(d *Desired) { d.Attributes[PendingLinkAttribute] = "other" },
		},
		{
			name: "marker untouched when absent",
			d:    func(d *Desired) { d.Attributes[PendingLinkAttribute] = "other" },
		},
		{
			name: "username never changes",
			cur:  func(a *Account) { a.Username = "alyssa-by-hand" },
		},
		{
			name: "email changed takes Bonbon's verification",
			d: func(d *Desired) {
				d.Email, d.EmailVerified = "new@example.org", false
			},
			want: func(a *Account) {
				a.Email, a.EmailVerified = "new@example.org", false
			},
			wantChanged: true,
		},
		{
			name:        "email changed and verified at Bonbon",
			cur:         func(a *Account) { a.EmailVerified = false },
			d:           func(d *Desired) { d.Email = "new@example.org" },
			want:        func(a *Account) { a.Email, a.EmailVerified = "new@example.org", true },
			wantChanged: true,
		},
		{
			name: "same email: verification never downgraded",
			d:    func(d *Desired) { d.EmailVerified = false },
		},
		{
			name:        "same email: verification upgraded",
			cur:         func(a *Account) { a.EmailVerified = false },
			want:        func(a *Account) { a.EmailVerified = true },
			wantChanged: true,
		},
		{
			name: "stored email in other case is the same address",
			cur: func(a *Account) {
				a.Email, a.EmailVerified = " Alyssa@Example.org", true
			},
			d:           func(d *Desired) { d.EmailVerified = false },
			want:        func(a *Account) { a.Email = "alyssa@example.org" },
			wantChanged: true,
		},
		{
			name: "no email from Bonbon keeps email and verification",
			d:    func(d *Desired) { d.Email, d.EmailVerified = "", false },
		},
		{
			name: "no email from Bonbon, none stored",
			cur:  func(a *Account) { a.Email, a.EmailVerified = "", false },
			d:    func(d *Desired) { d.Email, d.EmailVerified = "", false },
		},
		{
			name: "missing names keep stored ones",
			d:    func(d *Desired) { d.FirstName, d.LastName = "", "" },
		},
		{
			name:        "new last name",
			d:           func(d *Desired) { d.LastName = "Hacker-Bitdiddle" },
			want:        func(a *Account) { a.LastName = "Hacker-Bitdiddle" },
			wantChanged: true,
		},
		{
			name:        "names filled in on an account without them",
			cur:         func(a *Account) { a.FirstName, a.LastName = "", "" },
			want:        func(a *Account) { a.FirstName, a.LastName = "Alyssa", "P. Hacker" },
			wantChanged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, d := stored(), baseDesired()
			if tt.cur != nil {
				tt.cur(&cur)
			}
			if tt.d != nil {
				tt.d(&d)
			}
			own := owned
			if tt.owned != nil {
				own = tt.owned
			}
			want := cloneAccount(cur)
			if tt.want != nil {
				tt.want(&want)
			}
			before := cloneAccount(cur)

			got, changed := d.Apply(cur, own)
			if !reflect.DeepEqual(cur, before) {
				t.Errorf("Apply mutated cur:\n%+v\nwas\n%+v", cur, before)
			}
			if changed != tt.wantChanged {
				t.Errorf("Apply() changed = %v, want %v", changed, tt.wantChanged)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Apply() =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestApplyResultSharesNothing(t *testing.T) {
	cur := stored()
	next, _ := baseDesired().Apply(cur, Default().Names())
	next.Attributes["bonbon_postal"][0] = "changed"
	next.Attributes["admin_note"] = []string{"x"}
	if cur.Attributes["bonbon_postal"][0] != "90403" || cur.Attributes["admin_note"] != nil {
		t.Error("changing Apply's result changed cur")
	}
}

func cloneAccount(a Account) Account {
	a.Attributes = cloneAttributes(a.Attributes)
	return a
}
