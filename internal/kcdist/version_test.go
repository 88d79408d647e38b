package kcdist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

func caps(t *testing.T, version string) keycloak.Capabilities {
	t.Helper()
	v, err := keycloak.ParseVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	c, err := keycloak.CapabilitiesOf(v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLaunchFor pins how the distribution starts each supported major.
func TestLaunchFor(t *testing.T) {
	tests := []struct {
		version, wantArgs, wantEnv, wantHealth string
	}{
		{"24.0.5", "--http-host=127.0.0.1 --http-port=8080 " +
			"--hostname-url=http://127.0.0.1:8080 --health-enabled=true",
			"KEYCLOAK_ADMIN", "http://127.0.0.1:8080/health/ready"},
		{"25.0.6", "--http-host=127.0.0.1 --http-port=8080 --http-management-port=9000 " +
			"--hostname=http://127.0.0.1:8080 --health-enabled=true",
			"KEYCLOAK_ADMIN", "http://127.0.0.1:9000/health/ready"},
		{"26.7.3", "--http-host=127.0.0.1 --http-port=8080 --http-management-port=9000 " +
			"--hostname=http://127.0.0.1:8080 --health-enabled=true",
			"KC_BOOTSTRAP_ADMIN_USERNAME", "http://127.0.0.1:9000/health/ready"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			l := LaunchFor(caps(t, tt.version), "127.0.0.1", 8080, 9000,
				"http://127.0.0.1:8080", "admin", "pw")
			if got := strings.Join(l.Args, " "); got != tt.wantArgs {
				t.Errorf("args = %q, want %q", got, tt.wantArgs)
			}
			if l.Env[tt.wantEnv] != "admin" || len(l.Env) != 2 {
				t.Errorf("env = %v, want the admin in %s", l.Env, tt.wantEnv)
			}
			if l.HealthURL != tt.wantHealth {
				t.Errorf("health = %q, want %q", l.HealthURL, tt.wantHealth)
			}
		})
	}
}

// TestJavaHomeFor picks a JDK the version supports, passing over an unsuitable JAVA_HOME.
func TestJavaHomeFor(t *testing.T) {
	root := t.TempDir()
	for name, version := range map[string]string{
		"java-17-openjdk": "17.0.15", "temurin-25-jdk": "25.0.3", "legacy-8": "1.8.0_412",
	} {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		release := []byte("IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"" + version + "\"\n")
		if err := os.WriteFile(filepath.Join(dir, "release"), release, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, javaHome, version, want string
	}{
		{"24 takes 17, not 25", "", "24.0.5", "java-17-openjdk"},
		{"26.7 prefers 25", "", "26.7.3", "temurin-25-jdk"},
		{"JAVA_HOME on 25 passed over for 25.0.6", "temurin-25-jdk", "25.0.6",
			"java-17-openjdk"},
		{"JAVA_HOME on 17 kept for 26.7.3", "java-17-openjdk", "26.7.3", "java-17-openjdk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := ""
			if tt.javaHome != "" {
				home = filepath.Join(root, tt.javaHome)
			}
			t.Setenv("JAVA_HOME", home)
			got := javaHomeIn(root, caps(t, tt.version).JDKs)
			if got != filepath.Join(root, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if got := jdkMajor(filepath.Join(root, "legacy-8")); got != 8 {
		t.Errorf("jdkMajor(1.8.0) = %d, want 8", got)
	}
}

// TestDistVersion reads version.txt as the distribution ships it.
func TestDistVersion(t *testing.T) {
	home := t.TempDir()
	text := []byte("Keycloak - Version 24.0.5\n")
	if err := os.WriteFile(filepath.Join(home, "version.txt"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := DistVersion(home)
	if err != nil || v.String() != "24.0.5" {
		t.Errorf("DistVersion = %v, %v; want 24.0.5", v, err)
	}
	if _, err := DistVersion(t.TempDir()); err == nil {
		t.Error("DistVersion of a folder without version.txt: want an error")
	}
}
