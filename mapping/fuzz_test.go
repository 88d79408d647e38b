package mapping

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/fuzzseed"
)

// FuzzMapApply runs Bonbon payloads through DecodeUser, Map and Apply. What must hold for
// every input: Map fails only with ErrInvalidUser; what it accepts fits Keycloak's limits
// with no control character; the username is Username(id) and ASCII; applying the same
// desired user twice changes nothing the second time; Apply never changes the username,
// the pending-link marker or an attribute the bridge does not own.
// Run: scripts/fuzz.sh, or go test -run '^$' -fuzz '^FuzzMapApply$' -fuzztime 20s ./mapping
func FuzzMapApply(f *testing.F) {
	seeds, err := fuzzseed.Payloads("..")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	cfg := Default()
	owned := cfg.Names()
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := bonbon.DecodeUser(data)
		if err != nil {
			return
		}
		d, err := cfg.Map(u)
		if err != nil {
			if !errors.Is(err, ErrInvalidUser) {
				t.Fatalf("Map error %v does not wrap ErrInvalidUser", err)
			}
			return
		}
		checkDesired(t, u, d)
		checkApply(t, d, owned)
	})
}

// FuzzMap feeds Map the fields directly, reaching the checks faster than through JSON.
func FuzzMap(f *testing.F) {
	f.Add("12345", "Alyssa.P.Hacker@bonbon.tech", "Alyssa", "P. Hacker", "90403", true)
	f.Add("Ünïcode Id", " a+b@xn--bcher-kva.example ", "太郎", "🍬", "", false)
	f.Add("x", "a b@c", "Tom & Jerry", "Al\u0007", "904\t03", true)
	f.Add(strings.Repeat("i", 256), "@", strings.Repeat("n", 256), "", "\xff", false)
	cfg := Default()
	owned := cfg.Names()
	f.Fuzz(func(t *testing.T, id, email, first, last, postal string, verified bool) {
		u := bonbon.User{ID: id, Email: email, EmailVerified: verified, FirstName: first,
			LastName: last, Fields: map[string]string{"postal": postal}}
		d, err := cfg.Map(u)
		if err != nil {
			if !errors.Is(err, ErrInvalidUser) {
				t.Fatalf("Map error %v does not wrap ErrInvalidUser", err)
			}
			return
		}
		checkDesired(t, u, d)
		checkApply(t, d, owned)
	})
}

func checkDesired(t *testing.T, u bonbon.User, d Desired) {
	t.Helper()
	if d.BonbonID != u.ID || d.Username != Username(u.ID) {
		t.Fatalf("id %q / username %q do not follow the Bonbon id", d.BonbonID, d.Username)
	}
	if len(d.Username) > 255 || strings.ContainsFunc(d.Username, func(r rune) bool {
		return r > 0x7f || r == ' '
	}) || strings.ToLower(d.Username) != d.Username {
		t.Fatalf("username %q is not short lower-case ASCII", d.Username)
	}
	if d.Email != strings.ToLower(strings.TrimSpace(d.Email)) || strings.Count(d.Email, "@") > 1 {
		t.Fatalf("email %q not normalised", d.Email)
	}
	if d.Email == "" && d.EmailVerified {
		t.Fatal("emailVerified without an email")
	}
	texts := map[string]string{"id": d.BonbonID, "email": d.Email, "first": d.FirstName,
		"last": d.LastName}
	for k, v := range d.Attributes {
		texts["attribute "+k] = v
	}
	for what, v := range texts {
		if !utf8.ValidString(v) || hasControl(v) || utf16Len(v) > maxValueLen {
			t.Fatalf("%s accepted with invalid UTF-8, a control character or too long", what)
		}
	}
	if utf16Len(d.FirstName) > maxNameLen || utf16Len(d.LastName) > maxNameLen {
		t.Fatal("a name over Keycloak's 255 accepted")
	}
}

func checkApply(t *testing.T, d Desired, owned []string) {
	t.Helper()
	// A fresh account already is what d asks for.
	if _, changed := d.Apply(d.NewAccount(), owned); changed {
		t.Fatal("applying d to the account made from d reports a change")
	}
	// An existing account with foreign data: Apply twice, the second is a no-op.
	cur := Account{Username: d.Username, Email: "old@example.com", EmailVerified: true,
		FirstName: "Old", Attributes: map[string][]string{
			"loyalty_tier": {"gold"}, PendingLinkAttribute: {"other"}, "bonbon_postal": {"1"},
		}}
	next, _ := d.Apply(cur, owned)
	if again, changed := d.Apply(next, owned); changed {
		t.Fatalf("second Apply changed %+v into %+v", next, again)
	}
	if next.Username != cur.Username {
		t.Fatal("Apply changed the username")
	}
	for _, name := range []string{"loyalty_tier", PendingLinkAttribute} {
		if !slices.Equal(next.Attributes[name], cur.Attributes[name]) {
			t.Fatalf("Apply touched %s", name)
		}
	}
	if cur.Attributes["bonbon_postal"][0] != "1" {
		t.Fatal("Apply mutated its input")
	}
}
