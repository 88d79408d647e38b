package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// Flow 2 in brief (routes under /link):
//
//   - POST /link/check (fetch from the page script): is a link possible for this earn token?
//   - POST /link/start (a top-level form POST from an allowed Origin): asks Bonbon who the
//     token is, finds the account holding the email, seals an attempt into a cookie and
//     answers 303 to Keycloak's login page.
//   - GET /link/callback: clears the cookie, checks state, decides again from fresh reads,
//     exchanges the code (PKCE), verifies the ID token, links, applies the profile, clears
//     the marker, answers 303 to the configured return URL.
//   - GET /link/script.js and /link/example: what a publisher copies onto its pages.
//
// Single use without a server store rests on three things: the callback clears the
// cookie; Keycloak accepts each authorization code once and only with its PKCE verifier
// (so a replayed callback URL cannot be exchanged again, on any replica); and once the link
// exists, every callback for the attempt is refused before any exchange
// (link_already_completed). What this does not cover: someone who copies both the cookie
// and a callback URL that has not been used yet can complete that attempt in place of the
// browser, within TTL. It still links only the Bonbon id to the account whose own password
// was just typed, which is the outcome the owner asked for. Replicas need the same
// cookie key; nothing else is shared.
//
// The attempt carries the earn token (sealed; the browser had it anyway) so the callback
// can ask Bonbon again: the decision and the profile applied are as fresh as the login.

// LinkConfig configures Flow 2, the step-up link (DESIGN.md): a Bonbon user whose email an
// existing, unlinked Keycloak account holds proves ownership of that account by logging in
// to it (authorization code, PKCE S256, nonce, prompt=login, max_age=0) before the bridge
// links it. Every field without a default is required.
type LinkConfig struct {
	// PublicURL is the bridge's base URL as browsers reach it; the redirect URI is
	// PublicURL + "/link/callback", as `provision` registers it.
	PublicURL string
	// ReturnURL is where the browser goes after a link (and the "back" link of error
	// pages). It is never taken from a request.
	ReturnURL string
	// AllowedOrigins are the publisher's page origins ("https://www.example.com") that may
	// start a link. An exact match of the Origin header is required.
	AllowedOrigins []string
	// CookieKeys are AES-256 keys (32 bytes each) for the attempt cookie. The first seals;
	// all open, so keys rotate by putting the new one first.
	CookieKeys [][]byte
	// Issuer is the realm's issuer as it appears in ID tokens (its public URL);
	// AuthURL is the authorization endpoint browsers are sent to. TokenURL and JWKSURL
	// may use an internal host: the bridge calls them itself.
	Issuer, AuthURL, TokenURL, JWKSURL string
	// ClientID and ClientSecret are the bridge's confidential client.
	ClientID, ClientSecret string
	// TTL is how long an attempt may take, login included (default 10 min).
	TTL time.Duration
	// ClockSkew is how much earlier than the attempt's start auth_time may be (default 10 s).
	ClockSkew time.Duration
	// HTTPClient carries the token and key-set calls (default: 10 s timeout).
	HTTPClient *http.Client
	// Accounts reads and links Keycloak users (default: Config.Users, which must then
	// implement LinkStore).
	Accounts LinkStore
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// LinkStore is what the link flow needs from Keycloak besides UserStore.
// *keycloak.Client implements it.
type LinkStore interface {
	// GetUser reads one user by id, or keycloak.ErrNotFound.
	GetUser(ctx context.Context, id string) (keycloak.User, error)
	// Link adds the Bonbon link to the user: keycloak.ErrExists when the user already has
	// a Bonbon link. It does not check that no other user has the same link.
	Link(ctx context.Context, userID, bonbonID string) error
}

// Validate reports every missing or malformed setting at once. It changes nothing.
func (c *LinkConfig) Validate() error {
	var errs []error
	for name, v := range map[string]string{
		"public URL": c.PublicURL, "return URL": c.ReturnURL, "issuer": c.Issuer,
		"authorization URL": c.AuthURL, "token URL": c.TokenURL, "JWKS URL": c.JWKSURL,
	} {
		if u, err := url.Parse(v); err != nil || u.Host == "" ||
			(u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("link: %s must be an absolute http(s) URL", name))
		}
	}
	if len(c.AllowedOrigins) == 0 {
		errs = append(errs, errors.New("link: at least one allowed origin is required"))
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, errors.New("link: client id and secret are required"))
	}
	if _, err := newSealer(c.CookieKeys); err != nil {
		errs = append(errs, fmt.Errorf("link: %w", err))
	}
	return errors.Join(errs...)
}

func (c LinkConfig) withDefaults(users UserStore) (LinkConfig, error) {
	if c.TTL == 0 {
		c.TTL = 10 * time.Minute
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = 10 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Accounts == nil {
		ls, ok := users.(LinkStore)
		if !ok {
			return c, errors.New("link: Config.Users does not implement LinkStore; set Accounts")
		}
		c.Accounts = ls
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c, c.Validate()
}

// linkFlow holds what the link handlers share. Safe for concurrent use.
type linkFlow struct {
	s        *Server
	cfg      LinkConfig
	seal     *sealer
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	cookie   cookieSpec
	log      *slog.Logger
}

// newLinkFlow makes no outbound call: the provider is configured from known endpoints,
// and the key set is fetched on the first verification.
func newLinkFlow(s *Server, cfg LinkConfig) (*linkFlow, error) {
	cfg, err := cfg.withDefaults(s.cfg.Users)
	if err != nil {
		return nil, err
	}
	seal, _ := newSealer(cfg.CookieKeys) // checked by Validate
	ctx := oidc.ClientContext(context.Background(), cfg.HTTPClient)
	provider := (&oidc.ProviderConfig{
		IssuerURL: cfg.Issuer, AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, JWKSURL: cfg.JWKSURL,
	}).NewProvider(ctx)
	pub, _ := url.Parse(cfg.PublicURL)
	return &linkFlow{
		s: s, cfg: cfg, seal: seal, log: s.log.With("flow", "link"),
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			Endpoint:    oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL},
			RedirectURL: cfg.PublicURL + "/link/callback",
			Scopes:      []string{oidc.ScopeOpenID},
		},
		verifier: provider.VerifierContext(ctx, &oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now}),
		cookie:   cookieSpec{name: attemptCookie, path: pub.Path + "/link/", maxAge: cfg.TTL},
	}, nil
}

// linkRoutes registers Flow 2. A LinkConfig that does not validate makes every link route
// answer 503 link_misconfigured (New validates it first, so only a hand-built Server gets
// there).
func (s *Server) linkRoutes(e *gin.Engine) {
	f, err := newLinkFlow(s, *s.cfg.Link)
	if err != nil {
		e.Any("/link/*any", s.handle(func(*gin.Context) error { return errLinkMisconfigured{err} }))
		return
	}
	g := e.Group("/link", f.browserErrors)
	g.POST("/start", s.handle(f.start))
	g.POST("/check", s.handle(f.check))
	g.GET("/callback", s.handle(f.callback))
	g.GET("/script.js", f.script)
	g.GET("/example", f.example)
}
