package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon/sim"
)

// Main is the running simulator: built from options, served by Run, released by Close.
type Main struct {
	sim *sim.Server
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// NewMain builds the simulator and binds its listener, so that URL is known before Run.
func NewMain(o options, logger *slog.Logger) (*Main, error) {
	cfg := sim.Config{
		ClientID: o.clientID, APIKey: o.apiKey, TokenTTL: o.tokenTTL, Logger: logger,
		WebhookURL: o.webhookURL, JWKSURL: o.jwksURL, Issuer: o.issuer, Audience: o.audience,
	}
	if o.usersPath != "" {
		users, err := sim.LoadUsers(o.usersPath)
		if err != nil {
			return nil, err
		}
		cfg.Users = users
	}
	s, err := sim.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	logger.Info("listening", "addr", ln.Addr().String())
	return &Main{sim: s, srv: srv, ln: ln, log: logger}, nil
}

// URL is the base URL the simulator listens on.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Run serves until ctx ends, then shuts down, letting requests in flight finish.
func (m *Main) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- m.srv.Serve(m.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	m.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Close stops background deliveries and releases the listener.
func (m *Main) Close() {
	m.sim.Close()
	_ = m.ln.Close() // already closed after a Shutdown; the error says only that
}
