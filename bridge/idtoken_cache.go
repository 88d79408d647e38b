package bridge

import (
	"context"
	"sync"
	"time"
)

// cachedToken is one user's BONBON_ID_TOKEN and how long it may be served.
type cachedToken struct {
	token     string
	expiresAt time.Time // Bonbon's expiry, told to the page
	// freshUntil is when the bridge stops handing the token out (before expiresAt).
	freshUntil time.Time
	// until is when the entry dies: freshUntil, or earlier the expiry of the newest
	// Keycloak access token that asked for it. A user whose Keycloak session ended
	// cannot present a newer one, so the entry dies with their last token.
	until time.Time
	// stored orders entries that die at the same moment: the older goes first.
	stored uint64
}

// tokenCache holds tokens per user (bounded) and makes concurrent misses for the same
// user share one mint. Safe for concurrent use.
type tokenCache struct {
	max int

	mu      sync.Mutex
	entries map[string]*cachedToken
	flights map[string]*flight
	stores  uint64
}

// flight is one mint in progress; done closes when tok and err are set.
type flight struct {
	done chan struct{}
	tok  cachedToken
	err  error
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, entries: map[string]*cachedToken{}, flights: map[string]*flight{}}
}

// get returns the live entry for key (hit), extending its life to justifiedUntil (the
// expiry of the access token just verified, bounded by freshUntil); otherwise it runs mint
// once for all callers asking for key meanwhile. A caller whose ctx ends stops waiting;
// the mint goes on for the others.
func (c *tokenCache) get(ctx context.Context, key string, now, justifiedUntil time.Time,
	mint func() (cachedToken, error)) (tok cachedToken, hit bool, err error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		if now.Before(e.until) {
			e.until = earliest(later(e.until, justifiedUntil), e.freshUntil)
			tok := *e
			c.mu.Unlock()
			return tok, true, nil
		}
		delete(c.entries, key)
	}
	f, running := c.flights[key]
	if !running {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
		go c.run(key, f, now, mint)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.tok, false, f.err
	case <-ctx.Done():
		return cachedToken{}, false, ctx.Err()
	}
}

// run mints, stores a success and releases the waiters. Failures are not cached: the
// next request tries again.
func (c *tokenCache) run(key string, f *flight, now time.Time,
	mint func() (cachedToken, error)) {
	f.tok, f.err = mint()
	c.mu.Lock()
	delete(c.flights, key)
	if f.err == nil {
		c.store(key, f.tok, now)
	}
	c.mu.Unlock()
	close(f.done)
}

// store adds an entry, first making room: dead entries go, then the one dying soonest.
// Eviction scans the map, O(size), and only when the cache is full.
func (c *tokenCache) store(key string, tok cachedToken, now time.Time) {
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.stores++
	tok.stored = c.stores
	c.entries[key] = &tok
}

// diesBefore orders entries for eviction: the one dying soonest, the older on a tie, so
// eviction does not depend on map order.
func diesBefore(a, b *cachedToken) bool {
	if a.until.Equal(b.until) {
		return a.stored < b.stored
	}
	return a.until.Before(b.until)
}

func (c *tokenCache) evict(now time.Time) {
	soonest := ""
	for k, e := range c.entries {
		if !now.Before(e.until) {
			delete(c.entries, k)
		} else if soonest == "" || diesBefore(e, c.entries[soonest]) {
			soonest = k
		}
	}
	if len(c.entries) >= c.max && soonest != "" {
		delete(c.entries, soonest)
	}
}

// len is the number of entries, dead ones included.
func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
