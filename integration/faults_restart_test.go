package integration

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/kctest"
)

// restartLoad sizes the restart test: 500 webhooks over 200 users in three rounds (every
// user created, every user changed, half of them changed again), paced so Keycloak stops
// while the load runs and comes back before it ends.
const (
	restartUsers     = 200
	restartRate      = 15  // webhooks per second
	restartStopAt    = 100 // Keycloak is stopped once this many webhooks were sent
	restartWorkers   = 8
	restartMaxPasses = 10 // re-delivery passes for what failed
)

// dedicatedKeycloak starts a Keycloak of the test's own from the local distribution, with
// its database in a file under a temporary directory, so it can be stopped and started
// again on the same ports and keep the realm. The package's shared Keycloak is left alone.
type dedicatedKeycloak struct {
	opts kcdist.Options
	mu   sync.Mutex
	srv  *kcdist.Server
}

func startDedicated(t *testing.T) *dedicatedKeycloak {
	t.Helper()
	home := os.Getenv("KEYCLOAK_HOME")
	if home == "" {
		home = filepath.Join(kctest.RepoRoot(), ".cache", "keycloak-"+kctest.WantedVersion())
	}
	httpPort, err1 := kcdist.FreePort()
	mgmtPort, err2 := kcdist.FreePort()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	dir := t.TempDir()
	k := &dedicatedKeycloak{opts: kcdist.Options{
		Home: home, HTTPPort: httpPort, ManagementPort: mgmtPort, DataDir: dir,
		AdminUser: server.AdminUser, AdminPassword: server.AdminPassword,
		LogFile: filepath.Join(dir, "keycloak.log"), StartupTimeout: 4 * time.Minute,
	}}
	k.start(t)
	t.Cleanup(func() { k.stop() })
	return k
}

func (k *dedicatedKeycloak) start(t *testing.T) time.Duration {
	began := time.Now()
	srv, err := kcdist.Start(context.Background(), k.opts)
	if err != nil {
		t.Errorf("start dedicated Keycloak: %v", err)
		return 0
	}
	k.mu.Lock()
	k.srv = srv
	k.mu.Unlock()
	return time.Since(began)
}

func (k *dedicatedKeycloak) stop() {
	k.mu.Lock()
	srv := k.srv
	k.srv = nil
	k.mu.Unlock()
	if srv != nil {
		_ = srv.Stop()
	}
}

func (k *dedicatedKeycloak) url() string {
	return "http://127.0.0.1:" + strconv.Itoa(k.opts.HTTPPort)
}

