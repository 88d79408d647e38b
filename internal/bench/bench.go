// Package bench measures the bridge against a real Keycloak on this machine: a seeded
// webhook workload through the bridge (run as its own process), the same workload as the
// fewest raw admin-API calls, and GET /bonbon/id-token. cmd/bonbon-bench runs it and
// writes BENCHMARKS.md.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon/sim"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// Options say what to run. Zero values get the defaults named.
type Options struct {
	// KeycloakHome is the unpacked distribution (scripts/keycloak-dist.sh); required.
	KeycloakHome string
	// BridgeBin is the bonbon-bridge binary run as the bridge; required.
	BridgeBin string
	// Seed makes the workload (default 1).
	Seed uint64
	// Users and Webhooks size the workload (default 500 and 2000: 25% new, 25% changed,
	// 50% unchanged).
	Users, Webhooks int
	// Concurrency levels (default 1, 8, 32) and Repeats of each (default 5).
	Concurrency []int
	Repeats     int
	// IDTokenUsers log in to Keycloak for the ID-token benchmark, which then makes
	// IDTokenRequests cache hits per level (defaults 50 and 2000). IDTokenUsers < 0 skips it.
	IDTokenUsers, IDTokenRequests int
	// WorkDir receives the logs of Keycloak and the bridges (default a temporary folder).
	WorkDir string
	// Progress is told what is happening (default discarded).
	Progress io.Writer
}

func (o *Options) defaults() error {
	if o.KeycloakHome == "" || o.BridgeBin == "" {
		return errors.New("bench: KeycloakHome and BridgeBin are required")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Users, 500)
	def(&o.Webhooks, 2000)
	def(&o.Repeats, 5)
	def(&o.IDTokenUsers, 50)
	def(&o.IDTokenRequests, 2000)
	if o.Seed == 0 {
		o.Seed = 1
	}
	if len(o.Concurrency) == 0 {
		o.Concurrency = []int{1, 8, 32}
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.WorkDir == "" {
		dir, err := os.MkdirTemp("", "bonbon-bench-")
		if err != nil {
			return err
		}
		o.WorkDir = dir
	}
	return nil
}

// bencher holds what every run shares: Keycloak, the simulator, the workload.
type bencher struct {
	opts    Options
	kc      *kcdist.Server
	admin   *keycloakAdmin
	sim     *sim.Server
	simURL  string
	work    *Workload
	tokens  []string // one earn token per user, valid for the whole benchmark
	mapping mapping.Config
}

const simClientID, simAPIKey = "bench-publisher", "bench-api-key-not-secret"

// Run starts Keycloak and the simulator, runs every measurement and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	b := &bencher{opts: o, mapping: mapping.Default()}
	rep := &Report{Options: o, Date: time.Now().UTC(), Machine: describeMachine()}
	b.logf("logs in %s", o.WorkDir)

	kc, err := kcdist.Start(ctx, kcdist.Options{Home: o.KeycloakHome,
		LogFile: filepath.Join(o.WorkDir, "keycloak.log"),
		Progress: func(d time.Duration) {
			b.logf("Keycloak starting… %s", d.Round(time.Second))
		}})
	if err != nil {
		return nil, err
	}
	defer func() { _ = kc.Stop() }()
	b.kc, rep.KeycloakStartup = kc, kc.StartupElapsed
	b.admin = newKeycloakAdmin(kc.URL, kc.AdminUser, kc.AdminPassword)
	b.logf("Keycloak ready at %s after %s", kc.URL, kc.StartupElapsed.Round(time.Second))

	stopSim, err := b.startSim()
	if err != nil {
		return nil, err
	}
	defer stopSim()
	if err := b.prepareWorkload(); err != nil {
		return nil, err
	}
	if err := b.warmUp(ctx); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if err := b.webhookRuns(ctx, rep); err != nil {
		return rep, err
	}
	if o.IDTokenUsers > 0 {
		if err := b.idTokenRuns(ctx, rep); err != nil {
			rep.IDTokenError = err.Error()
			b.logf("ID-token benchmark failed: %v", err)
		}
	}
	return rep, nil
}

func (b *bencher) logf(format string, args ...any) {
	fmt.Fprintf(b.opts.Progress, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
}

// startSim serves the Bonbon simulator on loopback, in this process.
func (b *bencher) startSim() (func(), error) {
	s, err := sim.New(sim.Config{ClientID: simClientID, APIKey: simAPIKey,
		TokenTTL: 6 * time.Hour})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	b.sim, b.simURL = s, "http://"+ln.Addr().String()
	return func() { _ = hs.Close(); s.Close() }, nil
}

// prepareWorkload makes the workload and signs one earn token per user up front: the
// simulator's RSA signatures are not part of what is measured.
func (b *bencher) prepareWorkload() error {
	w, err := NewWorkload(b.opts.Seed, b.opts.Users, b.opts.Webhooks)
	if err != nil {
		return err
	}
	b.work = w
	for _, id := range w.IDs {
		tok, err := b.sim.IssueEarnToken(id)
		if err != nil {
			return err
		}
		b.tokens = append(b.tokens, tok)
	}
	return nil
}

// warmUp runs one small bridge run and one raw run, unrecorded, so Keycloak's JIT and
// caches are warm before the first measurement.
func (b *bencher) warmUp(ctx context.Context) error {
	b.logf("warm-up")
	if _, err := b.bridgeRun(ctx, 8, "warmup-bridge"); err != nil {
		return err
	}
	_, err := b.rawRun(ctx, 8, "warmup-raw")
	return err
}

// webhookRuns measures every level Repeats times, the bridge and the raw baseline back
// to back so both meet the same machine.
func (b *bencher) webhookRuns(ctx context.Context, rep *Report) error {
	for r := 1; r <= b.opts.Repeats; r++ {
		for _, c := range b.opts.Concurrency {
			tag := fmt.Sprintf("r%d-c%d", r, c)
			br, raw, err := b.pair(ctx, c, tag, r%2 == 0)
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, RunResult{Repeat: r, Concurrency: c, Bridge: br, Raw: raw})
			b.logf("%s: bridge %.0f/s, raw %.0f/s, ratio %.2f", tag, br.Total.PerSecond(),
				raw.Total.PerSecond(), br.Total.PerSecond()/raw.Total.PerSecond())
		}
	}
	return nil
}

// pair runs the bridge and the raw baseline at concurrency c; rawFirst alternates the
// order between repeats, so a drift in the machine's load does not favour one side.
func (b *bencher) pair(ctx context.Context, c int, tag string, rawFirst bool,
) (br, raw ModeResult, err error) {
	runBridge := func() error {
		if br, err = b.bridgeRun(ctx, c, tag+"-bridge"); err != nil {
			return fmt.Errorf("bridge run %s: %w", tag, err)
		}
		return nil
	}
	runRaw := func() error {
		if raw, err = b.rawRun(ctx, c, tag+"-raw"); err != nil {
			return fmt.Errorf("raw run %s: %w", tag, err)
		}
		return nil
	}
	first, second := runBridge, runRaw
	if rawFirst {
		first, second = runRaw, runBridge
	}
	if err := first(); err != nil {
		return br, raw, err
	}
	return br, raw, second()
}

func randomHex(n int) string {
	p := make([]byte, n)
	_, _ = rand.Read(p)
	return hex.EncodeToString(p)
}

// upstreamClient is the HTTP client the bridge's app builds for Keycloak (10 s timeout,
// 64 idle connections per host); the raw baseline uses the same.
func upstreamClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}
