package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/metrics"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// App is one running bridge: its listener, HTTP server and clients.
type App struct {
	cfg      Config
	log      *slog.Logger
	listener net.Listener
	server   *http.Server
	Keycloak *keycloak.Client
	// Metrics is the bridge's Prometheus registry and collectors, served at /metrics.
	Metrics *metrics.Metrics
	// mappings follows the realm's user profile; nil with a mapping file.
	mappings *bridge.ProfileMapping
}

// Options are the parts tests and the demo replace; zero values mean production defaults.
type Options struct {
	Logger *slog.Logger
	// HTTPClient carries calls to Keycloak (tests count them through it).
	HTTPClient *http.Client
	// Listener, when set, is served instead of listening on Config.Addr: a caller that
	// must know the address before start (a redirect URI) keeps the port it reserved.
	Listener net.Listener
}

// New builds the App and opens its listener, so Addr is known before Run.
func New(cfg Config, opts Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	m, err := cfg.LoadMapping()
	if err != nil {
		return nil, fmt.Errorf("load mapping: %w", err)
	}
	met := metrics.New()
	kcHTTP := opts.HTTPClient
	if kcHTTP == nil {
		kcHTTP = &http.Client{Timeout: cfg.KeycloakTimeout, Transport: upstreamTransport()}
	}
	kcHTTP = met.InstrumentClient(kcHTTP, metrics.Keycloak)
	kc, err := keycloak.New(keycloak.Config{
		URL: cfg.KeycloakURL, Realm: cfg.Realm, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, IdentityProvider: cfg.IdentityProvider, HTTPClient: kcHTTP,
	})
	if err != nil {
		return nil, fmt.Errorf("keycloak client: %w", err)
	}
	if err := checkKeycloakVersion(kc, cfg.KeycloakTimeout, log); err != nil {
		return nil, err
	}
	mappings, profileMapping, err := mappingSource(cfg, kc, log)
	if err != nil {
		return nil, err
	}
	bb, err := bonbon.NewClient(bonbon.Config{
		BaseURL: cfg.BonbonURL, ClientID: cfg.BonbonClientID, APIKey: cfg.BonbonAPIKey,
		Timeout: cfg.BonbonTimeout,
		HTTPClient: met.InstrumentClient(&http.Client{Transport: upstreamTransport()},
			metrics.Bonbon),
	})
	if err != nil {
		return nil, fmt.Errorf("bonbon client: %w", err)
	}
	link, err := linkConfig(cfg, cfg.lookup)
	if err != nil {
		return nil, err
	}
	idTok, err := idTokenConfig(cfg, cfg.lookup)
	if err != nil {
		return nil, err
	}
	srv, err := bridge.New(bridge.Config{
		Users: kc, Bonbon: bb, Mapping: &m, Ready: kc.Ping, Logger: log,
		WebhookTimeout: cfg.WebhookTimeout, Link: link, IDToken: idTok, Metrics: met,
		MaxInFlight: cfg.MaxInFlight,
		Mappings:    mappings,
	})
	if err != nil {
		return nil, err
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	return &App{
		cfg: cfg, log: log, listener: ln, Keycloak: kc, Metrics: met,
		mappings: profileMapping,
		server: &http.Server{
			Handler:           withMetrics(srv.Handler(), met),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      cfg.WebhookTimeout + 10*time.Second,
			IdleTimeout:       2 * time.Minute,
		},
	}, nil
}

// URL is the bridge's base URL on its listener.
func (a *App) URL() string { return "http://" + a.listener.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully: in-flight requests get
// ShutdownTimeout to finish.
func (a *App) Run(ctx context.Context) error {
	a.log.Info("bridge listening", "addr", a.listener.Addr().String(), "config", a.cfg)
	if a.mappings != nil {
		// Follow the realm's user profile while serving (mapping.go).
		go a.mappings.Run(ctx)
	}
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := a.server.Shutdown(shutdown)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	a.log.Info("bridge stopped")
	return err
}

// Close stops serving at once and releases the listener (also when Run never ran).
func (a *App) Close() error {
	err := a.server.Close()
	if cerr := a.listener.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}

// upstreamTransport is the default transport with a larger idle pool: at the default two
// idle connections per host, a burst of webhooks opens and closes a TCP connection to
// Keycloak per call.
func upstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// withMetrics serves GET /metrics beside the bridge's routes. Scrapes bypass the bridge's
// access log and request metrics, so a 15 s scrape interval adds no noise.
// Not a ServeMux: it would redirect unclean paths that the bridge answers itself.
func withMetrics(h http.Handler, m *metrics.Metrics) http.Handler {
	scrape := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			scrape.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
