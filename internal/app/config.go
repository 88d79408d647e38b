// Package app builds the bridge service from configuration: what `bonbon-bridge serve`
// runs, and what the integration tests and the demo start.
package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// Config is every setting of `bonbon-bridge serve`. FromEnv documents the variables.
type Config struct {
	Addr             string
	KeycloakURL      string
	Realm            string
	ClientID         string
	ClientSecret     string
	IdentityProvider string
	BonbonURL        string
	BonbonClientID   string
	BonbonAPIKey     string
	MappingFile      string
	LogLevel         slog.Level
	ShutdownTimeout  time.Duration
	WebhookTimeout   time.Duration
	BonbonTimeout    time.Duration
	KeycloakTimeout  time.Duration
	// MappingRefresh is how often the realm's user profile is re-read for the mapping
	// (BRIDGE_MAPPING_REFRESH); unused when MappingFile is set.
	MappingRefresh time.Duration
	// MaxInFlight bounds the webhooks processed at once (BRIDGE_MAX_IN_FLIGHT).
	MaxInFlight int
	// lookup is the environment FromEnv read, so each flow's settings (link.go,
	// idtoken.go) are read from the same source.
	lookup func(string) (string, bool)
}

// Env lists the environment variables FromEnv reads, with defaults ("" = required or
// optional as the description says). The README's table is generated from the same facts.
var Env = []struct{ Name, Default, Description string }{
	{"BRIDGE_ADDR", "127.0.0.1:8080", "address the bridge listens on"},
	{"KEYCLOAK_URL", "", "Keycloak base URL (required)"},
	{"KEYCLOAK_REALM", "", "realm the users live in (required)"},
	{"KEYCLOAK_CLIENT_ID", "bonbon-bridge", "the bridge's service-account client"},
	{"KEYCLOAK_CLIENT_SECRET", "", "that client's secret (required, never logged)"},
	{"KEYCLOAK_IDP_ALIAS", "bonbon", "identity provider alias links are made under"},
	{"KEYCLOAK_TIMEOUT", "10s", "timeout of one Keycloak call"},
	{"BONBON_API_URL", "https://api.bonbon.tech/v1", "Bonbon API base URL"},
	{"BONBON_CLIENT_ID", "", "Bonbon client id (required)"},
	{"BONBON_API_KEY", "", "Bonbon client secret (required, never logged)"},
	{"BONBON_TIMEOUT", "5s", "timeout of one Bonbon call attempt"},
	{"BRIDGE_MAPPING_FILE", "", "YAML attribute mapping that overrides the realm's user " +
		"profile; default: none, the mapping is read from the realm"},
	{"BRIDGE_MAPPING_REFRESH", "30s", "how often the realm's user profile is re-read for " +
		"the mapping"},
	{"BRIDGE_WEBHOOK_TIMEOUT", "20s", "time one webhook may take before answering 503"},
	{"BRIDGE_MAX_IN_FLIGHT", "64", "webhooks processed at once; more get 503 with Retry-After"},
	{"BRIDGE_SHUTDOWN_TIMEOUT", "15s", "time given to in-flight requests on SIGTERM"},
	{"BRIDGE_LOG_LEVEL", "info", "debug, info, warn or error"},
}

// FromEnv reads Config from the environment (lookup is os.LookupEnv in production) and
// reports every problem at once.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		for _, e := range Env {
			if e.Name == name {
				return e.Default
			}
		}
		return ""
	}
	var errs []error
	dur := func(name string) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration like 10s", name))
		}
		return d
	}
	c := Config{
		Addr: get("BRIDGE_ADDR"), KeycloakURL: get("KEYCLOAK_URL"), Realm: get("KEYCLOAK_REALM"),
		ClientID: get("KEYCLOAK_CLIENT_ID"), ClientSecret: get("KEYCLOAK_CLIENT_SECRET"),
		IdentityProvider: get("KEYCLOAK_IDP_ALIAS"), BonbonURL: get("BONBON_API_URL"),
		BonbonClientID: get("BONBON_CLIENT_ID"), BonbonAPIKey: get("BONBON_API_KEY"),
		MappingFile:     get("BRIDGE_MAPPING_FILE"),
		MappingRefresh:  dur("BRIDGE_MAPPING_REFRESH"),
		KeycloakTimeout: dur("KEYCLOAK_TIMEOUT"), BonbonTimeout: dur("BONBON_TIMEOUT"),
		WebhookTimeout: dur("BRIDGE_WEBHOOK_TIMEOUT"), ShutdownTimeout: dur("BRIDGE_SHUTDOWN_TIMEOUT"),
		lookup: lookup,
	}
	if n, err := strconv.Atoi(get("BRIDGE_MAX_IN_FLIGHT")); err != nil || n <= 0 {
		errs = append(errs, errors.New("BRIDGE_MAX_IN_FLIGHT: want a positive whole number"))
	} else {
		c.MaxInFlight = n
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("BRIDGE_LOG_LEVEL"))); err != nil {
		errs = append(errs, fmt.Errorf("BRIDGE_LOG_LEVEL: %w", err))
	}
	return c, errors.Join(append(errs, c.Validate())...)
}

// Validate reports every missing required setting at once. It changes nothing.
func (c Config) Validate() error {
	var errs []error
	for name, v := range map[string]string{
		"KEYCLOAK_URL": c.KeycloakURL, "KEYCLOAK_REALM": c.Realm,
		"KEYCLOAK_CLIENT_SECRET": c.ClientSecret, "BONBON_CLIENT_ID": c.BonbonClientID,
		"BONBON_API_KEY": c.BonbonAPIKey, "BRIDGE_ADDR": c.Addr,
	} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	return errors.Join(errs...)
}

// LogValue keeps secrets out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", c.Addr), slog.String("keycloak_url", c.KeycloakURL),
		slog.String("realm", c.Realm), slog.String("client_id", c.ClientID),
		slog.String("bonbon_url", c.BonbonURL), slog.String("mapping_file", c.MappingFile))
}

// LoadMapping returns the configured mapping, or the embedded default.
func (c Config) LoadMapping() (mapping.Config, error) {
	if c.MappingFile == "" {
		return mapping.Default(), nil
	}
	return mapping.Load(c.MappingFile)
}

// Lookup is os.LookupEnv, named for readability at call sites.
var Lookup = os.LookupEnv
