package keycloak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Nerzal/gocloak/v13"
)

// ProvisionConfig says what `bonbon-bridge provision` prepares in a realm.
type ProvisionConfig struct {
	// URL and Realm: the Keycloak and the realm to prepare (required).
	URL, Realm string
	// AdminRealm, AdminUser, AdminPassword: an administrator able to manage Realm
	// (realm default "master", client "admin-cli" with the password grant).
	AdminRealm, AdminUser, AdminPassword string
	// ClientID is the bridge's service-account client (default "bonbon-bridge").
	ClientID string
	// ClientSecret, when set, becomes the client's secret; otherwise Keycloak generates one
	// on create and a later run leaves it alone.
	ClientSecret string
	// RedirectURIs are the bridge's callback URLs for the step-up login.
	RedirectURIs []string
	// IdentityProvider is the alias links are made under (default "bonbon").
	IdentityProvider string
	// Profile declares the attributes the bridge writes.
	Profile ProfileSpec
	// CreateRealm creates Realm when it does not exist (demo and tests); otherwise a
	// missing realm is an error.
	CreateRealm bool
	// DryRun reads the realm and reports what would change, changing nothing.
	DryRun bool
	// HTTPClient carries every call (default: 20 s timeout).
	HTTPClient *http.Client
	// Out receives one line per step (default: discarded).
	Out io.Writer
}

// bridgeRoles are the realm-management roles the bridge's service account needs to find,
// create, update and link users; nothing realm-wide.
var bridgeRoles = []string{"query-users", "view-users", "manage-users"}

// provisioner runs the steps with one admin token.
type provisioner struct {
	cfg   ProvisionConfig
	gc    *gocloak.GoCloak
	token string
}

// Provision makes Realm ready for the bridge, idempotently: the identity provider alias,
// the user-profile declarations, and the bridge's client with its roles. A second run
// with the same config changes nothing.
func Provision(ctx context.Context, cfg ProvisionConfig) error {
	cfg.defaults()
	if cfg.URL == "" || cfg.Realm == "" || cfg.AdminUser == "" {
		return errors.New("provision: Keycloak URL, realm and admin user are required")
	}
	p := &provisioner{cfg: cfg, gc: newGoCloak(cfg.URL, cfg.HTTPClient)}
	jwt, err := p.gc.LoginAdmin(ctx, cfg.AdminUser, cfg.AdminPassword, cfg.AdminRealm)
	if err != nil {
		return fmt.Errorf("provision: admin login: %w", gocloakError(err))
	}
	p.token = jwt.AccessToken

	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"server version", p.serverVersion},
		{"realm", p.realm},
		{"identity provider", p.identityProvider},
		{"user profile", p.userProfile},
		{"client", p.client},
		{"service account roles", p.serviceAccountRoles},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return fmt.Errorf("provision %s: %w", s.name, err)
		}
	}
	return nil
}

func (c *ProvisionConfig) defaults() {
	c.URL = strings.TrimRight(c.URL, "/")
	if c.AdminRealm == "" {
		c.AdminRealm = "master"
	}
	if c.ClientID == "" {
		c.ClientID = "bonbon-bridge"
	}
	if c.IdentityProvider == "" {
		c.IdentityProvider = "bonbon"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
}

// say reports a step; in a dry run, changes are reported as plans.
func (p *provisioner) say(format string, args ...any) {
	prefix := ""
	if p.cfg.DryRun {
		prefix = "would "
	}
	fmt.Fprintf(p.cfg.Out, "%s%s\n", prefix, fmt.Sprintf(format, args...))
}

func (p *provisioner) ok(format string, args ...any) {
	fmt.Fprintf(p.cfg.Out, "ok: %s\n", fmt.Sprintf(format, args...))
}

func (p *provisioner) realm(ctx context.Context) error {
	_, err := p.gc.GetRealm(ctx, p.token, p.cfg.Realm)
	if err == nil {
		p.ok("realm %s exists", p.cfg.Realm)
		return nil
	}
	if err = gocloakError(err); !errors.Is(err, ErrNotFound) {
		return err
	}
	if !p.cfg.CreateRealm {
		return fmt.Errorf("realm %q does not exist (create it, or pass --create-realm)", p.cfg.Realm)
	}
	p.say("create realm %s", p.cfg.Realm)
	if p.cfg.DryRun {
		return nil
	}
	_, err = p.gc.CreateRealm(ctx, p.token, gocloak.RealmRepresentation{
		Realm: &p.cfg.Realm, Enabled: gocloak.BoolP(true),
	})
	return gocloakError(err)
}

// identityProvider creates the alias links are stored under. Keycloak stores links to an
// unknown alias but hides them from every read, so the alias must exist. It is disabled:
// nobody logs in through it, it only names Bonbon in "Identity provider links".
func (p *provisioner) identityProvider(ctx context.Context) error {
	alias := p.cfg.IdentityProvider
	_, err := p.gc.GetIdentityProvider(ctx, p.token, p.cfg.Realm, alias)
	if err == nil {
		p.ok("identity provider %s exists", alias)
		return nil
	}
	if err = gocloakError(err); !errors.Is(err, ErrNotFound) {
		return err
	}
	p.say("create identity provider %s (disabled)", alias)
	if p.cfg.DryRun {
		return nil
	}
	_, err = p.gc.CreateIdentityProvider(ctx, p.token, p.cfg.Realm,
		gocloak.IdentityProviderRepresentation{
			Alias: &alias, DisplayName: gocloak.StringP("Bonbon"),
			ProviderID: gocloak.StringP("oidc"), Enabled: gocloak.BoolP(false),
			Config: &map[string]string{
				"clientId": "bonbon-bridge",
				// Never called: the provider is disabled and exists to hold links.
				"authorizationUrl": "https://bonbon.invalid/authorize",
				"tokenUrl":         "https://bonbon.invalid/token",
				"clientAuthMethod": "client_secret_post",
			},
		})
	return gocloakError(err)
}

// gocloakError maps gocloak's APIError onto this package's sentinels.
func gocloakError(err error) error {
	if err == nil {
		return nil
	}
	var ae *gocloak.APIError
	if errors.As(err, &ae) {
		kind := ErrUnavailable
		if ae.Code != 0 {
			kind = kindOf(ae.Code)
		}
		return &Error{Op: "admin call", Status: ae.Code, Message: trimMessage(ae.Message), kind: kind}
	}
	return err
}
