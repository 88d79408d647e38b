package app

import (
	"os"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFromEnv(t *testing.T) {
	full := map[string]string{
		"KEYCLOAK_URL": "http://127.0.0.1:1", "KEYCLOAK_REALM": "r", "KEYCLOAK_CLIENT_SECRET": "s",
		"BONBON_CLIENT_ID": "c", "BONBON_API_KEY": "k",
	}
	cases := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{"complete", full, nil},
		{"nothing set reports every required variable", map[string]string{}, []string{
			"KEYCLOAK_URL", "KEYCLOAK_REALM", "KEYCLOAK_CLIENT_SECRET", "BONBON_CLIENT_ID",
			"BONBON_API_KEY"}},
		{"bad duration and level", merge(full, map[string]string{
			"KEYCLOAK_TIMEOUT": "soon", "BRIDGE_LOG_LEVEL": "loud"}),
			[]string{"KEYCLOAK_TIMEOUT", "BRIDGE_LOG_LEVEL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := FromEnv(envOf(c.env))
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("FromEnv() error = %v", err)
				}
				if cfg.Addr != "127.0.0.1:8080" || cfg.ClientID != "bonbon-bridge" ||
					cfg.BonbonURL != "https://api.bonbon.tech/v1" {
					t.Errorf("defaults not applied: %+v", cfg)
				}
				return
			}
			if err == nil {
				t.Fatal("FromEnv() error = nil")
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

func TestConfigNeverLogsSecrets(t *testing.T) {
	cfg, err := FromEnv(envOf(map[string]string{
		"KEYCLOAK_URL": "http://127.0.0.1:1", "KEYCLOAK_REALM": "r",
		"KEYCLOAK_CLIENT_SECRET": "kc-secret-value", "BONBON_CLIENT_ID": "c",
		"BONBON_API_KEY": "bonbon-secret-value",
	}))
	if err != nil {
		t.Fatal(err)
	}
	text := cfg.LogValue().String()
	for _, secret := range []string{"kc-secret-value", "bonbon-secret-value"} {
		if strings.Contains(text, secret) {
			t.Errorf("LogValue() = %s contains a secret", text)
		}
	}
}

// TestREADMEDocumentsEveryVariable keeps the README's tables honest.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range Env {
		names = append(names, e.Name)
	}
	for _, table := range [][]struct{ Name, Default, Description string }{
		ProvisionEnv, LinkEnv, IDTokenEnv} {
		for _, e := range table {
			names = append(names, e.Name)
		}
	}
	for _, n := range names {
		if !strings.Contains(string(readme), "`"+n+"`") {
			t.Errorf("README.md does not document %s", n)
		}
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