// TestFaultKeycloakRestartMidLoad: Keycloak stops and starts again while 500 webhooks
// arrive. Every answer is 2xx or 503/429 with Retry-After; what was answered 2xx is in
// Keycloak even across the restart; once what failed is delivered again, Keycloak's users
// equal the simulator's exactly, with no duplicate.
func TestFaultKeycloakRestartMidLoad(t *testing.T) {
	kc := startDedicated(t)
	r := newRealmAt(t, kc.url())
	st := newStack(t, r, stackOptions{KeycloakURL: kc.url(),
		Env: map[string]string{"KEYCLOAK_TIMEOUT": "3s", "BRIDGE_WEBHOOK_TIMEOUT": "10s"}})
	users := genUsers("load", restartUsers)
	for _, u := range users {
		u.put(t, st)
	}

	// The plan: round 1 creates all, round 2 changes all, round 3 changes half again.
	// A user is changed only between rounds, so no two deliveries of one user overlap.
	// Keycloak stops during round 1 and starts again while the load goes on; round 3 waits
	// until it is back (however long a JVM start takes on a busy machine), so the load
	// has webhooks before, during and after the outage.
	rounds := [][]*loadUser{users, users, users[:restartUsers/2]}
	ta := newTally()
	last := map[string]bool{} // the latest answer per user was 2xx
	acked := map[string]int{} // the newest version per user answered 2xx
	var lastMu sync.Mutex
	var sent atomic.Int64
	restarted := make(chan time.Duration, 1)
	pace := time.NewTicker(time.Second / restartRate)
	defer pace.Stop()

	var downtime time.Duration
	for v, round := range rounds {
		if v == len(rounds)-1 {
			downtime = <-restarted
		}
		if v > 0 {
			for _, u := range round {
				u.change(v)
				u.put(t, st)
			}
		}
		work := make(chan *loadUser)
		var wg sync.WaitGroup
		for range restartWorkers {
			wg.Go(func() {
				for u := range work {
					version := len(u.Versions) - 1 // changes happen only between rounds
					status, code, ra := st.post(context.Background(), st.BridgeURL, u.ID)
					ta.record(status, code, ra)
					lastMu.Lock()
					last[u.ID] = status >= 200 && status < 300
					if last[u.ID] {
						acked[u.ID] = version
					}
					lastMu.Unlock()
				}
			})
		}
		for _, u := range round {
			<-pace.C
			if sent.Add(1) == restartStopAt {
				go func() {
					kc.stop()
					restarted <- kc.start(t)
				}()
			}
			work <- u
		}
		close(work)
		wg.Wait()
	}
	t.Logf("load done: %d webhooks sent; Keycloak was restarted (start took %s); answers: %s",
		sent.Load(), downtime.Round(100*time.Millisecond), ta)

	// What was answered 2xx is in Keycloak, restart or not: the version acknowledged or a
	// later one (a failed later delivery may still have reached Keycloak).
	lost := 0
	for _, u := range users {
		v, ok := acked[u.ID]
		if !ok {
			continue
		}
		kcu := r.usersByLink(t, u.ID)
		if len(kcu) != 1 || !u.heldSince(t, kcu[0], v) {
			lost++
			t.Errorf("%s: version %d was answered 2xx but Keycloak does not hold it", u.ID, v)
		}
	}

	// Bonbon calls again for what failed, until every user's latest delivery succeeded.
	again := newTally()
	retried := st.redeliver(t, users, last, again)
	t.Logf("re-delivery answers: %s", again)
	mismatches, dups := compareRealm(t, r, users, 0, true)
	t.Logf("FIGURES restart: sent=%d answered_2xx=%d answered_503_429=%d other=%d "+
		"acked_users_checked=%d acked_lost=%d retried=%d retried_2xx=%d final_mismatches=%d "+
		"duplicates=%d", sent.Load(), ta.sum2xx(), ta.sumRetry(), ta.sumOther(), len(acked), lost,
		retried, again.sum2xx(), mismatches, dups)
	for _, x := range []*tally{ta, again} {
		if len(x.unexpected) > 0 {
			t.Errorf("answers other than 2xx or 503/429 with Retry-After: %v", x.unexpected)
		}
	}
}

// redeliver sends again, pass after pass, the users whose latest delivery failed, as
// Bonbon would after Retry-After; it returns how many webhooks that took.
func (st *stack) redeliver(t *testing.T, users []*loadUser, ok map[string]bool, ta *tally) int {
	t.Helper()
	retried := 0
	for pass := range restartMaxPasses {
		var todo []*loadUser
		for _, u := range users {
			if !ok[u.ID] {
				todo = append(todo, u)
			}
		}
		if len(todo) == 0 {
			return retried
		}
		if pass > 0 {
			time.Sleep(time.Second)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		work := make(chan *loadUser)
		for range 4 {
			wg.Go(func() {
				for u := range work {
					status, code, ra := st.post(context.Background(), st.BridgeURL, u.ID)
					ta.record(status, code, ra)
					mu.Lock()
					ok[u.ID] = status >= 200 && status < 300
					retried++
					mu.Unlock()
				}
			})
		}
		for _, u := range todo {
			work <- u
		}
		close(work)
		wg.Wait()
	}
	t.Errorf("users still failing after %d re-delivery passes", restartMaxPasses)
	return retried
}
