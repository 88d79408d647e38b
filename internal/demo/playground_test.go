package demo

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func TestPlaygroundEnv(t *testing.T) {
	const public, simURL = "http://127.0.0.1:4100", "http://127.0.0.1:4200"
	env, err := playgroundEnv(public, simURL)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"BRIDGE_LINK_RETURN_URL", public + "/publisher/"},
		{"BRIDGE_ALLOWED_ORIGINS", public},
		{"BRIDGE_IDTOKEN_CLIENTS", publisherClient},
		{"BRIDGE_DEMO_PAGE", "true"},
		{"BRIDGE_DEMO_BONBON_SCRIPT", simURL + "/bonbon.js"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := env[tt.name]; got != tt.want {
				t.Errorf("%s = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	t.Run("fresh cookie key", func(t *testing.T) {
		key, err := base64.StdEncoding.DecodeString(env["BRIDGE_COOKIE_KEY"])
		if err != nil || len(key) != 32 {
			t.Fatalf("cookie key %q: %d bytes, %v", env["BRIDGE_COOKIE_KEY"], len(key), err)
		}
		again, _ := playgroundEnv(public, simURL)
		if again["BRIDGE_COOKIE_KEY"] == env["BRIDGE_COOKIE_KEY"] {
			t.Error("two runs got the same cookie key")
		}
	})
}

func TestPrintPlayground(t *testing.T) {
	var out strings.Builder
	say := func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }
	printPlayground(say, "http://127.0.0.1:4100", "http://127.0.0.1:4200", "demo-pw")
	for _, want := range []string{
		"publisher page:   http://127.0.0.1:4100/publisher/",
		"Bonbon console:   http://127.0.0.1:4200/_sim/console",
		"reader / demo-pw (email " + readerEmail + ")",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReserveAddr(t *testing.T) {
	addr, err := reserveAddr()
	if err != nil || !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("reserveAddr = %q, %v", addr, err)
	}
}
