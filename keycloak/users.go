package keycloak

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/Nerzal/gocloak/v13"
)

// User is the part of a Keycloak user the bridge reads and writes. Values read from
// Keycloak also keep the whole representation, so an update sends back every field this
// type does not model (required actions, enabled, credentials' metadata...).
type User struct {
	ID                  string
	Username            string
	Email               string
	EmailVerified       bool
	FirstName, LastName string
	Attributes          map[string][]string

	rep map[string]json.RawMessage
}

// userRep is the JSON shape of the modelled fields.
type userRep struct {
	ID            string              `json:"id,omitempty"`
	Username      string              `json:"username"`
	Email         string              `json:"email"`
	EmailVerified bool                `json:"emailVerified"`
	FirstName     string              `json:"firstName"`
	LastName      string              `json:"lastName"`
	Attributes    map[string][]string `json:"attributes"`
}

func decodeUsers(body []byte) ([]User, error) {
	var raws []json.RawMessage
	if err := jsonUnmarshal(body, &raws); err != nil {
		return nil, err
	}
	users := make([]User, 0, len(raws))
	for _, raw := range raws {
		u, err := decodeUser(raw)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// decodeUser reads one representation into the modelled fields and keeps it whole.
func decodeUser(raw json.RawMessage) (User, error) {
	var r userRep
	var rep map[string]json.RawMessage
	if err := jsonUnmarshal(raw, &r); err != nil {
		return User{}, err
	}
	if err := jsonUnmarshal(raw, &rep); err != nil {
		return User{}, err
	}
	return User{
		ID: r.ID, Username: r.Username, Email: r.Email, EmailVerified: r.EmailVerified,
		FirstName: r.FirstName, LastName: r.LastName, Attributes: r.Attributes, rep: rep,
	}, nil
}

// FindByLink returns the user linked to bonbonID under the identity provider alias:
// ErrNotFound when none is, ErrAmbiguous when several are. One admin call.
func (c *Client) FindByLink(ctx context.Context, bonbonID string) (User, error) {
	users, err := c.listUsers(ctx, "find user by link", map[string]string{
		"idpAlias":  c.cfg.IdentityProvider,
		"idpUserId": bonbonID,
		"max":       "2",
	})
	if err != nil {
		return User{}, err
	}
	switch len(users) {
	case 0:
		return User{}, fmt.Errorf("find user by link: %w", ErrNotFound)
	case 1:
		return c.asDeclared(ctx, users[0])
	default:
		return User{}, fmt.Errorf("find user by link: %w", ErrAmbiguous)
	}
}

// FindByEmail returns the user whose email is exactly email (case-insensitive, as Keycloak
// stores it lower-cased), or ErrNotFound. Keycloak's email filter matches substrings unless
// told exact=true, and the answer is compared again here so a lookalike never matches.
func (c *Client) FindByEmail(ctx context.Context, email string) (User, error) {
	users, err := c.listUsers(ctx, "find user by email", map[string]string{
		"email": email,
		"exact": "true",
		"max":   "5",
	})
	if err != nil {
		return User{}, err
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, email) {
			return c.asDeclared(ctx, u)
		}
	}
	return User{}, fmt.Errorf("find user by email: %w", ErrNotFound)
}

func (c *Client) listUsers(ctx context.Context, op string, q map[string]string) ([]User, error) {
	req, err := c.request(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := req.SetQueryParams(q).SetQueryParam("briefRepresentation", "false").
		Get(c.adminURL("users"))
	if err := check(op, resp, err); err != nil {
		return nil, err
	}
	return decodeUsers(resp.Body())
}

// GetUser reads one user by Keycloak id.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	req, err := c.request(ctx)
	if err != nil {
		return User{}, err
	}
	resp, err := req.Get(c.adminURL("users", id))
	if err := check("get user", resp, err); err != nil {
		return User{}, err
	}
	return decodeUser(resp.Body())
}

// LinkedID returns the Bonbon id the user is linked to, or "" when it has no Bonbon link.
func (c *Client) LinkedID(ctx context.Context, userID string) (string, error) {
	req, err := c.request(ctx)
	if err != nil {
		return "", err
	}
	var links []gocloak.FederatedIdentityRepresentation
	resp, err := req.SetResult(&links).Get(c.adminURL("users", userID, "federated-identity"))
	if err := check("read user links", resp, err); err != nil {
		return "", err
	}
	for _, l := range links {
		if l.IdentityProvider != nil && *l.IdentityProvider == c.cfg.IdentityProvider {
			return gocloak.PString(l.UserID), nil
		}
	}
	return "", nil
}

// newUserBody is gocloak's user plus the federatedIdentities field it lacks, which Keycloak
// honours on create in the same transaction: the user never exists without its link.
type newUserBody struct {
	gocloak.User
	FederatedIdentities []gocloak.FederatedIdentityRepresentation `json:"federatedIdentities"`
}

// Create makes the user, enabled, linked to bonbonID, in one call, and returns its id.
// ErrExists means a user with that username or email exists (maybe created concurrently).
func (c *Client) Create(ctx context.Context, u User, bonbonID string) (string, error) {
	attrs := u.Attributes
	body := newUserBody{
		User: gocloak.User{
			Username: &u.Username, Email: &u.Email, EmailVerified: &u.EmailVerified,
			FirstName: &u.FirstName, LastName: &u.LastName, Enabled: gocloak.BoolP(true),
			Attributes: &attrs,
		},
		FederatedIdentities: []gocloak.FederatedIdentityRepresentation{{
			IdentityProvider: &c.cfg.IdentityProvider, UserID: &bonbonID, UserName: &bonbonID,
		}},
	}
	req, err := c.request(ctx)
	if err != nil {
		return "", err
	}
	resp, err := req.SetBody(body).Post(c.adminURL("users"))
	if err := check("create user", resp, err); err != nil {
		return "", err
	}
	return path.Base(resp.Header().Get("Location")), nil
}

// Update writes u back whole. Keycloak treats a PUT that carries attributes as a full
// replacement and clears any editable field it omits (email and names included), so the
// body is the representation as read with the modelled fields replaced.
func (c *Client) Update(ctx context.Context, u User) error {
	rep := u.rep
	if rep == nil {
		cur, err := c.GetUser(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		rep = cur.rep
	}
	body, err := mergeRep(rep, u)
	if err != nil {
		return err
	}
	req, err := c.request(ctx)
	if err != nil {
		return err
	}
	resp, err := req.SetHeader("Content-Type", "application/json").SetBody(body).
		Put(c.adminURL("users", u.ID))
	return check("update user", resp, err)
}

func mergeRep(rep map[string]json.RawMessage, u User) ([]byte, error) {
	out := make(map[string]json.RawMessage, len(rep)+6)
	for k, v := range rep {
		out[k] = v
	}
	set := map[string]any{
		"email": u.Email, "emailVerified": u.EmailVerified, "firstName": u.FirstName,
		"lastName": u.LastName, "attributes": u.Attributes,
	}
	for k, v := range set {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode user: %w", err)
		}
		out[k] = b
	}
	return json.Marshal(out)
}

// Link links an existing user to bonbonID. Keycloak accepts a second user linked to the
// same external id, so callers must have checked FindByLink first.
func (c *Client) Link(ctx context.Context, userID, bonbonID string) error {
	req, err := c.request(ctx)
	if err != nil {
		return err
	}
	body := gocloak.FederatedIdentityRepresentation{
		IdentityProvider: &c.cfg.IdentityProvider, UserID: &bonbonID, UserName: &bonbonID,
	}
	resp, err := req.SetBody(body).
		Post(c.adminURL("users", userID, "federated-identity", c.cfg.IdentityProvider))
	return check("link user", resp, err)
}
