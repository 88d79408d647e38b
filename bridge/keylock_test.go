package bridge

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeyLockSerialisesOneKeyOnly(t *testing.T) {
	l := newKeyLock()
	var inA, maxA atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			unlock, err := l.lock(context.Background(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			n := inA.Add(1)
			if n > maxA.Load() {
				maxA.Store(n)
			}
			time.Sleep(time.Millisecond)
			inA.Add(-1)
			unlock()
		})
	}
	// Another key is never blocked by "a".
	unlockB, err := l.lock(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	wg.Wait()
	if maxA.Load() != 1 {
		t.Errorf("%d holders of one key at once, want 1", maxA.Load())
	}
	if len(l.keys) != 0 {
		t.Errorf("%d entries left after every unlock, want 0", len(l.keys))
	}
}

func TestKeyLockGivesUpWithTheContext(t *testing.T) {
	l := newKeyLock()
	unlock, _ := l.lock(context.Background(), "a")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.lock(ctx, "a"); err == nil {
		t.Fatal("locked a held key")
	}
	unlock()
	if len(l.keys) != 0 {
		t.Errorf("waiter that gave up left its entry")
	}
}
