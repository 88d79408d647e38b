package bridge

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// MappingSource gives the flows the mapping they apply. FixedMapping serves a file's
// mapping; ProfileMapping reads the realm's user profile, where admins edit it.
type MappingSource interface {
	// Mapping returns the mapping to apply now, and whether it was read so recently that
	// reading it again could tell nothing new (always true for a fixed mapping). It reads
	// the mapping (within ctx) when it has none yet.
	Mapping(ctx context.Context) (m mapping.Config, recent bool, err error)
	// Refresh reads the mapping again, because a write suggested it is out of date, and
	// returns it.
	Refresh(ctx context.Context) (mapping.Config, error)
}

// FixedMapping is a MappingSource that never changes: a mapping file, or unit tests.
type FixedMapping mapping.Config

// Mapping returns the mapping; it is always recent.
func (f FixedMapping) Mapping(context.Context) (mapping.Config, bool, error) {
	return mapping.Config(f), true, nil
}

// Refresh returns the mapping: there is nothing to re-read.
func (f FixedMapping) Refresh(context.Context) (mapping.Config, error) {
	return mapping.Config(f), nil
}

// ProfileReader reads the realm's user-profile configuration as JSON.
// *keycloak.Client implements it.
type ProfileReader interface {
	UserProfile(ctx context.Context) ([]byte, error)
}

// ProfileMappingConfig configures a ProfileMapping. Zero optional fields get the
// defaults named.
type ProfileMappingConfig struct {
	// Reader reads the profile (required).
	Reader ProfileReader
	// Interval is how often Run re-reads the profile (default 30 s).
	Interval time.Duration
	// Recent is how long a read is trusted: Mapping calls a mapping read less than Recent
	// ago recent, and the webhook then writes an attribute an account lacks without
	// checking the profile first (default 1 s). It bounds the reads a burst of such
	// writes causes to about one per Recent.
	Recent time.Duration
	// Logger receives one line when the mapping changes (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// ProfileMapping is the mapping the realm's user profile declares (mapping.FromProfile):
// the attributes annotated with mapping.FieldAnnotation. It is read on first use, every
// Interval by Run, and when a write suggests it changed (Refresh). A failed re-read keeps
// the last mapping. Safe for concurrent use; concurrent reads share one admin call.
type ProfileMapping struct {
	cfg ProfileMappingConfig
	log *slog.Logger

	mu      sync.Mutex
	cur     mapping.Config
	readAt  time.Time
	loaded  bool
	skipped string    // the last skipped attributes logged, to log changes only
	reading *readCall // the read in flight, nil when none
}

// readCall is one read of the profile that several callers wait for.
type readCall struct {
	done chan struct{}
	m    mapping.Config
	err  error
}

// NewProfileMapping returns a ProfileMapping; it reads nothing until first used.
func NewProfileMapping(cfg ProfileMappingConfig) (*ProfileMapping, error) {
	if cfg.Reader == nil {
		return nil, errors.New("bridge: ProfileMappingConfig.Reader is required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Recent <= 0 {
		cfg.Recent = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &ProfileMapping{cfg: cfg, log: cfg.Logger.With("component", "mapping")}, nil
}

// Mapping returns the last mapping read, reading it first when there is none.
func (p *ProfileMapping) Mapping(ctx context.Context) (mapping.Config, bool, error) {
	p.mu.Lock()
	if p.loaded {
		m, recent := p.cur, p.cfg.Now().Sub(p.readAt) < p.cfg.Recent
		p.mu.Unlock()
		return m, recent, nil
	}
	p.mu.Unlock()
	m, err := p.read(ctx)
	return m, true, err
}

// Refresh re-reads the profile, joining a read already in flight. On failure it returns
// the last mapping with the error.
func (p *ProfileMapping) Refresh(ctx context.Context) (mapping.Config, error) {
	return p.read(ctx)
}

// Run re-reads the profile every Interval until ctx ends, starting at once. A failed
// read is logged and the last mapping kept: Keycloak being briefly away must not stop
// the bridge from applying the mapping it knows.
func (p *ProfileMapping) Run(ctx context.Context) {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := p.read(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("re-read of the user profile failed; keeping the last mapping",
				"error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// read reads the profile, or waits for the read in flight. The read itself is not
// cancelled with ctx (the Keycloak client's timeout bounds it), so one caller giving up
// does not fail the others waiting for it.
func (p *ProfileMapping) read(ctx context.Context) (mapping.Config, error) {
	p.mu.Lock()
	call := p.reading
	if call == nil {
		call = &readCall{done: make(chan struct{})}
		p.reading = call
		go p.doRead(context.WithoutCancel(ctx), call)
	}
	p.mu.Unlock()
	select {
	case <-call.done:
		return call.m, call.err
	case <-ctx.Done():
		return mapping.Config{}, ctx.Err()
	}
}

func (p *ProfileMapping) doRead(ctx context.Context, call *readCall) {
	data, err := p.cfg.Reader.UserProfile(ctx)
	var skipped []mapping.Skipped
	if err == nil {
		call.m, skipped, err = mapping.FromProfile(data)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reading = nil
	defer close(call.done)
	if err != nil {
		call.err = err
		if p.loaded {
			call.m = p.cur
		}
		return
	}
	p.report(call.m, skipped)
	p.cur, p.readAt, p.loaded = call.m, p.cfg.Now(), true
}

// report logs the mapping when it is first read or changes, and the attributes left out
// whenever that list changes. Called with p.mu held.
func (p *ProfileMapping) report(m mapping.Config, skipped []mapping.Skipped) {
	if !p.loaded || !m.SameAttributes(p.cur) {
		msg := "mapping read from the realm's user profile"
		if p.loaded {
			msg = "mapping changed in the realm's user profile"
		}
		p.log.Info(msg, "attributes", describe(m))
	}
	var parts []string
	for _, s := range skipped {
		parts = append(parts, s.String())
	}
	if list := strings.Join(parts, "; "); list != p.skipped {
		p.skipped = list
		if list != "" {
			p.log.Warn("user-profile attributes annotated "+mapping.FieldAnnotation+
				" that the bridge cannot write", "skipped", list)
		}
	}
}

// describe lists "attribute=field" pairs: names only, never a user's data.
func describe(m mapping.Config) string {
	parts := make([]string, 0, len(m.Attributes))
	for _, a := range m.Attributes {
		parts = append(parts, a.Name+"="+a.Field)
	}
	return strings.Join(parts, " ")
}
