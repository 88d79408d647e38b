// Package keycloak is everything that talks to Keycloak's admin API: reading, creating and
// updating the users the bridge syncs, and provisioning a realm for the bridge.
package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"github.com/go-resty/resty/v2"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Config says which realm the bridge manages and how it authenticates. The zero value of
// every optional field gets the default named in its comment.
type Config struct {
	// URL is Keycloak's base URL, without /admin or /realms (required).
	URL string
	// Realm is the realm the users live in (required).
	Realm string
	// ClientID and ClientSecret are the bridge's service-account client in Realm
	// (default client id "bonbon-bridge"; the secret is required and never logged).
	ClientID, ClientSecret string
	// IdentityProvider is the alias links are made under (default "bonbon").
	IdentityProvider string
	// HTTPClient carries every call, token requests included (default: 10 s timeout).
	HTTPClient *http.Client
	// RefreshBefore renews the admin token this long before it expires (default 30 s).
	RefreshBefore time.Duration
}

// LogValue keeps the secret out of logs even when a whole Config is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", c.URL), slog.String("realm", c.Realm),
		slog.String("client_id", c.ClientID), slog.Bool("secret_set", c.ClientSecret != ""),
		slog.String("identity_provider", c.IdentityProvider),
	)
}

// Validate reports every missing or malformed setting at once. It changes nothing.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); c.URL == "" || err != nil || u.Host == "" {
		errs = append(errs, errors.New("keycloak URL must be an absolute URL"))
	}
	if c.Realm == "" {
		errs = append(errs, errors.New("keycloak realm is required"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, errors.New("keycloak client secret is required"))
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	c.URL = strings.TrimRight(c.URL, "/")
	if c.ClientID == "" {
		c.ClientID = "bonbon-bridge"
	}
	if c.IdentityProvider == "" {
		c.IdentityProvider = "bonbon"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	c.HTTPClient = withoutRedirects(c.HTTPClient)
	if c.RefreshBefore == 0 {
		c.RefreshBefore = 30 * time.Second
	}
}

// Client calls the admin API of one realm with the bridge's service account. It fetches
// its token once and renews it shortly before expiry. Safe for concurrent use.
type Client struct {
	cfg    Config
	gc     *gocloak.GoCloak
	tokens oauth2.TokenSource
	server serverState // the server's capabilities, once read (serverinfo.go)
}

// New builds a Client; it makes no call until one is needed.
func New(cfg Config) (*Client, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     cfg.URL + "/realms/" + url.PathEscape(cfg.Realm) + "/protocol/openid-connect/token",
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	// The token source outlives any request, so it gets a background context that only
	// carries the HTTP client.
	bg := context.WithValue(context.Background(), oauth2.HTTPClient, cfg.HTTPClient)
	tokens := newTokenCache(fetchToken(func() (*oauth2.Token, error) { return cc.Token(bg) }),
		cfg.RefreshBefore)
	gc := newGoCloak(cfg.URL, cfg.HTTPClient)
	// A 401 to an admin call renews the token and retries that call once (auth.go).
	gc.RestyClient().SetTransport(&retryUnauthorized{
		next: transportOf(cfg.HTTPClient), tokens: tokens,
	}).SetRedirectPolicy(resty.NoRedirectPolicy())
	return &Client{cfg: cfg, gc: gc, tokens: tokens}, nil
}

func newGoCloak(base string, hc *http.Client) *gocloak.GoCloak {
	gc := gocloak.NewClient(base)
	gc.RestyClient().SetTransport(transportOf(hc)).SetTimeout(hc.Timeout)
	return gc
}

func transportOf(hc *http.Client) http.RoundTripper {
	if hc.Transport != nil {
		return hc.Transport
	}
	return http.DefaultTransport
}

// IdentityProvider is the alias links are made under.
func (c *Client) IdentityProvider() string { return c.cfg.IdentityProvider }

// Ping fetches (or reuses) the admin token and makes one cheap admin call, so a nil answer
// means the bridge can really work with this realm.
func (c *Client) Ping(ctx context.Context) error {
	req, err := c.request(ctx)
	if err != nil {
		return err
	}
	resp, err := req.SetQueryParam("max", "1").SetQueryParam("briefRepresentation", "true").
		Get(c.adminURL("users"))
	return check("ping", resp, err)
}

// request returns an authorised request for this realm's admin API.
func (c *Client) request(ctx context.Context) (*resty.Request, error) {
	tok, err := c.tokens.Token()
	if err != nil {
		return nil, tokenError(err)
	}
	return c.gc.GetRequestWithBearerAuth(ctx, tok.AccessToken), nil
}

func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		return &Error{Op: "get admin token", Status: status, Message: re.ErrorCode,
			kind: kindOfToken(status)}
	}
	// Transport failures: the client secret is in the request body, never in this text.
	return &Error{Op: "get admin token", Message: trimMessage(err.Error()), kind: ErrUnavailable}
}

func kindOfToken(status int) error {
	if status >= 500 {
		return ErrUnavailable
	}
	return ErrUnauthorized
}

// adminURL joins escaped path segments under /admin/realms/{realm}/.
func (c *Client) adminURL(segments ...string) string {
	var b strings.Builder
	b.WriteString(c.cfg.URL + "/admin/realms/" + url.PathEscape(c.cfg.Realm))
	for _, s := range segments {
		b.WriteString("/" + url.PathEscape(s))
	}
	return b.String()
}

func jsonUnmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode keycloak answer: %w", err)
	}
	return nil
}
