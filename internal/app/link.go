package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
)

// LinkEnv lists the variables of Flow 2, the step-up link. Setting BRIDGE_LINK_RETURN_URL
// turns the flow on; the others are then required unless they have a default.
var LinkEnv = []struct{ Name, Default, Description string }{
	{"BRIDGE_LINK_RETURN_URL", "", "publisher page the browser returns to after a link; " +
		"setting it turns the step-up link on"},
	{"BRIDGE_PUBLIC_URL", "http://127.0.0.1:8080", "the bridge's URL as browsers reach it " +
		"(the redirect URI is this + /link/callback, as provision registers it)"},
	{"BRIDGE_ALLOWED_ORIGINS", "", "comma-separated page origins allowed to start a link " +
		"(required for the link)"},
	{"BRIDGE_COOKIE_KEY", "", "comma-separated base64 keys of 32 bytes for the attempt " +
		"cookie; the first seals, all open (required for the link, never logged)"},
	{"KEYCLOAK_PUBLIC_URL", "", "Keycloak's base URL as browsers reach it (its issuer); " +
		"default KEYCLOAK_URL"},
	{"BRIDGE_LINK_TTL", "10m", "time a link attempt may take, login included"},
	{"BRIDGE_LINK_CLOCK_SKEW", "10s", "how much auth_time may precede the attempt's start"},
}

// linkConfig builds Flow 2's configuration from the environment; nil when it is off. It
// reports every problem at once.
func linkConfig(cfg Config, lookup func(string) (string, bool)) (*bridge.LinkConfig, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	get := linkEnvGetter(lookup, LinkEnv)
	if get("BRIDGE_LINK_RETURN_URL") == "" {
		return nil, nil
	}
	var errs []error
	keys, err := linkCookieKeys(get("BRIDGE_COOKIE_KEY"))
	if err != nil {
		errs = append(errs, err)
	}
	kcPublic := get("KEYCLOAK_PUBLIC_URL")
	if kcPublic == "" {
		kcPublic = cfg.KeycloakURL
	}
	realm := url.PathEscape(cfg.Realm)
	issuer := strings.TrimRight(kcPublic, "/") + "/realms/" + realm
	internal := strings.TrimRight(cfg.KeycloakURL, "/") + "/realms/" + realm
	lc := &bridge.LinkConfig{
		PublicURL: get("BRIDGE_PUBLIC_URL"), ReturnURL: get("BRIDGE_LINK_RETURN_URL"),
		AllowedOrigins: linkOrigins(get("BRIDGE_ALLOWED_ORIGINS")), CookieKeys: keys,
		Issuer: issuer, AuthURL: issuer + "/protocol/openid-connect/auth",
		TokenURL: internal + "/protocol/openid-connect/token",
		JWKSURL:  internal + "/protocol/openid-connect/certs",
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
	}
	lc.TTL, err = linkDuration(get, "BRIDGE_LINK_TTL")
	errs = append(errs, err)
	lc.ClockSkew, err = linkDuration(get, "BRIDGE_LINK_CLOCK_SKEW")
	errs = append(errs, err)
	if err := lc.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return lc, nil
}

// linkEnvGetter reads a trimmed variable, or its default from table.
func linkEnvGetter(lookup func(string) (string, bool),
	table []struct{ Name, Default, Description string }) func(string) string {
	return func(name string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		for _, e := range table {
			if e.Name == name {
				return e.Default
			}
		}
		return ""
	}
}

// linkCookieKeys decodes comma-separated base64 (standard or URL alphabet) 32-byte keys.
func linkCookieKeys(v string) ([][]byte, error) {
	if v == "" {
		return nil, errors.New("BRIDGE_COOKIE_KEY is required for the link flow " +
			"(e.g. `openssl rand -base64 32`)")
	}
	var keys [][]byte
	for i, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		k, err := base64.StdEncoding.DecodeString(part)
		if err != nil {
			k, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
		}
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("BRIDGE_COOKIE_KEY: key %d must be 32 bytes in base64", i+1)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// origins splits the list and drops trailing slashes, as browsers send none.
func linkOrigins(v string) []string {
	var out []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

func linkDuration(get func(string) string, name string) (time.Duration, error) {
	d, err := time.ParseDuration(get(name))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a positive duration like 10m", name)
	}
	return d, nil
}
