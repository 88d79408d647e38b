package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// IDTokenIssuer mints BONBON_ID_TOKENs (Bonbon's POST /v1/jwt). *bonbon.Client has it.
type IDTokenIssuer interface {
	IDToken(ctx context.Context, r bonbon.IDTokenRequest) (bonbon.IDToken, error)
}

// IDTokenConfig configures Flow 3: a user's Keycloak access token is exchanged for a
// BONBON_ID_TOKEN at GET /bonbon/id-token, and GET /bonbon/signal.js hands it to
// bonbontag("signal", "loggedIn", token) on the publisher's page.
//
// Which tokens are accepted: Keycloak access tokens (claim typ "Bearer") signed with an
// asymmetric key from the realm's key set, with iss equal to Issuer, unexpired, whose
// azp (the client the user logged in through) is one of Clients. Keycloak puts "account"
// or nothing useful in aud, so aud alone cannot say which application the token was
// given to; azp can. When Audiences is set, aud must also name one of them: a publisher
// who adds an audience mapper for the bridge gets the stricter check too.
type IDTokenConfig struct {
	// Issuer is the realm's issuer exactly as tokens carry it, i.e. the public URL
	// browsers use: https://login.example.com/realms/shop (required).
	Issuer string
	// KeysURL is where the bridge fetches the realm's signing keys (JWKS). Default:
	// Issuer + "/protocol/openid-connect/certs". Set it to the URL the bridge reaches
	// Keycloak by when that differs from the public one (a compose network, a cluster).
	// Keys are fetched when first needed and again whenever a token names an unknown key,
	// so a realm's key rotation needs no restart.
	KeysURL string
	// Clients are the client ids whose access tokens are accepted (azp); required.
	Clients []string
	// Audiences, when set, must share a value with the token's aud.
	Audiences []string
	// Origins are the publisher pages allowed to call the endpoint from a browser
	// (CORS), e.g. https://www.example.com. A request from any other origin gets 403.
	Origins []string
	// Bonbon mints the tokens; default Config.Bonbon when it implements IDTokenIssuer.
	Bonbon IDTokenIssuer
	// HTTPClient fetches the realm's keys (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheSize bounds the number of users whose token is cached (default 10000).
	CacheSize int
	// RenewBefore: a cached token is replaced this long before Bonbon's expiry (default
	// 5 min, at most half the token's lifetime), so a page never receives one about to lapse.
	RenewBefore time.Duration
	// Timeout bounds the work behind one cache miss: the link lookup and Bonbon's answer
	// (default 10 s).
	Timeout time.Duration
	// Demo, when set, serves the publisher demo page at GET /publisher/.
	Demo *PublisherDemo
}

// Validate reports every problem with the configuration at once; it changes nothing.
func (c *IDTokenConfig) Validate() error {
	var errs []error
	if err := checkURL(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("id token: issuer: %w", err))
	}
	if c.KeysURL != "" {
		if err := checkURL(c.KeysURL); err != nil {
			errs = append(errs, fmt.Errorf("id token: keys url: %w", err))
		}
	}
	if len(c.Clients) == 0 {
		errs = append(errs, errors.New("id token: at least one allowed client (azp) is required"))
	}
	for _, o := range c.Origins {
		if err := checkOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("id token: origin %q: %w", o, err))
		}
	}
	if c.Demo != nil {
		errs = append(errs, c.Demo.validate())
		if c.Demo.ClientID != "" && !slices.Contains(c.Clients, c.Demo.ClientID) {
			errs = append(errs, fmt.Errorf("demo page: client %q is not an allowed client",
				c.Demo.ClientID))
		}
	}
	return errors.Join(errs...)
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// checkOrigin accepts scheme://host[:port] and nothing more, as browsers send it.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.User != nil || strings.HasSuffix(o, "/") {
		return errors.New("want scheme://host[:port] without a path")
	}
	return nil
}

