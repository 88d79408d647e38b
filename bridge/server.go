// Package bridge is the bridge's HTTP face (Gin): routes, middleware and the flows that
// connect Bonbon's webhook and pages to Keycloak.
package bridge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// Config wires the bridge to its dependencies. Zero optional fields get the defaults named.
type Config struct {
	// Users and Bonbon are required.
	Users  UserStore
	Bonbon BonbonAPI
	// Mapping turns Bonbon users into Keycloak users (default mapping.Default()).
	Mapping *mapping.Config
	// Mappings, when set, supersedes Mapping in the webhook: the mapping is taken from it
	// at each request, e.g. a ProfileMapping that follows the realm's user profile
	// (default FixedMapping(*Mapping)).
	Mappings MappingSource
	// Ready reports whether Keycloak answers with a working token (for /readyz).
	Ready func(context.Context) error
	// Logger receives JSON-friendly structured logs (default slog.Default()).
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies (default 64 KiB).
	MaxBodyBytes int64
	// WebhookTimeout bounds one webhook's work, Bonbon and Keycloak calls included
	// (default 20 s); past it the answer is 503 so Bonbon calls again.
	WebhookTimeout time.Duration
	// RetryAfter is the Retry-After sent with 503 answers (default 5 s).
	RetryAfter time.Duration
	// MaxInFlight bounds the webhooks processed at once (default DefaultMaxInFlight);
	// more are answered 503 overloaded with Retry-After (limit.go).
	MaxInFlight int
	// Link enables Flow 2, the step-up link (bridge/link.go); nil leaves it off.
	Link *LinkConfig
	// IDToken enables Flow 3, the BONBON_ID_TOKEN exchange (bridge/idtoken.go); nil
	// leaves it off.
	IDToken *IDTokenConfig
	// Metrics receives request, webhook and cache counts (default NopMetrics: none).
	Metrics Metrics
}

func (c *Config) defaults() error {
	var errs []error
	if c.Users == nil {
		errs = append(errs, errors.New("bridge: Config.Users is required"))
	}
	if c.Bonbon == nil {
		errs = append(errs, errors.New("bridge: Config.Bonbon is required"))
	}
	if c.Mapping == nil {
		m := mapping.Default()
		c.Mapping = &m
	}
	if c.Mappings == nil {
		c.Mappings = FixedMapping(*c.Mapping)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NopMetrics{}
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.WebhookTimeout == 0 {
		c.WebhookTimeout = 20 * time.Second
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = 5 * time.Second
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.MaxInFlight < 0 {
		errs = append(errs, errors.New("bridge: Config.MaxInFlight is negative"))
	}
	if c.Link != nil {
		if _, err := c.Link.withDefaults(c.Users); err != nil {
			errs = append(errs, err)
		}
	}
	if c.IDToken != nil {
		if err := c.IDToken.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Server holds the bridge's routes. Safe for concurrent use.
type Server struct {
	cfg    Config
	engine *gin.Engine
	upsert *upserter
	// ids serialises the webhooks of one Bonbon id in this process (keylock.go).
	ids *keyLock
	log *slog.Logger
}

// New builds the Server; it makes no outbound call.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		cfg:    cfg,
		engine: gin.New(),
		upsert: &upserter{users: cfg.Users, owned: cfg.Mapping.Names()},
		ids:    newKeyLock(),
		log:    cfg.Logger,
	}
	s.routes()
	return s, nil
}

// Handler is the bridge's http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() {
	e := s.engine
	e.HandleMethodNotAllowed = true
	e.Use(s.observe(), s.recoverer(), s.accessLog(), s.limitBody())
	e.NoRoute(s.handle(func(*gin.Context) error { return errNoRoute }))
	e.NoMethod(s.handle(func(*gin.Context) error { return errNoMethod }))

	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.handle(s.readyz))
	e.POST("/webhooks/bonbon", s.limitInFlight(make(chan struct{}, s.cfg.MaxInFlight)),
		s.handle(s.webhook))
	if s.cfg.Link != nil {
		s.linkRoutes(e)
	}
	if s.cfg.IDToken != nil {
		s.idTokenRoutes(e)
	}
}

// handle adapts a handler that returns an error; errors become answers in one place.
func (s *Server) handle(h func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.writeError(c, err)
		}
	}
}

func (s *Server) readyz(c *gin.Context) error {
	if s.cfg.Ready == nil {
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Ready(ctx); err != nil {
		return errNotReady{err}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
	return nil
}
