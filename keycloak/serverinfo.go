package keycloak

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
)

// serverInfo is the one part of GET /admin/serverinfo the bridge reads.
type serverInfo struct {
	SystemInfo *struct {
		Version string `json:"version"`
	} `json:"systemInfo"`
}

// hiddenVersion stands for a server that answers serverinfo without systemInfo. Keycloak
// began hiding systemInfo from accounts that are neither master-realm admins nor
// realm-admin during 26.x (26.2.10 was the first); 24 and 25 show it to any admin
// account, the bridge's included. So a missing systemInfo means 26 or later: supported,
// with 26's behaviour.
var hiddenVersion = Version{Major: 26, Raw: "26 or later (serverinfo hides the exact version)"}

// ServerCapabilities reads the server's version (GET /admin/serverinfo, systemInfo.version)
// with the bridge's service account and returns what that version can do. The account's
// least-privilege roles (query-users, view-users, manage-users) can read serverinfo on
// every supported version, but 26.x hides the exact version from it: the answer is then
// 26's capabilities, with Version.Raw saying so. Errors wrap ErrUnsupportedVersion for a
// version before 24, or the sentinel of the failed call. One admin call.
// A successful answer is kept: the Client's later calls follow it. Safe for concurrent use.
func (c *Client) ServerCapabilities(ctx context.Context) (Capabilities, error) {
	req, err := c.request(ctx)
	if err != nil {
		return Capabilities{}, fmt.Errorf("read server version: %w", err)
	}
	caps, err := readCapabilities(req, c.cfg.URL)
	c.server.store(caps, err)
	return caps, err
}

// serverState holds what a Client learnt of its server. A failed read is retried no more
// often than retryAfter, since serverinfo is a few hundred kilobytes.
type serverState struct {
	mu        sync.Mutex
	caps      *Capabilities
	lastTried time.Time
}

const retryAfter = time.Minute

func (s *serverState) store(caps Capabilities, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastTried = time.Now()
	if err == nil {
		s.caps = &caps
	}
}

// capabilities returns the server's capabilities, reading them on first need; ok is false
// while they are unknown, and callers then take the way that is right on every version.
func (c *Client) capabilities(ctx context.Context) (caps Capabilities, ok bool) {
	c.server.mu.Lock()
	known, tried := c.server.caps, c.server.lastTried
	c.server.mu.Unlock()
	if known != nil {
		return *known, true
	}
	if time.Since(tried) < retryAfter {
		return Capabilities{}, false
	}
	caps, err := c.ServerCapabilities(ctx)
	return caps, err == nil
}

// asDeclared returns u as GET /users/{id} shows it when the search u came from may also
// show attributes the user profile no longer declares (Capabilities.
// ListsShowUndeclaredAttributes): one more admin call on 24 and 25, none on 26.
func (c *Client) asDeclared(ctx context.Context, u User) (User, error) {
	if caps, ok := c.capabilities(ctx); ok && !caps.ListsShowUndeclaredAttributes {
		return u, nil
	}
	return c.GetUser(ctx, u.ID)
}

// serverCapabilities is ServerCapabilities with the provisioning admin's token, which
// sees the exact version.
func (p *provisioner) serverCapabilities(ctx context.Context) (Capabilities, error) {
	return readCapabilities(p.gc.GetRequestWithBearerAuth(ctx, p.token), p.cfg.URL)
}

func readCapabilities(req *resty.Request, base string) (Capabilities, error) {
	resp, err := req.Get(base + "/admin/serverinfo")
	if err := check("read server version", resp, err); err != nil {
		return Capabilities{}, err
	}
	var info serverInfo
	if err := jsonUnmarshal(resp.Body(), &info); err != nil {
		return Capabilities{}, fmt.Errorf("read server version: %w", err)
	}
	v := hiddenVersion
	if info.SystemInfo != nil {
		if v, err = ParseVersion(info.SystemInfo.Version); err != nil {
			return Capabilities{}, err
		}
	}
	return CapabilitiesOf(v)
}

// serverVersion reports the server's exact version (the provisioning admin sees it on
// every version) and refuses one the bridge does not support before changing anything.
func (p *provisioner) serverVersion(ctx context.Context) error {
	caps, err := p.serverCapabilities(ctx)
	if err != nil {
		return err
	}
	p.ok("Keycloak %s", caps.Version)
	return nil
}
