package app

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIDTokenConfigFromEnv(t *testing.T) {
	base := Config{KeycloakURL: "http://keycloak:8080/", Realm: "shop", BonbonClientID: "pub-1",
		KeycloakTimeout: 3 * time.Second, BonbonTimeout: 2 * time.Second}
	tests := []struct {
		name    string
		env     map[string]string
		wantNil bool
		wantErr []string
		check   func(t *testing.T, issuer, keys string, clients, origins []string)
	}{
		{name: "off without clients", env: map[string]string{}, wantNil: true},
		{name: "public and internal URLs", env: map[string]string{
			"BRIDGE_IDTOKEN_CLIENTS": "shop-web, shop-app",
			"KEYCLOAK_PUBLIC_URL":    "https://login.shop.test/",
			"BRIDGE_ALLOWED_ORIGINS": "https://www.shop.test/, https://m.shop.test",
		}, check: func(t *testing.T, issuer, keys string, clients, origins []string) {
			if issuer != "https://login.shop.test/realms/shop" {
				t.Errorf("issuer %q", issuer)
			}
			if keys != "http://keycloak:8080/realms/shop/protocol/openid-connect/certs" {
				t.Errorf("keys %q", keys)
			}
			if !slices.Equal(clients, []string{"shop-web", "shop-app"}) {
				t.Errorf("clients %q", clients)
			}
			if !slices.Equal(origins, []string{"https://www.shop.test", "https://m.shop.test"}) {
				t.Errorf("origins %q", origins)
			}
		}},
		{name: "issuer defaults to KEYCLOAK_URL", env: map[string]string{
			"BRIDGE_IDTOKEN_CLIENTS": "shop-web",
		}, check: func(t *testing.T, issuer, _ string, _, _ []string) {
			if issuer != "http://keycloak:8080/realms/shop" {
				t.Errorf("issuer %q", issuer)
			}
		}},
		{name: "every problem at once", env: map[string]string{
			"BRIDGE_IDTOKEN_CLIENTS": "shop-web", "BRIDGE_IDTOKEN_CACHE_SIZE": "-1",
			"BRIDGE_IDTOKEN_RENEW_BEFORE": "soon", "BRIDGE_ALLOWED_ORIGINS": "https://x.test/path",
			"BRIDGE_DEMO_PAGE": "true",
		}, wantErr: []string{"CACHE_SIZE", "RENEW_BEFORE", "origin", "BRIDGE_DEMO_BONBON_SCRIPT"}},
		{name: "bad demo flag", env: map[string]string{
			"BRIDGE_IDTOKEN_CLIENTS": "shop-web", "BRIDGE_DEMO_PAGE": "maybe",
		}, wantErr: []string{"BRIDGE_DEMO_PAGE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := idTokenConfig(base, func(k string) (string, bool) {
				v, ok := tt.env[k]
				return v, ok
			})
			if len(tt.wantErr) > 0 {
				for _, w := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("error %v, want one about %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (c == nil) != tt.wantNil {
				t.Fatalf("config %+v, want nil: %v", c, tt.wantNil)
			}
			if c != nil && tt.check != nil {
				tt.check(t, c.Issuer, c.KeysURL, c.Clients, c.Origins)
			}
		})
	}
}

func TestIDTokenDemoFromEnv(t *testing.T) {
	env := map[string]string{"BRIDGE_IDTOKEN_CLIENTS": "shop-web", "BRIDGE_DEMO_PAGE": "true",
		"BRIDGE_DEMO_BONBON_SCRIPT": "http://127.0.0.1:8090/bonbon.js"}
	c, err := idTokenConfig(Config{KeycloakURL: "http://127.0.0.1:8081", Realm: "shop",
		BonbonClientID: "pub-1"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	d := c.Demo
	if d == nil || d.ClientID != "shop-web" || d.BonbonClientID != "pub-1" ||
		d.BonbonScript != env["BRIDGE_DEMO_BONBON_SCRIPT"] {
		t.Errorf("demo %+v", d)
	}
}
