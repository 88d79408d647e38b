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
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// App is one running bridge: its listener, HTTP server and clients.
type App struct {
	cfg      Config
	log      *slog.Logger
	listener net.Listener
	server   *http.Server
	Keycloak *keycloak.Client
}

// Options are the parts tests and the demo replace; zero values mean production defaults.
type Options struct {
	Logger *slog.Logger
	// HTTPClient carries calls to Keycloak (tests count them through it).
	HTTPClient *http.Client
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
	kcHTTP := opts.HTTPClient
	if kcHTTP == nil {
		kcHTTP = &http.Client{Timeout: cfg.KeycloakTimeout}
	}
	kc, err := keycloak.New(keycloak.Config{
		URL: cfg.KeycloakURL, Realm: cfg.Realm, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, IdentityProvider: cfg.IdentityProvider, HTTPClient: kcHTTP,
	})
	if err != nil {
		return nil, fmt.Errorf("keycloak client: %w", err)
	}
	bb, err := bonbon.NewClient(bonbon.Config{
		BaseURL: cfg.BonbonURL, ClientID: cfg.BonbonClientID, APIKey: cfg.BonbonAPIKey,
		Timeout: cfg.BonbonTimeout,
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
		WebhookTimeout: cfg.WebhookTimeout, Link: link, IDToken: idTok,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return &App{
		cfg: cfg, log: log, listener: ln, Keycloak: kc,
		server: &http.Server{
			Handler:           srv.Handler(),
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
