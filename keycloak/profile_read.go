package keycloak

import "context"

// UserProfile returns the realm's user-profile configuration as Keycloak serves it
// (GET /admin/realms/{realm}/users/profile): the declared attributes with their
// annotations, which is where the bridge's mapping lives (mapping.FromProfile). One admin
// call; the service account's query-users, view-users and manage-users roles are enough
// (Keycloak lets any realm-management role read it; writing it needs manage-realm).
func (c *Client) UserProfile(ctx context.Context) ([]byte, error) {
	req, err := c.request(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := req.Get(c.adminURL("users", "profile"))
	if err := check("read user profile", resp, err); err != nil {
		return nil, err
	}
	return resp.Body(), nil
}
