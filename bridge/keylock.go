package bridge

import (
	"context"
	"sync"
)

// keyLock serialises work per key (a Bonbon id) inside one bridge process.
//
// Why: Keycloak does not serialise concurrent PUTs of one user; two of them can leave a
// single-valued attribute with its value twice (keycloak/keycloak#41533), and Bonbon does
// deliver the same user twice in quick succession. Replicas can still race each other; the
// next delivery then repairs the duplicate, because Apply sees ["v","v"] differ from ["v"].
// Safe for concurrent use; the zero value is not usable, use newKeyLock.
type keyLock struct {
	mu   sync.Mutex
	keys map[string]*keyEntry
}

type keyEntry struct {
	slot chan struct{} // holds one token while the key is locked
	refs int           // holders and waiters; the entry is dropped at zero
}

func newKeyLock() *keyLock { return &keyLock{keys: map[string]*keyEntry{}} }

// lock waits until key is free or ctx ends; on success the caller must call unlock once.
func (l *keyLock) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	e := l.keys[key]
	if e == nil {
		e = &keyEntry{slot: make(chan struct{}, 1)}
		l.keys[key] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.slot <- struct{}{}:
		return func() { <-e.slot; l.release(key, e) }, nil
	case <-ctx.Done():
		l.release(key, e)
		return nil, ctx.Err()
	}
}

func (l *keyLock) release(key string, e *keyEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(l.keys, key)
	}
}
