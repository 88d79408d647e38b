package mapping

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// PendingLinkAttribute is the marker the bridge sets on an unlinked Keycloak account
// whose email a Bonbon user holds, until the account's owner proves it by logging in.
// It is declared in the user profile like the mapped attributes but visible to admins
// only. No mapped attribute may use this name, and Desired.Apply never touches it:
// setting and clearing it is the caller's decision, not the mapping's.
const PendingLinkAttribute = "bonbon_pending_link"

// Defaults applied by Parse and Load when the YAML leaves a value out.
const (
	defaultGroup            = "bonbon"
	defaultGroupDisplayName = "Bonbon"
)

// Config says which Bonbon fields the bridge stores and under which Keycloak
// attribute names. Build one with Default, Load or Parse, which apply defaults and
// validate; a Config built by hand should be checked with Validate.
type Config struct {
	// Group is the user-profile attribute group the attributes are declared in.
	// Default "bonbon".
	Group string `yaml:"group"`
	// GroupDisplayName is the group's header in the admin console. Default "Bonbon".
	GroupDisplayName string `yaml:"group_display_name"`
	// Attributes are the mapped fields. A Bonbon field not listed is not stored.
	Attributes []Attribute `yaml:"attributes"`
}

// Attribute maps one Bonbon field to one single-valued Keycloak attribute.
type Attribute struct {
	// Name is the Keycloak attribute name, e.g. "bonbon_postal".
	Name string `yaml:"name"`
	// Field is the dotted path of a leaf in Bonbon's payload, e.g.
	// "preferences.newsletter"; it is looked up in bonbon.User.Fields.
	Field string `yaml:"field"`
	// DisplayName is the label shown in the admin console.
	DisplayName string `yaml:"display_name"`
}

//go:embed default.yaml
var defaultYAML []byte

// Default returns the embedded default mapping: every field of the document's sample
// user that is not a core field (id, email, email_verified, first_name, last_name).
// It panics if the embedded file is invalid, which a unit test rules out.
func Default() Config {
	c, err := Parse(defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("mapping: embedded default.yaml: %v", err))
	}
	return c
}

// Load reads a mapping file; see Parse for what it accepts.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read mapping config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("mapping config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a mapping from YAML, applies defaults and validates it.
//
// Decoding is strict: an unknown key is an error rather than ignored, because a
// misspelt key ("feild") would otherwise silently stop a field being stored. An empty
// document is an error too (a truncated or mis-templated file is likelier than a wish
// to store nothing); to store no attributes say so with "attributes: []". Only one
// YAML document is allowed.
func Parse(data []byte) (Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)

	// Decode exactly one document.
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, errors.New("parse mapping config: empty document")
		}
		return Config{}, fmt.Errorf("parse mapping config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("parse mapping config: more than one YAML document")
	}

	// Fill defaults, then check everything at once.
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// withDefaults returns a copy of c with empty group settings defaulted.
func (c Config) withDefaults() Config {
	if c.Group == "" {
		c.Group = defaultGroup
	}
	if c.GroupDisplayName == "" {
		c.GroupDisplayName = defaultGroupDisplayName
	}
	return c
}

// namePattern keeps attribute names ASCII and safe everywhere Keycloak uses them:
// user-profile config, token claims, the admin console's form field ids.
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,99}$`)

// reserved are names Keycloak gives a meaning of their own, plus the bridge's marker.
// Mapping a Bonbon field onto one of them would overwrite core user data.
var reserved = []string{
	"username", "email", "firstName", "lastName", "emailVerified", PendingLinkAttribute,
}

// Validate reports every problem in c at once (joined with errors.Join), or nil.
// It checks that the group is set, that each attribute name matches
// ^[a-z][a-z0-9_]{0,99}$, is unique and is not reserved (username, email, firstName,
// lastName, emailVerified, PendingLinkAttribute; compared ignoring case), and that each
// field is a non-empty dotted path used by one attribute only. It changes nothing.
func (c Config) Validate() error {
	var errs []error
	if !namePattern.MatchString(c.Group) {
		errs = append(errs, fmt.Errorf("group %q: must match %s", c.Group, namePattern))
	}
	if hasControl(c.GroupDisplayName) {
		errs = append(errs, errors.New("group_display_name: contains a control character"))
	}
	names := map[string]int{}
	fields := map[string]int{}
	for i, a := range c.Attributes {
		errs = append(errs, a.validate(i, names, fields)...)
	}
	return errors.Join(errs...)
}

// validate checks one attribute, recording its name and field in the maps so that
// later attributes can be checked for duplicates.
func (a Attribute) validate(i int, names, fields map[string]int) []error {
	var errs []error
	at := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		errs = append(errs, fmt.Errorf("attributes[%d] (%q): %s", i, a.Name, msg))
	}

	// The name: Keycloak-safe, not taken by Keycloak or the bridge, unique.
	if !namePattern.MatchString(a.Name) {
		at("name must match %s", namePattern)
	}
	if isReserved(a.Name) {
		at("name is reserved")
	}
	if j, dup := names[a.Name]; dup {
		at("name already used by attributes[%d]", j)
	} else {
		names[a.Name] = i
	}

	// The field: a dotted path, mapped once.
	if err := checkFieldPath(a.Field); err != nil {
		at("field: %v", err)
	} else if j, dup := fields[a.Field]; dup {
		at("field %q already mapped by attributes[%d]", a.Field, j)
	} else {
		fields[a.Field] = i
	}

	if hasControl(a.DisplayName) {
		at("display_name contains a control character")
	}
	return errs
}

// isReserved compares ignoring case so that "firstname" or "EMAIL" cannot slip past.
func isReserved(name string) bool {
	for _, r := range reserved {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// checkFieldPath accepts "a" or "a.b.c": JSON keys may hold almost anything, so only
// empty segments, whitespace and control characters are refused.
func checkFieldPath(path string) error {
	if path == "" {
		return errors.New("empty")
	}
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return fmt.Errorf("%q has an empty segment", path)
		}
		if strings.ContainsFunc(seg, isSpaceOrControl) {
			return fmt.Errorf("%q contains whitespace or a control character", path)
		}
	}
	return nil
}

// Names returns the attribute names the bridge owns, in config order: the ones it may
// set and that Desired.Apply may overwrite. PendingLinkAttribute is not among them.
// The slice is a fresh copy.
func (c Config) Names() []string {
	names := make([]string, 0, len(c.Attributes))
	for _, a := range c.Attributes {
		names = append(names, a.Name)
	}
	return names
}
