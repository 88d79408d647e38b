package app

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestLinkConfigFromEnv(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	base := Config{KeycloakURL: "http://keycloak.internal:8080", Realm: "shop",
		ClientID: "bonbon-bridge", ClientSecret: "s"}
	on := map[string]string{
		"BRIDGE_LINK_RETURN_URL": "https://www.example.com/account",
		"BRIDGE_ALLOWED_ORIGINS": "https://www.example.com/, https://shop.example.com",
		"BRIDGE_COOKIE_KEY":      key,
	}
	with := func(extra map[string]string) func(string) (string, bool) {
		env := map[string]string{}
		for k, v := range on {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" }
	}
	tests := []struct {
		name    string
		lookup  func(string) (string, bool)
		wantNil bool
		wantErr string
		check   func(t *testing.T, issuer, token string, origins []string, ttl time.Duration)
	}{
		{name: "off without a return URL", lookup: with(map[string]string{
			"BRIDGE_LINK_RETURN_URL": ""}), wantNil: true},
		{name: "defaults: issuer on KEYCLOAK_URL", lookup: with(nil),
			check: func(t *testing.T, issuer, token string, origins []string, ttl time.Duration) {
				if issuer != "http://keycloak.internal:8080/realms/shop" || ttl != 10*time.Minute {
					t.Errorf("issuer %q ttl %s", issuer, ttl)
				}
				if len(origins) != 2 || origins[0] != "https://www.example.com" {
					t.Errorf("origins = %q", origins)
				}
			}},
		{name: "public issuer, internal token endpoint", lookup: with(map[string]string{
			"KEYCLOAK_PUBLIC_URL": "https://login.example.com/"}),
			check: func(t *testing.T, issuer, token string, _ []string, _ time.Duration) {
				if issuer != "https://login.example.com/realms/shop" ||
					!strings.HasPrefix(token, "http://keycloak.internal:8080/realms/shop/") {
					t.Errorf("issuer %q token URL %q", issuer, token)
				}
			}},
		{name: "missing key", lookup: with(map[string]string{"BRIDGE_COOKIE_KEY": ""}),
			wantErr: "BRIDGE_COOKIE_KEY is required"},
		{name: "short key", lookup: with(map[string]string{
			"BRIDGE_COOKIE_KEY": base64.StdEncoding.EncodeToString(make([]byte, 16))}),
			wantErr: "must be 32 bytes"},
		{name: "no origins", lookup: with(map[string]string{"BRIDGE_ALLOWED_ORIGINS": ""}),
			wantErr: "allowed origin"},
		{name: "bad TTL", lookup: with(map[string]string{"BRIDGE_LINK_TTL": "soon"}),
			wantErr: "BRIDGE_LINK_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc, err := linkConfig(base, tt.lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if (lc == nil) != tt.wantNil {
				t.Fatalf("config = %+v, want nil %v", lc, tt.wantNil)
			}
			if tt.check != nil {
				tt.check(t, lc.Issuer, lc.TokenURL, lc.AllowedOrigins, lc.TTL)
			}
		})
	}
}
