package keycloak

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/Nerzal/gocloak/v13"
)

// client ensures the bridge's confidential client: a service account for the admin API and
// the authorization-code flow (with PKCE) for the step-up login.
func (p *provisioner) client(ctx context.Context) error {
	c, err := p.findClient(ctx, p.cfg.ClientID)
	if errors.Is(err, ErrNotFound) {
		return p.createClient(ctx)
	}
	if err != nil {
		return err
	}
	changed := false
	for _, uri := range p.cfg.RedirectURIs {
		if c.RedirectURIs == nil || !slices.Contains(*c.RedirectURIs, uri) {
			c.RedirectURIs = appendP(c.RedirectURIs, uri)
			p.say("client %s: allow redirect URI %s", p.cfg.ClientID, uri)
			changed = true
		}
	}
	if !gocloak.PBool(c.ServiceAccountsEnabled) {
		c.ServiceAccountsEnabled = gocloak.BoolP(true)
		p.say("client %s: enable its service account", p.cfg.ClientID)
		changed = true
	}
	if p.cfg.ClientSecret != "" {
		if secretChanged, err := p.secretDiffers(ctx, *c.ID); err != nil {
			return err
		} else if secretChanged {
			c.Secret = &p.cfg.ClientSecret
			p.say("client %s: set the configured secret", p.cfg.ClientID)
			changed = true
		}
	}
	if !changed {
		p.ok("client %s is ready", p.cfg.ClientID)
		return nil
	}
	if p.cfg.DryRun {
		return nil
	}
	return gocloakError(p.gc.UpdateClient(ctx, p.token, p.cfg.Realm, *c))
}

func (p *provisioner) createClient(ctx context.Context) error {
	p.say("create client %s (confidential, service account, PKCE S256)", p.cfg.ClientID)
	if p.cfg.DryRun {
		return nil
	}
	uris := append([]string{}, p.cfg.RedirectURIs...)
	c := gocloak.Client{
		ClientID:                  &p.cfg.ClientID,
		Name:                      gocloak.StringP("Bonbon bridge"),
		Enabled:                   gocloak.BoolP(true),
		Protocol:                  gocloak.StringP("openid-connect"),
		PublicClient:              gocloak.BoolP(false),
		ServiceAccountsEnabled:    gocloak.BoolP(true),
		StandardFlowEnabled:       gocloak.BoolP(true),
		DirectAccessGrantsEnabled: gocloak.BoolP(false),
		ImplicitFlowEnabled:       gocloak.BoolP(false),
		RedirectURIs:              &uris,
		Attributes:                &map[string]string{"pkce.code.challenge.method": "S256"},
	}
	if p.cfg.ClientSecret != "" {
		c.Secret = &p.cfg.ClientSecret
	}
	_, err := p.gc.CreateClient(ctx, p.token, p.cfg.Realm, c)
	return gocloakError(err)
}

func (p *provisioner) secretDiffers(ctx context.Context, idOfClient string) (bool, error) {
	cred, err := p.gc.GetClientSecret(ctx, p.token, p.cfg.Realm, idOfClient)
	if err != nil {
		return false, gocloakError(err)
	}
	return gocloak.PString(cred.Value) != p.cfg.ClientSecret, nil
}

// serviceAccountRoles grants the bridge's service account the realm-management roles it
// needs, and no others.
func (p *provisioner) serviceAccountRoles(ctx context.Context) error {
	c, err := p.findClient(ctx, p.cfg.ClientID)
	if errors.Is(err, ErrNotFound) && p.cfg.DryRun {
		p.say("grant the service account %v", bridgeRoles)
		return nil
	}
	if err != nil {
		return err
	}
	sa, err := p.gc.GetClientServiceAccount(ctx, p.token, p.cfg.Realm, *c.ID)
	if err != nil {
		return gocloakError(err)
	}
	rm, err := p.findClient(ctx, "realm-management")
	if err != nil {
		return err
	}
	have, err := p.gc.GetClientRolesByUserID(ctx, p.token, p.cfg.Realm, *rm.ID, *sa.ID)
	if err != nil {
		return gocloakError(err)
	}
	missing, err := p.missingRoles(ctx, *rm.ID, have)
	if err != nil || len(missing) == 0 {
		if err == nil {
			p.ok("service account has %v", bridgeRoles)
		}
		return err
	}
	for _, r := range missing {
		p.say("grant the service account realm-management role %s", gocloak.PString(r.Name))
	}
	if p.cfg.DryRun {
		return nil
	}
	return gocloakError(p.gc.AddClientRolesToUser(ctx, p.token, p.cfg.Realm, *rm.ID, *sa.ID, missing))
}

func (p *provisioner) missingRoles(ctx context.Context, idOfRM string, have []*gocloak.Role) (
	[]gocloak.Role, error) {
	var missing []gocloak.Role
	for _, name := range bridgeRoles {
		if slices.ContainsFunc(have, func(r *gocloak.Role) bool { return gocloak.PString(r.Name) == name }) {
			continue
		}
		role, err := p.gc.GetClientRole(ctx, p.token, p.cfg.Realm, idOfRM, name)
		if err != nil {
			return nil, fmt.Errorf("read role %s: %w", name, gocloakError(err))
		}
		missing = append(missing, *role)
	}
	return missing, nil
}

func (p *provisioner) findClient(ctx context.Context, clientID string) (*gocloak.Client, error) {
	cs, err := p.gc.GetClients(ctx, p.token, p.cfg.Realm, gocloak.GetClientsParams{
		ClientID: &clientID,
	})
	if err != nil {
		return nil, gocloakError(err)
	}
	for _, c := range cs {
		if gocloak.PString(c.ClientID) == clientID {
			return c, nil
		}
	}
	return nil, fmt.Errorf("client %s: %w", clientID, ErrNotFound)
}

func appendP(list *[]string, s string) *[]string {
	var out []string
	if list != nil {
		out = append(out, *list...)
	}
	out = append(out, s)
	return &out
}
