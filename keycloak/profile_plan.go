package keycloak

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// FieldAnnotation marks a user-profile attribute as holding a Bonbon field; its value is
// the field's dotted path. It is the annotation mapping.FromProfile reads, so the
// realm's user profile, not a file, is the mapping the bridge applies.
const FieldAnnotation = "bonbon.field"

// DeclaredAnnotation is the annotation on the Bonbon attribute group in which provisioning
// records the Bonbon fields it has declared (space-separated). A later run never declares
// one of them again: when an admin removed it, that was the admin's choice.
const DeclaredAnnotation = "bonbon.declared"

// profilePlan adds to a decoded user profile what provisioning declares, and lists the
// changes and the notes about what it leaves alone.
type profilePlan struct {
	spec     ProfileSpec
	attrs    []any
	declared []string          // the group's DeclaredAnnotation, in order
	held     map[string]string // Bonbon field -> attribute annotated with it
	changes  []string
	notes    []string
}

// PlanProfile returns profile (Keycloak's user-profile JSON) with what s declares added,
// the changes made (none: nothing to write) and notes on what was left alone.
//
// Provisioning only adds; it never changes or removes what is there, so an admin's edits
// to display names, permissions, validators, groups and annotations survive every run:
//   - the group is added when missing; an existing group is only given a DeclaredAnnotation
//     entry for each field it records;
//   - a Bonbon field is declared (annotated with FieldAnnotation, in the group, visible to
//     the user, editable by admins only) only when no attribute holds it and it was never
//     declared before: a field an admin renamed, removed, or moved to an attribute of
//     their own stays as the admin left it;
//   - an attribute that already has the field's name but not the annotation belongs to
//     the admin and is not touched (a note says so);
//   - attributes without a field (the pending-link marker) are declared when missing.
//
// Attributes the bridge needs but may not write (admins lack edit permission) are noted.
func (s ProfileSpec) PlanProfile(profile []byte) (next []byte, changes, notes []string,
	err error) {
	var m map[string]any
	if err := json.Unmarshal(profile, &m); err != nil || m == nil {
		return nil, nil, nil, fmt.Errorf("decode user profile: %w", orNull(err))
	}
	changes, notes = s.apply(m)
	next, err = json.Marshal(m)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode user profile: %w", err)
	}
	return next, changes, notes, nil
}

func orNull(err error) error {
	if err == nil {
		return fmt.Errorf("null")
	}
	return err
}

// apply changes the decoded profile in place.
func (s ProfileSpec) apply(profile map[string]any) (changes, notes []string) {
	p := &profilePlan{spec: s, held: map[string]string{}}
	group := p.group(profile)
	p.attrs, _ = profile["attributes"].([]any)
	ledger, _ := annotation(group, DeclaredAnnotation).(string)
	p.declared = strings.Fields(ledger)
	for _, raw := range p.attrs {
		if a, _ := raw.(map[string]any); a != nil {
			if f, ok := annotation(a, FieldAnnotation).(string); ok {
				p.held[f] = fmt.Sprint(a["name"])
				p.noteReadOnly(a, "the bridge cannot write Bonbon field "+f+" there")
			}
		}
	}
	before := len(p.declared)
	for _, a := range s.Attributes {
		p.field(a)
	}
	for _, a := range s.AdminOnly {
		p.plain(a, []any{"admin"})
	}
	profile["attributes"] = p.attrs
	if len(p.declared) != before {
		setAnnotation(group, DeclaredAnnotation, strings.Join(p.declared, " "))
		p.changes = append(p.changes, fmt.Sprintf("record in group %s that provisioning "+
			"declared Bonbon fields %s", s.Group, strings.Join(p.declared[before:], ", ")))
	}
	return p.changes, p.notes
}

