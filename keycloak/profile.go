package keycloak

import (
	"context"
	"encoding/json"
	"fmt"
	neturl "net/url"
	"slices"
)

// ProfileSpec is what the bridge declares in the realm's user profile: one group and the
// attributes it writes. Keycloak 24+ silently drops attributes a profile does not declare.
type ProfileSpec struct {
	Group, GroupDisplayName string
	Attributes              []ProfileAttribute
	// AdminOnly are declared like Attributes but visible and editable by admins only
	// (the pending-link marker).
	AdminOnly []ProfileAttribute
}

// ProfileAttribute is one declared attribute.
type ProfileAttribute struct {
	Name, DisplayName string
}

// maxValueLength matches the bridge's own refusal of longer values, and Keycloak's
// default for attributes without a length validator.
const maxValueLength = 2048

// userProfile declares the group and attributes. The PUT replaces the whole profile, so
// the profile is read, changed only where something is missing, and written back with
// every field this code does not model kept as it was; nothing is written when nothing is
// missing, so a second run leaves the profile byte for byte as the first made it.
// Attributes an admin already declared are left as configured, except that the admin
// role is added to their edit permission: without it the bridge's writes are dropped.
func (p *provisioner) userProfile(ctx context.Context) error {
	url := p.cfg.URL + "/admin/realms/" + neturl.PathEscape(p.cfg.Realm) + "/users/profile"
	resp, err := p.gc.GetRequestWithBearerAuth(ctx, p.token).Get(url)
	if err := check("read user profile", resp, err); err != nil {
		return err
	}
	var profile map[string]any
	if err := json.Unmarshal(resp.Body(), &profile); err != nil {
		return fmt.Errorf("decode user profile: %w", err)
	}
	changes := p.cfg.Profile.apply(profile)
	if len(changes) == 0 {
		p.ok("user profile declares every Bonbon attribute")
		return nil
	}
	for _, c := range changes {
		p.say("user profile: %s", c)
	}
	if p.cfg.DryRun {
		return nil
	}
	resp, err = p.gc.GetRequestWithBearerAuth(ctx, p.token).SetBody(profile).Put(url)
	return check("write user profile", resp, err)
}

// apply adds what is missing to a decoded profile and lists the changes.
func (s ProfileSpec) apply(profile map[string]any) []string {
	var changes []string
	groups, _ := profile["groups"].([]any)
	if !hasNamed(groups, s.Group) {
		groups = append(groups, map[string]any{
			"name": s.Group, "displayHeader": s.GroupDisplayName,
			"displayDescription": "Data synced from Bonbon by the Bonbon bridge",
		})
		profile["groups"] = groups
		changes = append(changes, "add attribute group "+s.Group)
	}
	attrs, _ := profile["attributes"].([]any)
	for _, a := range s.Attributes {
		var c string
		attrs, c = ensureAttribute(attrs, a, s.Group, []any{"admin", "user"})
		changes = appendIf(changes, c)
	}
	for _, a := range s.AdminOnly {
		var c string
		attrs, c = ensureAttribute(attrs, a, s.Group, []any{"admin"})
		changes = appendIf(changes, c)
	}
	profile["attributes"] = attrs
	return changes
}

func ensureAttribute(attrs []any, a ProfileAttribute, group string, view []any) ([]any, string) {
	for _, raw := range attrs {
		m, _ := raw.(map[string]any)
		if m == nil || m["name"] != a.Name {
			continue
		}
		return attrs, ensureAdminEdit(m)
	}
	return append(attrs, map[string]any{
		"name": a.Name, "displayName": a.DisplayName, "group": group, "multivalued": false,
		"permissions": map[string]any{"view": view, "edit": []any{"admin"}},
		"validations": map[string]any{"length": map[string]any{"max": maxValueLength}},
	}), "declare attribute " + a.Name
}

// ensureAdminEdit adds "admin" to an existing declaration's edit permission.
func ensureAdminEdit(attr map[string]any) string {
	perms, _ := attr["permissions"].(map[string]any)
	if perms == nil {
		perms = map[string]any{}
		attr["permissions"] = perms
	}
	edit, _ := perms["edit"].([]any)
	if slices.Contains(edit, any("admin")) {
		return ""
	}
	perms["edit"] = append(edit, "admin")
	return fmt.Sprintf("let admins (and so the bridge) edit attribute %v", attr["name"])
}

func hasNamed(list []any, name string) bool {
	for _, raw := range list {
		if m, _ := raw.(map[string]any); m != nil && m["name"] == name {
			return true
		}
	}
	return false
}

func appendIf(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}
