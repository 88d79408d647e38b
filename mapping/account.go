package mapping

import (
	"slices"
	"strings"
)

// Account is a Keycloak-neutral view of the parts of a user the bridge reads and
// writes. The caller converts it to and from Keycloak's representation and keeps the
// rest (id, enabled, required actions, ...) itself: a PUT that carries attributes
// clears every editable field it omits, so the whole user must go back.
type Account struct {
	Username, Email     string
	EmailVerified       bool
	FirstName, LastName string
	// Attributes are all of the user's attributes, owned by the bridge or not.
	Attributes map[string][]string
}

// NewAccount returns the account to create for d. PendingLinkAttribute is never set,
// even if d carries it: only the caller decides about the marker.
func (d Desired) NewAccount() Account {
	a := Account{
		Username:      d.Username,
		Email:         d.Email,
		EmailVerified: d.Email != "" && d.EmailVerified,
		FirstName:     d.FirstName,
		LastName:      d.LastName,
		Attributes:    make(map[string][]string, len(d.Attributes)),
	}
	for name, v := range d.Attributes {
		if name != PendingLinkAttribute {
			a.Attributes[name] = []string{v}
		}
	}
	return a
}

// Apply merges d into the existing account cur and reports whether the result differs
// from cur, so that an unchanged user costs no write. cur is never mutated.
//
// owned lists the attribute names the bridge owns (Config.Names). The rules:
//   - The username never changes: it is the account's identity in Keycloak.
//   - The email is replaced only when d has one. When it changes, emailVerified
//     becomes d's: proof for the old address says nothing about the new one, and
//     Keycloak does not reset the flag on an admin change. When it is the same
//     address, emailVerified is cur's or d's: a verification Keycloak already holds
//     is not undone because Bonbon has not verified the address itself.
//   - A name is replaced only when d has one.
//   - An owned attribute present in d is set to d's single value; one absent from d
//     is kept, because Bonbon sends partial profiles.
//   - Attributes not owned, attributes in d that are not owned, and
//     PendingLinkAttribute are left alone.
//
// Values are compared semantically: a nil and an empty map or slice are equal, and
// an attribute with no values equals an absent one.
func (d Desired) Apply(cur Account, owned []string) (next Account, changed bool) {
	next = cur
	next.Attributes = cloneAttributes(cur.Attributes)

	// Email and its verification, together.
	if d.Email != "" {
		if normalizeStored(cur.Email) == d.Email {
			next.EmailVerified = cur.EmailVerified || d.EmailVerified
		} else {
			next.EmailVerified = d.EmailVerified
		}
		next.Email = d.Email
	}

	// Names, only when Bonbon sent them.
	if d.FirstName != "" {
		next.FirstName = d.FirstName
	}
	if d.LastName != "" {
		next.LastName = d.LastName
	}

	// Owned attributes Bonbon sent; everything else stays as it is.
	for _, name := range owned {
		v, ok := d.Attributes[name]
		if !ok || name == PendingLinkAttribute {
			continue
		}
		if next.Attributes == nil {
			next.Attributes = map[string][]string{}
		}
		next.Attributes[name] = []string{v}
	}

	return next, !sameAccount(cur, next)
}

// normalizeStored brings a stored email into Desired's form, so that an address that
// differs only in case or spaces counts as the same address.
func normalizeStored(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// cloneAttributes copies the map and its slices, so that next shares nothing with cur.
func cloneAttributes(attrs map[string][]string) map[string][]string {
	if attrs == nil {
		return nil
	}
	out := make(map[string][]string, len(attrs))
	for name, values := range attrs {
		out[name] = slices.Clone(values)
	}
	return out
}

// sameAccount compares two accounts as Keycloak would store them.
func sameAccount(a, b Account) bool {
	if a.Username != b.Username || a.Email != b.Email || a.EmailVerified != b.EmailVerified ||
		a.FirstName != b.FirstName || a.LastName != b.LastName {
		return false
	}
	return sameAttributes(a.Attributes, b.Attributes)
}

// sameAttributes treats a missing attribute and one with no values as equal.
func sameAttributes(a, b map[string][]string) bool {
	for name, values := range a {
		if !slices.Equal(values, b[name]) {
			return false
		}
	}
	for name, values := range b {
		if !slices.Equal(a[name], values) {
			return false
		}
	}
	return true
}
