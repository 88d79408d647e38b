package mapping

import (
	"encoding/json"
	"fmt"
	"slices"
)

// FieldAnnotation is the user-profile annotation that makes a Keycloak attribute hold a
// Bonbon field: its value is the field's dotted path, e.g. "preferences.newsletter".
// Admins set it in the admin console (realm settings, user profile, attribute,
// annotations); `bonbon-bridge provision` sets it on the attributes it declares.
const FieldAnnotation = "bonbon.field"

// adminRole is the user-profile role of every admin API caller, the bridge's service
// account included: Keycloak cannot tell the bridge from an admin in the console.
const adminRole = "admin"

// Skipped is an attribute annotated with FieldAnnotation that FromProfile leaves out of
// the mapping, and why. Reason never quotes a user's data: it is safe to log.
type Skipped struct {
	Attribute, Field, Reason string
}

func (s Skipped) String() string {
	return fmt.Sprintf("attribute %s (field %s): %s", s.Attribute, s.Field, s.Reason)
}

// profileConfig is the part of Keycloak's user-profile configuration
// (GET /admin/realms/{realm}/users/profile) the mapping reads.
type profileConfig struct {
	Attributes []profileAttribute `json:"attributes"`
}

type profileAttribute struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Group       string `json:"group"`
	Permissions struct {
		Edit []string `json:"edit"`
	} `json:"permissions"`
	Annotations map[string]any `json:"annotations"`
}

// FromProfile reads the mapping a realm's user profile declares: every attribute
// annotated with FieldAnnotation stores that Bonbon field, in the profile's order. The
// group is the first mapped attribute's (default "bonbon").
//
// An annotated attribute the bridge could not write is left out and listed in skipped,
// so that one admin's slip stops one field, not the whole sync: a name that is
// reserved (as in Validate), a path that is not a dotted path, a field an earlier
// attribute already holds, and an attribute admins may not edit (Keycloak answers the
// bridge's change with 400 error-user-attribute-read-only, and drops it on create).
//
// Names are not held to Validate's pattern: Keycloak accepted them when the admin saved
// the profile, and they are the console's to choose. err is only for data that is not
// a user-profile configuration.
func FromProfile(data []byte) (c Config, skipped []Skipped, err error) {
	var p profileConfig
	if err := json.Unmarshal(data, &p); err != nil {
		return Config{}, nil, fmt.Errorf("decode user profile: %w", err)
	}
	c = Config{GroupDisplayName: defaultGroupDisplayName, Attributes: []Attribute{}}
	held := map[string]string{} // field -> attribute holding it
	for _, a := range p.Attributes {
		raw, annotated := a.Annotations[FieldAnnotation]
		if !annotated {
			continue
		}
		field, reason := a.check(raw, held)
		if reason != "" {
			skipped = append(skipped, Skipped{Attribute: a.Name, Field: field, Reason: reason})
			continue
		}
		held[field] = a.Name
		if c.Group == "" {
			c.Group = a.Group
		}
		c.Attributes = append(c.Attributes, Attribute{
			Name: a.Name, Field: field, DisplayName: a.DisplayName,
		})
	}
	if c.Group == "" {
		c.Group = defaultGroup
	}
	return c, skipped, nil
}

// check returns the field an annotated attribute holds, or why the bridge must not
// write it.
func (a profileAttribute) check(raw any, held map[string]string) (field, reason string) {
	field, ok := raw.(string)
	if !ok {
		return fmt.Sprint(raw), "the annotation's value is not text"
	}
	switch {
	case a.Name == "":
		return field, "the attribute has no name"
	case isReserved(a.Name):
		return field, "the name is reserved (Keycloak or the bridge gives it its own meaning)"
	case !slices.Contains(a.Permissions.Edit, adminRole):
		return field, "admins may not edit it, so Keycloak refuses the bridge's writes " +
			"(add admin to who can edit it)"
	}
	if err := checkFieldPath(field); err != nil {
		return field, "not a Bonbon field path: " + err.Error()
	}
	if other, dup := held[field]; dup {
		return field, "field already held by attribute " + other
	}
	return field, ""
}

// SameAttributes reports whether c and o store the same fields under the same names
// with the same display names, in the same order.
func (c Config) SameAttributes(o Config) bool {
	return slices.Equal(c.Attributes, o.Attributes)
}
