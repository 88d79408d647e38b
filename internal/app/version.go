package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// versionReader is the part of the Keycloak client the start-up check uses.
type versionReader interface {
	ServerCapabilities(ctx context.Context) (keycloak.Capabilities, error)
}

// checkKeycloakVersion asks Keycloak its version once, at start-up, and logs it. A version
// the bridge does not support (before 24) stops the start with a message that says so,
// rather than letting the first webhook fail on a missing user profile. A Keycloak that
// cannot be asked (down, slow, secret refused) does not stop it: /readyz reports that,
// and the bridge works as soon as Keycloak does.
func checkKeycloakVersion(kc versionReader, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	caps, err := kc.ServerCapabilities(ctx)
	switch {
	case errors.Is(err, keycloak.ErrUnsupportedVersion):
		return fmt.Errorf("refusing to start: %w; upgrade Keycloak to %d or later",
			err, keycloak.OldestSupportedMajor)
	case err != nil:
		log.Warn("could not read Keycloak's version; starting anyway", "err", err)
	default:
		log.Info("keycloak version", "version", caps.Version.String(),
			"major", caps.Version.Major)
	}
	return nil
}
