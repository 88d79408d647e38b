// Package integration tests the bridge against a real Keycloak: an existing server
// (KEYCLOAK_URL), a container (KEYCLOAK_MODE=container) or the local distribution
// (KEYCLOAK_MODE=distribution). Keycloak starts once for the package; every test gets a
// realm of its own.
package integration

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/kctest"
)

// server is the Keycloak every test in this package uses.
var server *kctest.Keycloak

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	began := time.Now()
	k, err := kctest.Start(ctx)
	if err != nil {
		// Never a skip: a missing Keycloak is a failure CI must see.
		fmt.Fprintf(os.Stderr, "integration: no Keycloak (mode %s): %v\n", kctest.Mode(), err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "integration: Keycloak (%s) at %s, ready after %s\n",
		k.How, k.URL, time.Since(began).Round(100*time.Millisecond))
	server = k
	defer func() {
		if err := k.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "integration: stop Keycloak: %v\n", err)
		}
	}()
	// After every test: no token, secret or unmasked email in any bridge log line.
	return checkLogs(m.Run())
}
