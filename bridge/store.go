package bridge

import (
	"context"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// UserStore is what the flows need from Keycloak. *keycloak.Client implements it; unit
// tests use an in-memory fake, and one conformance suite (bridge/storetest) runs against
// both so the fake cannot drift from the real server.
type UserStore interface {
	// FindByLink returns the user linked to the Bonbon id: keycloak.ErrNotFound when
	// none is, keycloak.ErrAmbiguous when several are.
	FindByLink(ctx context.Context, bonbonID string) (keycloak.User, error)
	// FindByEmail matches the whole address, case-insensitively, or keycloak.ErrNotFound.
	FindByEmail(ctx context.Context, email string) (keycloak.User, error)
	// LinkedID is the Bonbon id the user is linked to, "" when none.
	LinkedID(ctx context.Context, userID string) (string, error)
	// Create makes an enabled user already linked to bonbonID and returns its id;
	// keycloak.ErrExists when the username or email is taken.
	Create(ctx context.Context, u keycloak.User, bonbonID string) (string, error)
	// Update replaces the modelled fields and keeps everything else the user has.
	Update(ctx context.Context, u keycloak.User) error
}

// BonbonAPI is what the flows need from Bonbon. *bonbon.Client implements it.
type BonbonAPI interface {
	EarnUser(ctx context.Context, earnToken string) (bonbon.User, error)
}
