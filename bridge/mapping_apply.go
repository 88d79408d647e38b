package bridge

import (
	"context"
	"errors"
	"sync"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// errMappingStale: a write would add an attribute the account lacks while the mapping
// was not read recently. The write is not made; the mapping is read again first.
var errMappingStale = errors.New("the mapping may be out of date")

// upsertMapped maps user with the mapping the bridge applies now and upserts the result.
//
// The mapping lives in the realm's user profile, where admins rename and remove
// attributes. Keycloak then stops returning the old name and silently drops it on write
// (2xx), so a stale mapping would make a webhook store nothing. The write shows it,
// though: it would add an attribute the account lacks. When it would and the mapping was
// not read recently, or when Keycloak refuses the write as invalid (an attribute made
// read-only for admins answers 400), the mapping is read again and, if that was the
// reason, the user is mapped and upserted once more. Map's errors are returned as they
// are; upsert's carry the Bonbon id.
func (s *Server) upsertMapped(ctx context.Context, user bonbon.User) (mapping.Desired,
	Outcome, error) {
	m, recent, err := s.cfg.Mappings.Mapping(ctx)
	if err != nil {
		return mapping.Desired{}, Outcome{}, withBonbonID(err, user.ID)
	}
	d, out, err := s.upsertWith(ctx, m, user, !recent)
	stale := errors.Is(err, errMappingStale)
	if !stale && !errors.Is(err, keycloak.ErrInvalid) {
		return d, out, err
	}

	// Read the mapping again; a refusal it does not explain stands.
	fresh, rerr := s.cfg.Mappings.Refresh(ctx)
	if rerr != nil {
		if stale {
			err = rerr
		}
		return d, out, withBonbonID(err, user.ID)
	}
	if !stale && fresh.SameAttributes(m) {
		return d, out, err
	}
	s.log.Info("mapping re-read after a write suggested it changed", "flow", "webhook",
		"bonbon_id", user.ID, "changed", !fresh.SameAttributes(m))
	return s.upsertWith(ctx, fresh, user, false)
}

// upsertWith maps and upserts with m. guard refuses, with errMappingStale, an update that
// would add an attribute of m the account does not have.
func (s *Server) upsertWith(ctx context.Context, m mapping.Config, user bonbon.User,
	guard bool) (mapping.Desired, Outcome, error) {
	d, err := m.Map(user)
	if err != nil {
		return mapping.Desired{}, Outcome{}, err
	}
	u := *s.upsert
	u.owned = m.Names()
	if guard {
		u.users = newStaleGuard(s.upsert.users, u.owned)
	}
	out, err := u.upsert(ctx, d)
	if err != nil {
		return d, Outcome{}, withBonbonID(err, user.ID)
	}
	return d, out, nil
}

// staleGuard wraps the store for one upsert. It remembers which attributes each account
// it returned had, and refuses an update that would add an owned attribute missing from
// that account. Creates pass: a new account lacks everything, and checking the mapping
// before each would cost an admin call per new user.
type staleGuard struct {
	UserStore
	owned map[string]bool

	mu  sync.Mutex
	had map[string]map[string]bool // user id -> attribute names read
}

func newStaleGuard(store UserStore, owned []string) *staleGuard {
	g := &staleGuard{UserStore: store, owned: map[string]bool{},
		had: map[string]map[string]bool{}}
	for _, name := range owned {
		g.owned[name] = true
	}
	return g
}

// FindByLink remembers the attributes of the account it returns.
func (g *staleGuard) FindByLink(ctx context.Context, bonbonID string) (keycloak.User, error) {
	u, err := g.UserStore.FindByLink(ctx, bonbonID)
	g.remember(u, err)
	return u, err
}

// FindByEmail remembers the attributes of the account it returns.
func (g *staleGuard) FindByEmail(ctx context.Context, email string) (keycloak.User, error) {
	u, err := g.UserStore.FindByEmail(ctx, email)
	g.remember(u, err)
	return u, err
}

func (g *staleGuard) remember(u keycloak.User, err error) {
	if err != nil {
		return
	}
	names := map[string]bool{}
	for name, vals := range u.Attributes {
		names[name] = len(vals) > 0
	}
	g.mu.Lock()
	g.had[u.ID] = names
	g.mu.Unlock()
}

// Update writes u unless it adds an owned attribute the account did not have.
func (g *staleGuard) Update(ctx context.Context, u keycloak.User) error {
	g.mu.Lock()
	had := g.had[u.ID]
	g.mu.Unlock()
	for name, vals := range u.Attributes {
		if g.owned[name] && len(vals) > 0 && !had[name] {
			return errMappingStale
		}
	}
	return g.UserStore.Update(ctx, u)
}
