package bench

import (
	"context"
	"fmt"
	"io"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/app"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// keycloakAdmin provisions and removes the realms a benchmark uses, as the master
// realm's admin. Its calls are set-up, never counted in the results.
type keycloakAdmin struct {
	url, user, password string
	gc                  *gocloak.GoCloak
}

func newKeycloakAdmin(url, user, password string) *keycloakAdmin {
	return &keycloakAdmin{url: url, user: user, password: password, gc: gocloak.NewClient(url)}
}

// provision creates realm name as `bonbon-bridge provision --create-realm` does, with
// the bridge's client secret.
func (k *keycloakAdmin) provision(ctx context.Context, name, secret string) error {
	env := map[string]string{
		"KEYCLOAK_URL": k.url, "KEYCLOAK_REALM": name, "KEYCLOAK_ADMIN_USER": k.user,
		"KEYCLOAK_ADMIN_PASSWORD": k.password, "KEYCLOAK_CLIENT_SECRET": secret,
	}
	pc, err := app.ProvisionFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		io.Discard)
	if err != nil {
		return err
	}
	pc.CreateRealm = true
	if err := keycloak.Provision(ctx, pc); err != nil {
		return fmt.Errorf("provision realm %s: %w", name, err)
	}
	return nil
}

func (k *keycloakAdmin) token(ctx context.Context) (string, error) {
	jwt, err := k.gc.LoginAdmin(ctx, k.user, k.password, "master")
	if err != nil {
		return "", fmt.Errorf("admin login: %w", err)
	}
	return jwt.AccessToken, nil
}

// deleteRealm removes a realm once its run is measured, so Keycloak does not grow
// from run to run.
func (k *keycloakAdmin) deleteRealm(ctx context.Context, name string) error {
	tok, err := k.token(ctx)
	if err != nil {
		return err
	}
	if err := k.gc.DeleteRealm(ctx, tok, name); err != nil {
		return fmt.Errorf("delete realm %s: %w", name, err)
	}
	return nil
}