func (c *IDTokenConfig) withDefaults(fallback BonbonAPI) IDTokenConfig {
	d := *c
	d.Issuer = strings.TrimSuffix(d.Issuer, "/")
	if d.KeysURL == "" {
		d.KeysURL = d.Issuer + "/protocol/openid-connect/certs"
	}
	if d.Bonbon == nil {
		d.Bonbon, _ = fallback.(IDTokenIssuer)
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.CacheSize <= 0 {
		d.CacheSize = 10000
	}
	if d.RenewBefore <= 0 {
		d.RenewBefore = 5 * time.Minute
	}
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	return d
}

// idTokenFlow is Flow 3's state: the verifier, the token cache and the CORS policy.
type idTokenFlow struct {
	cfg      IDTokenConfig
	verifier *accessVerifier
	cache    *tokenCache
	cors     corsPolicy
	users    UserStore
	log      *slog.Logger
	metrics  Metrics
}

// idTokenRoutes adds Flow 3's routes: the exchange, its preflight, signal.js and, when
// configured, the demo publisher page.
func (s *Server) idTokenRoutes(e *gin.Engine) {
	cfg := s.cfg.IDToken.withDefaults(s.cfg.Bonbon)
	err := cfg.Validate()
	if err == nil && cfg.Bonbon == nil {
		err = errors.New("id token: no Bonbon client able to mint ID tokens")
	}
	if err != nil {
		// New cannot fail here without changing its contract: the routes answer 503
		// and say why, instead of the bridge starting with Flow 3 silently off.
		s.log.Error("flow 3 misconfigured", "err", err)
		broken := s.handle(func(*gin.Context) error { return errIDTokenMisconfigured{err} })
		e.GET("/bonbon/id-token", broken)
		return
	}
	f := &idTokenFlow{
		cfg: cfg, verifier: newAccessVerifier(cfg), users: s.cfg.Users,
		cache: newTokenCache(cfg.CacheSize), cors: newCORSPolicy(cfg.Origins),
		log: s.log.With("flow", "idtoken"), metrics: s.cfg.Metrics,
	}
	e.GET("/bonbon/id-token", s.handle(f.idToken))
	e.OPTIONS("/bonbon/id-token", s.handle(f.preflight))
	e.GET("/bonbon/signal.js", serveSignalJS)
	if cfg.Demo != nil {
		e.GET("/publisher/*file", s.handle(demoHandler(cfg.Issuer, cfg.Demo,
			s.cfg.Link != nil)))
	}
}

// idTokenAnswer is the JSON of GET /bonbon/id-token.
type idTokenAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"` // RFC 3339, UTC
}

// idToken is GET /bonbon/id-token.
func (f *idTokenFlow) idToken(c *gin.Context) error {
	// Refuse foreign pages before any work.
	if err := f.cors.apply(c); err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")

	// Verify the Keycloak access token.
	raw, err := accessTokenFrom(c.Request)
	if err != nil {
		return err
	}
	at, err := f.verifier.verify(c.Request.Context(), raw)
	if err != nil {
		return err
	}

	// Serve the user's cached token, or mint one (one Bonbon call per user at a time).
	tok, err := f.token(c.Request.Context(), at)
	if err != nil {
		return withKeycloakSub(err, at.Subject)
	}
	c.JSON(http.StatusOK, idTokenAnswer{Token: tok.token,
		ExpiresAt: tok.expiresAt.UTC().Truncate(time.Second)})
	return nil
}

// token returns the cached token for the user, or mints one. The minting runs detached
// from the request that started it, so a page that gives up does not fail the others
// waiting for the same user.
func (f *idTokenFlow) token(ctx context.Context, at accessToken) (cachedToken, error) {
	now := f.cfg.Now()
	tok, hit, err := f.cache.get(ctx, at.cacheKey(), now, at.Expiry, func() (cachedToken, error) {
		mintCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.Timeout)
		defer cancel()
		return f.mint(mintCtx, at)
	})
	f.metrics.IDTokenCacheLookup(hit)
	return tok, err
}

// mint asks Bonbon for a token for the user, with the Bonbon id when the user is linked.
func (f *idTokenFlow) mint(ctx context.Context, at accessToken) (cachedToken, error) {
	linked, err := f.users.LinkedID(ctx, at.Subject)
	if errors.Is(err, keycloak.ErrNotFound) {
		// A token outliving its user (deleted since login) justifies nothing.
		return cachedToken{}, invalidAccessToken("the user no longer exists", err)
	}
	if err != nil {
		return cachedToken{}, fmt.Errorf("read link: %w", err)
	}
	req := at.request(linked)
	tok, err := f.cfg.Bonbon.IDToken(ctx, req)
	if err != nil {
		return cachedToken{}, errBonbonIDToken{err}
	}
	now := f.cfg.Now()
	fresh := now.Add(tok.ExpiresIn - min(f.cfg.RenewBefore, tok.ExpiresIn/2))
	f.log.Info("bonbon id token minted", "req", req, "expires_in", tok.ExpiresIn.String())
	return cachedToken{
		token: tok.Token, expiresAt: now.Add(tok.ExpiresIn),
		freshUntil: fresh, until: earliest(fresh, at.Expiry),
	}, nil
}
