package app

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// ProvisionEnv lists the extra variables `bonbon-bridge provision` reads, besides
// KEYCLOAK_URL, KEYCLOAK_REALM, KEYCLOAK_CLIENT_ID, KEYCLOAK_CLIENT_SECRET (optional
// here: when set, the client gets that secret), KEYCLOAK_IDP_ALIAS and BRIDGE_MAPPING_FILE.
var ProvisionEnv = []struct{ Name, Default, Description string }{
	{"KEYCLOAK_ADMIN_USER", "", "an admin allowed to manage the realm (required)"},
	{"KEYCLOAK_ADMIN_PASSWORD", "", "that admin's password (never logged)"},
	{"KEYCLOAK_ADMIN_REALM", "master", "the realm that admin logs in to"},
	{"BRIDGE_PUBLIC_URL", "http://127.0.0.1:8080", "the bridge's URL as browsers reach it"},
}

// ProvisionFromEnv builds the provisioning config; flags set DryRun and CreateRealm.
func ProvisionFromEnv(lookup func(string) (string, bool), out io.Writer) (
	keycloak.ProvisionConfig, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	m := mapping.Default()
	if f := get("BRIDGE_MAPPING_FILE", ""); f != "" {
		var err error
		if m, err = mapping.Load(f); err != nil {
			return keycloak.ProvisionConfig{}, fmt.Errorf("load mapping: %w", err)
		}
	}
	pc := keycloak.ProvisionConfig{
		URL: get("KEYCLOAK_URL", ""), Realm: get("KEYCLOAK_REALM", ""),
		AdminRealm: get("KEYCLOAK_ADMIN_REALM", "master"), AdminUser: get("KEYCLOAK_ADMIN_USER", ""),
		AdminPassword:    get("KEYCLOAK_ADMIN_PASSWORD", ""),
		ClientID:         get("KEYCLOAK_CLIENT_ID", "bonbon-bridge"),
		ClientSecret:     get("KEYCLOAK_CLIENT_SECRET", ""),
		IdentityProvider: get("KEYCLOAK_IDP_ALIAS", "bonbon"),
		RedirectURIs: []string{strings.TrimRight(get("BRIDGE_PUBLIC_URL",
			"http://127.0.0.1:8080"), "/") + "/link/callback"},
		Profile: ProfileSpec(m),
		Out:     out,
	}
	var errs []error
	for name, v := range map[string]string{"KEYCLOAK_URL": pc.URL, "KEYCLOAK_REALM": pc.Realm,
		"KEYCLOAK_ADMIN_USER": pc.AdminUser, "KEYCLOAK_ADMIN_PASSWORD": pc.AdminPassword} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	return pc, errors.Join(errs...)
}

// ProfileSpec is what provisioning declares in the realm's user profile for a mapping, the
// first time: each attribute annotated with the Bonbon field it holds, and the marker.
func ProfileSpec(m mapping.Config) keycloak.ProfileSpec {
	spec := keycloak.ProfileSpec{Group: m.Group, GroupDisplayName: m.GroupDisplayName}
	for _, a := range m.Attributes {
		spec.Attributes = append(spec.Attributes, keycloak.ProfileAttribute{
			Name: a.Name, DisplayName: a.DisplayName, Field: a.Field,
		})
	}
	spec.AdminOnly = []keycloak.ProfileAttribute{{
		Name: mapping.PendingLinkAttribute, DisplayName: "Bonbon link waiting for the owner's login",
	}}
	return spec
}