// group returns the spec's attribute group, added when missing.
func (p *profilePlan) group(profile map[string]any) map[string]any {
	groups, _ := profile["groups"].([]any)
	for _, raw := range groups {
		if g, _ := raw.(map[string]any); g != nil && g["name"] == p.spec.Group {
			return g
		}
	}
	g := map[string]any{
		"name": p.spec.Group, "displayHeader": p.spec.GroupDisplayName,
		"displayDescription": "Data synced from Bonbon by the Bonbon bridge",
	}
	profile["groups"] = append(groups, g)
	p.changes = append(p.changes, "add attribute group "+p.spec.Group)
	return g
}

// field declares one Bonbon field, unless the realm has it or had it.
func (p *profilePlan) field(a ProfileAttribute) {
	if a.Field == "" {
		p.plain(a, []any{"admin", "user"})
		return
	}
	if holder, ok := p.held[a.Field]; ok {
		p.record(a.Field)
		if holder != a.Name {
			p.note("Bonbon field %s is held by attribute %s (not %s): left as is",
				a.Field, holder, a.Name)
		}
		return
	}
	if slices.Contains(p.declared, a.Field) {
		p.note("Bonbon field %s was declared before and is no longer in the profile "+
			"(an admin removed it): not declared again", a.Field)
		return
	}
	if p.find(a.Name) != nil {
		p.note("attribute %s exists without %s=%s: it is not provisioning's and is left "+
			"alone, so Bonbon field %s is not stored (annotate it to store it there)",
			a.Name, FieldAnnotation, a.Field, a.Field)
		return
	}
	decl := declaration(a, p.spec.Group, []any{"admin", "user"})
	decl["annotations"] = map[string]any{FieldAnnotation: a.Field}
	p.attrs = append(p.attrs, decl)
	p.held[a.Field] = a.Name
	p.record(a.Field)
	p.changes = append(p.changes, fmt.Sprintf("declare attribute %s for Bonbon field %s",
		a.Name, a.Field))
}

// plain declares an attribute that holds no Bonbon field when no attribute has its name.
func (p *profilePlan) plain(a ProfileAttribute, view []any) {
	if existing := p.find(a.Name); existing != nil {
		p.noteReadOnly(existing, "the bridge cannot set it")
		return
	}
	p.attrs = append(p.attrs, declaration(a, p.spec.Group, view))
	p.changes = append(p.changes, "declare attribute "+a.Name)
}

func declaration(a ProfileAttribute, group string, view []any) map[string]any {
	return map[string]any{
		"name": a.Name, "displayName": a.DisplayName, "group": group, "multivalued": false,
		"permissions": map[string]any{"view": view, "edit": []any{"admin"}},
		"validations": map[string]any{"length": map[string]any{"max": maxValueLength}},
	}
}

func (p *profilePlan) find(name string) map[string]any {
	for _, raw := range p.attrs {
		if a, _ := raw.(map[string]any); a != nil && a["name"] == name {
			return a
		}
	}
	return nil
}

func (p *profilePlan) record(field string) {
	if !slices.Contains(p.declared, field) {
		p.declared = append(p.declared, field)
	}
}

// noteReadOnly warns about an attribute admins may not edit: Keycloak refuses the
// bridge's changes to it (400 error-user-attribute-read-only) and drops it on create.
func (p *profilePlan) noteReadOnly(a map[string]any, consequence string) {
	perms, _ := a["permissions"].(map[string]any)
	edit, _ := perms["edit"].([]any)
	if !slices.Contains(edit, any("admin")) {
		p.note("attribute %v: admins may not edit it, so %s (left as is)", a["name"],
			consequence)
	}
}

func (p *profilePlan) note(format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

func annotation(m map[string]any, key string) any {
	anns, _ := m["annotations"].(map[string]any)
	if anns == nil {
		return nil
	}
	return anns[key]
}

func setAnnotation(m map[string]any, key string, value any) {
	anns, _ := m["annotations"].(map[string]any)
	if anns == nil {
		anns = map[string]any{}
		m["annotations"] = anns
	}
	anns[key] = value
}
