package app

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
)

// IDTokenEnv lists the variables of Flow 3, the BONBON_ID_TOKEN exchange. Setting
// BRIDGE_IDTOKEN_CLIENTS turns the flow on. KEYCLOAK_PUBLIC_URL and
// BRIDGE_ALLOWED_ORIGINS mean the same as for the step-up link (LinkEnv).
var IDTokenEnv = []struct{ Name, Default, Description string }{
	{"BRIDGE_IDTOKEN_CLIENTS", "", "comma-separated Keycloak client ids (azp) whose users' " +
		"access tokens are exchanged; setting it turns GET /bonbon/id-token on"},
	{"BRIDGE_IDTOKEN_AUDIENCES", "", "comma-separated audiences of which the access token's " +
		"aud must name one (optional: Keycloak puts \"account\" there unless an audience " +
		"mapper adds more)"},
	{"KEYCLOAK_PUBLIC_URL", "", "Keycloak's base URL as browsers reach it (its issuer); " +
		"default KEYCLOAK_URL. Keys are fetched through KEYCLOAK_URL"},
	{"BRIDGE_ALLOWED_ORIGINS", "", "comma-separated page origins allowed to call the " +
		"bridge from a browser (CORS)"},
	{"BRIDGE_IDTOKEN_CACHE_SIZE", "10000", "users whose BONBON_ID_TOKEN is kept in memory"},
	{"BRIDGE_IDTOKEN_RENEW_BEFORE", "5m", "a cached token is replaced this long before it " +
		"expires"},
	{"BRIDGE_DEMO_PAGE", "false", "true serves the demo publisher page at /publisher/"},
	{"BRIDGE_DEMO_CLIENT_ID", "", "public client the demo page logs in through (redirect " +
		"URI and web origin: the bridge's /publisher/); default the first BRIDGE_IDTOKEN_CLIENTS"},
	{"BRIDGE_DEMO_BONBON_SCRIPT", "", "URL of bonbon.js for the demo page, e.g. the " +
		"simulator's http://127.0.0.1:8090/bonbon.js (required with the demo page)"},
}

// idTokenConfig builds Flow 3's configuration from the environment; nil when it is off.
// It reports every problem at once.
func idTokenConfig(cfg Config, lookup func(string) (string, bool)) (*bridge.IDTokenConfig, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	get := idTokenEnvGetter(lookup)
	clients := idTokenList(get("BRIDGE_IDTOKEN_CLIENTS"))
	if len(clients) == 0 {
		return nil, nil
	}

	// Tokens carry the public issuer; the bridge reaches the keys by its own URL.
	public := get("KEYCLOAK_PUBLIC_URL")
	if public == "" {
		public = cfg.KeycloakURL
	}
	realm := "/realms/" + url.PathEscape(cfg.Realm)
	internal := strings.TrimRight(cfg.KeycloakURL, "/") + realm
	c := &bridge.IDTokenConfig{
		Issuer:    strings.TrimRight(public, "/") + realm,
		KeysURL:   internal + "/protocol/openid-connect/certs",
		Clients:   clients,
		Audiences: idTokenList(get("BRIDGE_IDTOKEN_AUDIENCES")),
		Origins:   idTokenList(get("BRIDGE_ALLOWED_ORIGINS")),
	}

	var errs []error
	size, err := strconv.Atoi(get("BRIDGE_IDTOKEN_CACHE_SIZE"))
	if err != nil || size <= 0 {
		errs = append(errs, errors.New("BRIDGE_IDTOKEN_CACHE_SIZE: want a positive integer"))
	}
	renew, err := time.ParseDuration(get("BRIDGE_IDTOKEN_RENEW_BEFORE"))
	if err != nil || renew <= 0 {
		errs = append(errs, errors.New("BRIDGE_IDTOKEN_RENEW_BEFORE: want a positive duration"))
	}
	c.CacheSize, c.RenewBefore = size, renew
	c.Timeout = cfg.KeycloakTimeout + cfg.BonbonTimeout

	demo, err := idTokenDemo(get, cfg, clients[0])
	errs = append(errs, err)
	c.Demo = demo
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// idTokenDemo reads the demo page's settings; nil when BRIDGE_DEMO_PAGE is not true.
func idTokenDemo(get func(string) string, cfg Config,
	client string) (*bridge.PublisherDemo, error) {
	on, err := strconv.ParseBool(get("BRIDGE_DEMO_PAGE"))
	if err != nil {
		return nil, errors.New("BRIDGE_DEMO_PAGE: want true or false")
	}
	if !on {
		return nil, nil
	}
	d := &bridge.PublisherDemo{ClientID: get("BRIDGE_DEMO_CLIENT_ID"),
		BonbonScript: get("BRIDGE_DEMO_BONBON_SCRIPT"), BonbonClientID: cfg.BonbonClientID}
	if d.ClientID == "" {
		d.ClientID = client
	}
	if d.BonbonScript == "" {
		// No default: Bonbon's production script must never be loaded by a demo.
		return nil, fmt.Errorf("BRIDGE_DEMO_BONBON_SCRIPT is required with BRIDGE_DEMO_PAGE")
	}
	return d, nil
}

// idTokenEnvGetter reads a trimmed variable, or its default from IDTokenEnv.
func idTokenEnvGetter(lookup func(string) (string, bool)) func(string) string {
	return func(name string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		for _, e := range IDTokenEnv {
			if e.Name == name {
				return e.Default
			}
		}
		return ""
	}
}

// idTokenList splits a comma-separated list, dropping blanks and trailing slashes
// (browsers send origins without one).
func idTokenList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimRight(strings.TrimSpace(s), "/"); s != "" {
			out = append(out, s)
		}
	}
	return out
}
