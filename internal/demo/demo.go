// Package demo runs the main job end to end on this machine: a real Keycloak from the
// distribution, the Bonbon simulator, the bridge, and the document's sample user.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon/sim"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/app"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// Options says where the pieces are. Zero values get the defaults noted.
type Options struct {
	// KeycloakHome is the unpacked distribution (required; scripts/keycloak-dist.sh).
	KeycloakHome string
	// UsersFile holds Bonbon's users (default testdata/bonbon/users.json).
	UsersFile string
	// BonbonID is the user whose webhook is delivered (default the document's "12345").
	BonbonID string
	// Realm is created and provisioned (default "demo").
	Realm string
	// Hold keeps everything running after the demo until ctx ends, to look around.
	Hold bool
	Out  io.Writer
}

// stack is what the demo started, stopped in reverse order.
type stack struct {
	stops []func()
}

func (s *stack) add(f func()) { s.stops = append(s.stops, f) }

func (s *stack) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

// Run performs the demo and stops everything it started before returning, also when ctx
// is cancelled (Ctrl-C).
func Run(ctx context.Context, o Options) error {
	o.defaults()
	var st stack
	defer st.stop()
	say := func(format string, args ...any) { fmt.Fprintf(o.Out, format+"\n", args...) }

	// Keycloak, from the distribution, in dev mode with an in-memory database.
	kc, err := startKeycloak(ctx, o, say)
	if err != nil {
		return err
	}
	st.add(func() { say("stopping Keycloak"); _ = kc.Stop() })

	// The bridge's address comes first: the simulator delivers its webhooks there.
	addr, err := reserveAddr()
	if err != nil {
		return err
	}
	public := "http://" + addr

	// The Bonbon simulator, standing in for Bonbon's API on loopback.
	bonbonKey := randomHex(16)
	simSrv, simURL, err := startSim(o, bonbonKey, public+"/webhooks/bonbon")
	if err != nil {
		return err
	}
	st.add(func() { _ = simSrv.Close() })
	say("Bonbon simulator at %s (users from %s)", simURL, o.UsersFile)

	// Provision the realm as a publisher would: `bonbon-bridge provision --create-realm`.
	secret := randomHex(16)
	say("\nprovisioning realm %q:", o.Realm)
	if err := provision(ctx, o, kc, secret, public); err != nil {
		return err
	}

	// The bridge, as `bonbon-bridge serve` runs it.
	bridge, err := startBridge(ctx, o, addr, kc.URL, simURL, bonbonKey, secret, &st)
	if err != nil {
		return err
	}
	say("\nbridge at %s", bridge.URL())

	// Bonbon's servers deliver the webhook for the sample user, twice.
	if err := deliverTwice(ctx, o, simSrv.sim, bridge.URL(), say); err != nil {
		return err
	}

	// What Keycloak now holds, read back through the admin API.
	if err := printUser(ctx, o, bridge.Keycloak, say); err != nil {
		return err
	}
	say("\nadmin console: %s/admin/master/console/#/%s/users (admin / admin)", kc.URL, o.Realm)
	if o.Hold {
		return hold(ctx, o, kc, public, simURL, say)
	}
	return nil
}

func (o *Options) defaults() {
	if o.UsersFile == "" {
		o.UsersFile = "testdata/bonbon/users.json"
	}
	if o.BonbonID == "" {
		o.BonbonID = "12345"
	}
	if o.Realm == "" {
		o.Realm = "demo"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

func startKeycloak(ctx context.Context, o Options, say func(string, ...any)) (*kcdist.Server, error) {
	java := kcdist.JavaHome()
	if java == "" {
		java = "the java on PATH"
	}
	say("starting Keycloak from %s (JDK: %s); this takes a while…", o.KeycloakHome, java)
	kc, err := kcdist.Start(ctx, kcdist.Options{
		Home: o.KeycloakHome,
		Progress: func(d time.Duration) {
			say("  … Keycloak still starting (%s)", d.Round(time.Second))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start Keycloak: %w", err)
	}
	say("Keycloak ready at %s after %s (log: %s)", kc.URL,
		kc.StartupElapsed.Round(100*time.Millisecond), kc.LogFile)
	return kc, nil
}

// simServer is the simulator and its HTTP server.
type simServer struct {
	sim  *sim.Server
	http *http.Server
}

func (s *simServer) Close() error {
	s.sim.Close()
	return s.http.Close()
}

// startSim starts the simulator; it delivers OTP logins and console changes to webhookURL.
func startSim(o Options, apiKey, webhookURL string) (*simServer, string, error) {
	users, err := sim.LoadUsers(o.UsersFile)
	if err != nil {
		return nil, "", err
	}
	s, err := sim.New(sim.Config{ClientID: "demo-publisher", APIKey: apiKey, Users: users,
		WebhookURL: webhookURL})
	if err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &simServer{sim: s, http: hs}, "http://" + ln.Addr().String(), nil
}

func provision(ctx context.Context, o Options, kc *kcdist.Server, secret, public string) error {
	env := map[string]string{
		"KEYCLOAK_URL": kc.URL, "KEYCLOAK_REALM": o.Realm,
		"KEYCLOAK_ADMIN_USER": kc.AdminUser, "KEYCLOAK_ADMIN_PASSWORD": kc.AdminPassword,
		"KEYCLOAK_CLIENT_SECRET": secret, "BRIDGE_PUBLIC_URL": public,
	}
	pc, err := app.ProvisionFromEnv(lookupIn(env), prefixed(o.Out, "  "))
	if err != nil {
		return err
	}
	pc.CreateRealm = true
	return keycloak.Provision(ctx, pc)
}

// startBridge runs the bridge on addr; with Hold, the playground's flows are on too.
func startBridge(ctx context.Context, o Options, addr, kcURL, simURL, bonbonKey, secret string,
	st *stack) (*app.App, error) {
	env := map[string]string{
		"BRIDGE_ADDR": addr, "BRIDGE_PUBLIC_URL": "http://" + addr,
		"KEYCLOAK_URL": kcURL, "KEYCLOAK_REALM": o.Realm,
		"KEYCLOAK_CLIENT_SECRET": secret, "BONBON_API_URL": simURL + "/v1",
		"BONBON_CLIENT_ID": "demo-publisher", "BONBON_API_KEY": bonbonKey,
	}
	if o.Hold {
		extra, err := playgroundEnv("http://"+addr, simURL)
		if err != nil {
			return nil, err
		}
		maps.Copy(env, extra)
	}
	cfg, err := app.FromEnv(lookupIn(env))
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(prefixed(o.Out, "  bridge | "), nil))
	a, err := app.New(cfg, app.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { _ = a.Run(runCtx); close(done) }()
	st.add(func() { cancel(); <-done })
	return a, nil
}

func deliverTwice(ctx context.Context, o Options, s *sim.Server, bridgeURL string,
	say func(string, ...any)) error {
	for i, what := range []string{"first", "second (nothing changed at Bonbon)"} {
		say("\nBonbon delivers the webhook for user %s, %s:", o.BonbonID, what)
		status, err := s.Deliver(ctx, bridgeURL+"/webhooks/bonbon", o.BonbonID)
		if err != nil {
			return fmt.Errorf("deliver webhook %d: %w", i+1, err)
		}
		say("  the bridge answered HTTP %d", status)
		if status >= 300 {
			return fmt.Errorf("the bridge answered %d to the webhook", status)
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed"))
	}
	return hex.EncodeToString(b)
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}
