package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// rawClient issues the fewest admin-API calls a webhook's case needs, with plain
// net/http and the bridge's service account: the limit the bridge is measured against.
// It decides nothing: the case is known in advance.
type rawClient struct {
	base, idp string
	http      *http.Client
	tokens    oauth2.TokenSource
}

func newRawClient(kcURL, realm, secret string, hc *http.Client) *rawClient {
	realmPath := "/realms/" + url.PathEscape(realm)
	cc := clientcredentials.Config{
		ClientID: "bonbon-bridge", ClientSecret: secret, AuthStyle: oauth2.AuthStyleInParams,
		TokenURL: kcURL + realmPath + "/protocol/openid-connect/token",
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	return &rawClient{base: kcURL + "/admin" + realmPath, idp: "bonbon", http: hc,
		tokens: oauth2.ReuseTokenSource(nil, cc.TokenSource(ctx))}
}

// call sends one admin request and decodes a JSON answer into out (when not nil).
func (c *rawClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	tok, err := c.tokens.Token()
	if err != nil {
		return fmt.Errorf("raw token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("raw %s %s: status %d", method, path, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (c *rawClient) byLink(ctx context.Context, id string) ([]map[string]json.RawMessage, error) {
	var users []map[string]json.RawMessage
	q := url.Values{"idpAlias": {c.idp}, "idpUserId": {id}, "max": {"2"},
		"briefRepresentation": {"false"}}
	return users, c.call(ctx, http.MethodGet, "/users?"+q.Encode(), nil, &users)
}

// create is a new user: link miss, email miss, create with the link (3 calls).
func (c *rawClient) create(ctx context.Context, d mapping.Desired) error {
	if _, err := c.byLink(ctx, d.BonbonID); err != nil {
		return err
	}
	q := url.Values{"email": {d.Email}, "exact": {"true"}, "max": {"5"},
		"briefRepresentation": {"false"}}
	if err := c.call(ctx, http.MethodGet, "/users?"+q.Encode(), nil, nil); err != nil {
		return err
	}
	a := d.NewAccount()
	return c.call(ctx, http.MethodPost, "/users", map[string]any{
		"username": a.Username, "email": a.Email, "emailVerified": a.EmailVerified,
		"firstName": a.FirstName, "lastName": a.LastName, "enabled": true,
		"attributes": a.Attributes,
		"federatedIdentities": []map[string]string{{
			"identityProvider": c.idp, "userId": d.BonbonID, "userName": d.BonbonID}},
	}, nil)
}

// update is a changed user: find by link, then PUT the representation as read with the
// new attributes (2 calls). unchanged stops after the first.
func (c *rawClient) update(ctx context.Context, d mapping.Desired, write bool) error {
	users, err := c.byLink(ctx, d.BonbonID)
	if err != nil || !write {
		return err
	}
	if len(users) != 1 {
		return fmt.Errorf("raw: %d users linked to %s", len(users), d.BonbonID)
	}
	rep := users[0]
	var id string
	if err := json.Unmarshal(rep["id"], &id); err != nil {
		return fmt.Errorf("raw: user id: %w", err)
	}
	attrs := map[string][]string{}
	_ = json.Unmarshal(rep["attributes"], &attrs)
	for k, v := range d.Attributes {
		attrs[k] = []string{v}
	}
	rep["attributes"], _ = json.Marshal(attrs)
	return c.call(ctx, http.MethodPut, "/users/"+url.PathEscape(strings.TrimSpace(id)), rep, nil)
}
