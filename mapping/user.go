package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
)

// ErrInvalidUser means the Bonbon user cannot be stored without losing or altering
// data: a value too long for Keycloak, a control character, an email that is not an
// address, a missing id. Map wraps it with every reason found; the reasons name the
// field or attribute but never quote the value, so the error is safe to log.
// Retrying will not help: the payload itself must change.
var ErrInvalidUser = errors.New("bonbon user cannot be stored without losing data")

// Limits Keycloak enforces. Lengths count UTF-16 code units, as Keycloak (Java) does.
const (
	maxIDLen        = 255  // the federated identity's user id column
	maxNameLen      = 255  // the default profile's length validator on first/last name
	maxValueLen     = 2048 // the profile's limit for a value without a length validator
	maxEmailLen     = 254  // RFC 5321 path limit, also Keycloak's email validator
	maxEmailLocal   = 64   // RFC 5321 local-part limit, also Keycloak's email validator
	usernamePrefix  = "bonbon-"
	hashedSuffix    = ".h"
	hashedUserBytes = 16
)

// Desired is the Keycloak user a Bonbon user should become, after checks and
// normalisation. Empty strings mean "Bonbon did not say": Apply keeps what the
// account has rather than clearing it.
type Desired struct {
	// BonbonID is Bonbon's id, unchanged: the federated identity's user id.
	BonbonID string
	// Username is Username(BonbonID).
	Username string
	// Email is trimmed and lower-cased; "" when Bonbon sent none.
	Email string
	// EmailVerified is false whenever Email is "".
	EmailVerified bool
	// FirstName and LastName are trimmed; "" when missing, null or blank.
	FirstName, LastName string
	// Attributes holds one value per mapped field present in the payload, keyed by
	// attribute name. Never nil.
	Attributes map[string]string
}

// plainID is the shape of a Bonbon id that can be used in a username as it is. Keycloak
// lower-cases usernames, so an id with capitals must be hashed or two ids differing
// only in case would share one account.
var plainID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Username derives the Keycloak username for a Bonbon id: "bonbon-" + id when the id
// matches ^[a-z0-9][a-z0-9_-]{0,62}$, otherwise "bonbon-" + the first 16 bytes of the
// id's SHA-256 in hex + ".h".
//
// Why: the username must be stable, ASCII, unchanged by Keycloak's lower-casing, and
// one per Bonbon id, because the unique username is what makes two concurrent creates
// for one id collide (409) instead of producing two accounts. The plain form keeps the
// common case readable; the dot cannot occur in it, so the two forms never collide.
// The email is not used: it can change at Bonbon and may already belong to someone.
func Username(bonbonID string) string {
	if plainID.MatchString(bonbonID) {
		return usernamePrefix + bonbonID
	}
	sum := sha256.Sum256([]byte(bonbonID))
	return usernamePrefix + hex.EncodeToString(sum[:hashedUserBytes]) + hashedSuffix
}

// Map checks and normalises u into the desired Keycloak user. It returns an error
// wrapping ErrInvalidUser, listing every problem, when any value cannot be stored
// as sent; it never truncates.
//
// Mapped fields that are missing, null or blank are left out of Attributes, so the
// value already stored is kept rather than cleared: Bonbon may send partial profiles.
// A blank value carries nothing to keep, and a Keycloak that filters blank values out
// on update would make it look like a change on every webhook. Fields the config does
// not map are ignored, unknown ones included.
// c is expected to be valid, as Default, Load and Parse guarantee.
func (c Config) Map(u bonbon.User) (Desired, error) {
	var p problems

	d := Desired{BonbonID: u.ID, Username: Username(u.ID)}
	p.add("id", checkID(u.ID))

	// Email first: emailVerified means nothing without it.
	email, err := normalizeEmail(u.Email)
	p.add("email", err)
	d.Email = email
	d.EmailVerified = email != "" && u.EmailVerified

	// Names: trimmed, kept whole.
	// The realm's own name validators (Keycloak's default profile prohibits characters
	// such as < > & / $ in names) are deliberately not copied here: a publisher may
	// change them, and Keycloak has the last word. Its 400 becomes the bridge's 422
	// keycloak_rejected_user, nothing is written (testdata/badinput/cases.json).
	d.FirstName = strings.TrimSpace(u.FirstName)
	p.add("first_name", checkText(d.FirstName, maxNameLen))
	d.LastName = strings.TrimSpace(u.LastName)
	p.add("last_name", checkText(d.LastName, maxNameLen))

	// Mapped attributes, as canonical strings.
	d.Attributes = make(map[string]string, len(c.Attributes))
	for _, a := range c.Attributes {
		v, ok := u.Fields[a.Field]
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		what := fmt.Sprintf("attribute %s (field %s)", a.Name, a.Field)
		p.add(what, checkText(v, maxValueLen))
		d.Attributes[a.Name] = v
	}

	if err := p.err(); err != nil {
		return Desired{}, err
	}
	return d, nil
}

// problems collects every reason a user is invalid, so one log line tells them all.
type problems []string

func (p *problems) add(what string, err error) {
	if err != nil {
		*p = append(*p, what+": "+err.Error())
	}
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidUser, strings.Join(p, "; "))
}

// checkID refuses ids Keycloak could not store as the federated identity's user id.
// The id is opaque, so it is never trimmed or otherwise changed.
func checkID(id string) error {
	if id == "" {
		return errors.New("missing")
	}
	return checkText(id, maxIDLen)
}

// normalizeEmail trims and lower-cases (as Keycloak stores it), then checks that
// the result looks like an address. Keycloak's own validator has the last word;
// this catches what would otherwise fail as an opaque 400 from the admin API.
func normalizeEmail(raw string) (string, error) {
	// Check UTF-8 before lower-casing, which would silently turn bad bytes into U+FFFD.
	if !utf8.ValidString(raw) {
		return "", errors.New("not valid UTF-8")
	}
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" {
		return "", nil
	}
	if len(email) > maxEmailLen {
		return "", fmt.Errorf("longer than %d bytes", maxEmailLen)
	}
	if strings.ContainsFunc(email, isSpaceOrControl) {
		return "", errors.New("contains whitespace or a control character")
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return "", errors.New("not an address (want one @ between a local part and a domain)")
	}
	if len(local) > maxEmailLocal {
		return "", fmt.Errorf("local part longer than %d bytes", maxEmailLocal)
	}
	return email, nil
}

// checkText refuses what Keycloak would reject or mangle: invalid UTF-8, control
// characters (tabs and newlines included) and values over limit UTF-16 code units.
func checkText(s string, limit int) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	if hasControl(s) {
		return errors.New("contains a control character")
	}
	if n := utf16Len(s); n > limit {
		return fmt.Errorf("%d characters, more than %d", n, limit)
	}
	return nil
}

// utf16Len counts as Java's String.length does, which is how Keycloak's length
// limits count: a character outside the Basic Multilingual Plane counts twice.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1) // -1 for an invalid rune, counted as one
	}
	return n
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
