// Package kctest gives integration tests a real Keycloak: an existing server named by
// KEYCLOAK_URL, a container started through Testcontainers, or the local distribution.
package kctest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
)

// Keycloak is a server the tests may use, with the master realm's admin credentials.
type Keycloak struct {
	URL, AdminUser, AdminPassword, Version string
	// How says which way it was obtained ("existing", "container", "distribution").
	How  string
	stop func() error
}

// Stop ends the server if this package started it; an existing server is left running.
func (k *Keycloak) Stop() error {
	if k == nil || k.stop == nil {
		return nil
	}
	return k.stop()
}

// Mode names how Start obtains Keycloak: KEYCLOAK_URL set means "existing"; otherwise
// KEYCLOAK_MODE ("auto", the default, "container" or "distribution").
func Mode() string {
	if os.Getenv("KEYCLOAK_URL") != "" {
		return "existing"
	}
	if m := os.Getenv("KEYCLOAK_MODE"); m != "" {
		return m
	}
	return defaultMode
}

// Start returns a ready Keycloak, chosen by Mode.
func Start(ctx context.Context) (*Keycloak, error) {
	switch m := Mode(); m {
	case "existing":
		return existing(), nil
	case "distribution":
		return startDistribution(ctx)
	case "container":
		return startContainerMode(ctx)
	case "auto":
		return startAuto(ctx)
	default:
		return nil, fmt.Errorf("kctest: unknown KEYCLOAK_MODE %q (auto, container or distribution)", m)
	}
}

func existing() *Keycloak {
	k := &Keycloak{
		URL:           os.Getenv("KEYCLOAK_URL"),
		AdminUser:     envOr("KEYCLOAK_ADMIN_USER", "admin"),
		AdminPassword: envOr("KEYCLOAK_ADMIN_PASSWORD", "admin"),
		How:           "existing",
	}
	return k
}

// startDistribution runs the distribution that scripts/keycloak-dist.sh unpacked.
func startDistribution(ctx context.Context) (*Keycloak, error) {
	home := os.Getenv("KEYCLOAK_HOME")
	if home == "" {
		home = filepath.Join(RepoRoot(), ".cache", "keycloak-"+WantedVersion())
	}
	srv, err := kcdist.Start(ctx, kcdist.Options{
		Home: home,
		Progress: func(d time.Duration) {
			fmt.Fprintf(os.Stderr, "kctest: Keycloak starting (%s)\n", d.Round(time.Second))
		},
	})
	if err != nil {
		return nil, err
	}
	java := srv.JavaHome
	if java == "" {
		java = "java on PATH"
	}
	fmt.Fprintf(os.Stderr, "kctest: Keycloak %s (JDK %s) ready at %s in %s\n",
		srv.Version, java, srv.URL, srv.StartupElapsed.Round(100*time.Millisecond))
	return &Keycloak{
		URL: srv.URL, AdminUser: srv.AdminUser, AdminPassword: srv.AdminPassword,
		Version: srv.Version, How: "distribution", stop: srv.Stop,
	}, nil
}

// Version is the Keycloak version the project pins for the distribution and the image.
const Version = "26.7.3"

// WantedVersion is the Keycloak version the tests start: $KEYCLOAK_VERSION (the switch
// CI's version matrix uses; scripts/keycloak-dist.sh and scripts/keycloak-image.sh read
// it too), else Version. The distribution is .cache/keycloak-<version>.
func WantedVersion() string {
	return envOr("KEYCLOAK_VERSION", Version)
}

// officialImage is the official image of Keycloak version v.
func officialImage(v string) string {
	return strings.TrimSuffix(DefaultImage, ":"+Version) + ":" + v
}

// LocalImageFor is the image scripts/keycloak-image.sh builds for Keycloak version v.
func LocalImageFor(v string) string {
	return strings.TrimSuffix(LocalImage, ":"+Version) + ":" + v
}

// RepoRoot is the repository's top folder, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
