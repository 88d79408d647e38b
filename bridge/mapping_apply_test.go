package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge/storetest"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// realmProfile stands in for a realm's user profile: attribute name -> the Bonbon field it
// is annotated with, and whether admins may edit it. It serves the JSON Keycloak would,
// and profileStore applies it to users as Keycloak does.
type realmProfile struct {
	mu       sync.Mutex
	order    []string
	fields   map[string]string
	readOnly map[string]bool
	reads    atomic.Int32
	fail     error
}

func newRealmProfile(m mapping.Config) *realmProfile {
	p := &realmProfile{fields: map[string]string{}, readOnly: map[string]bool{}}
	for _, a := range m.Attributes {
		p.order = append(p.order, a.Name)
		p.fields[a.Name] = a.Field
	}
	return p
}

// rename changes an attribute's name and keeps its annotation, as the console does.
func (p *realmProfile) rename(from, to string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.order[slices.Index(p.order, from)] = to
	p.fields[to] = p.fields[from]
	delete(p.fields, from)
}

func (p *realmProfile) remove(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.order = slices.DeleteFunc(p.order, func(n string) bool { return n == name })
	delete(p.fields, name)
}

func (p *realmProfile) declared(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.fields[name]
	return ok
}

// UserProfile implements bridge.ProfileReader.
func (p *realmProfile) UserProfile(context.Context) ([]byte, error) {
	p.reads.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return nil, p.fail
	}
	var attrs []map[string]any
	for _, name := range p.order {
		edit := []string{"admin"}
		if p.readOnly[name] {
			edit = nil
		}
		attrs = append(attrs, map[string]any{"name": name, "group": "bonbon",
			"permissions": map[string]any{"edit": edit},
			"annotations": map[string]any{mapping.FieldAnnotation: p.fields[name]}})
	}
	return json.Marshal(map[string]any{"attributes": attrs})
}

// profileStore is the fake store seen through the profile: undeclared attributes are
// neither returned nor written, silently; a change to a read-only one is refused (400).
type profileStore struct {
	*storetest.Fake
	profile *realmProfile
	updates atomic.Int32
}

func (s *profileStore) visible(u keycloak.User) keycloak.User {
	u.Attributes = maps.Clone(u.Attributes)
	maps.DeleteFunc(u.Attributes, func(name string, _ []string) bool {
		return !s.profile.declared(name)
	})
	return u
}

func (s *profileStore) FindByLink(ctx context.Context, id string) (keycloak.User, error) {
	u, err := s.Fake.FindByLink(ctx, id)
	return s.visible(u), err
}

func (s *profileStore) Create(ctx context.Context, u keycloak.User, id string) (string, error) {
	return s.Fake.Create(ctx, s.visible(u), id)
}

func (s *profileStore) Update(ctx context.Context, u keycloak.User) error {
	s.updates.Add(1)
	cur, err := s.Fake.GetUser(ctx, u.ID)
	if err != nil {
		return err
	}
	for name, vals := range u.Attributes {
		if s.profile.readOnly[name] && !slices.Equal(vals, cur.Attributes[name]) {
			return fmt.Errorf("update user: %s read-only: %w", name, keycloak.ErrInvalid)
		}
	}
	return s.Fake.Update(ctx, s.visible(u))
}

// clock is a settable time source.
type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *clock) advance(d time.Duration) { c.now.Add(int64(d)) }
func newClock() *clock                   { c := &clock{}; c.now.Store(1e18); return c }

type liveFixture struct {
	*fixture
	profile *realmProfile
	store   *profileStore
	clock   *clock
}

func newLiveFixture(t *testing.T) *liveFixture {
	t.Helper()
	lf := &liveFixture{profile: newRealmProfile(mapping.Default()), clock: newClock()}
	lf.store = &profileStore{Fake: storetest.NewFake(), profile: lf.profile}
	bb := &fakeBonbon{users: map[string]bonbon.User{sampleToken: sampleUser(t)}}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	pm, err := bridge.NewProfileMapping(bridge.ProfileMappingConfig{
		Reader: lf.profile, Logger: log, Now: lf.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bridge.New(bridge.Config{
		Users: lf.store, Bonbon: bb,
		Mappings: pm, Logger: log, WebhookTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	lf.fixture = &fixture{store: lf.store.Fake, bonbon: bb, logs: logs, h: srv.Handler()}
	return lf
}

func (lf *liveFixture) deliver(t *testing.T, want string) {
	t.Helper()
	rec, body := lf.post(t, "Bearer "+sampleToken, "")
	if rec.Code != http.StatusOK || body["status"] != want {
		t.Fatalf("webhook = %d %v, want 200 %s\nlogs:\n%s", rec.Code, body, want, lf.logs)
	}
}

func (lf *liveFixture) attributes(t *testing.T) map[string][]string {
	t.Helper()
	us := lf.store.Users()
	if len(us) != 1 {
		t.Fatalf("%d users, want 1", len(us))
	}
	return lf.store.visible(us[0]).Attributes
}

func TestWebhookFollowsTheRealmsMapping(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*realmProfile)
		wantStatus string
		want       map[string]string // attribute -> value; "" = must be absent
	}{{
		name:       "renamed attribute: the new name gets the value, the old one is gone",
		edit:       func(p *realmProfile) { p.rename("bonbon_postal", "zip") },
		wantStatus: "updated",
		want:       map[string]string{"zip": "90403", "bonbon_postal": "", "bonbon_gender": "Male"},
	}, {
		name:       "removed attribute: nothing to write",
		edit:       func(p *realmProfile) { p.remove("bonbon_gender") },
		wantStatus: "unchanged",
		want:       map[string]string{"bonbon_postal": "90403", "bonbon_gender": ""},
	}, {
		name:       "nothing edited: no re-read, no write",
		edit:       func(*realmProfile) {},
		wantStatus: "unchanged",
		want:       map[string]string{"bonbon_postal": "90403", "bonbon_gender": "Male"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lf := newLiveFixture(t)
			lf.deliver(t, "created")
			reads := lf.profile.reads.Load()

			// The admin edits the profile; the bridge's mapping is a few seconds old.
			tt.edit(lf.profile)
			lf.clock.advance(5 * time.Second)
			lf.deliver(t, tt.wantStatus)

			got := lf.attributes(t)
			for name, v := range tt.want {
				if vals := got[name]; (v == "" && len(vals) != 0) ||
					(v != "" && !slices.Equal(vals, []string{v})) {
					t.Errorf("attribute %s = %v, want %q", name, vals, v)
				}
			}
			if tt.wantStatus == "unchanged" && lf.store.updates.Load() != 0 {
				t.Errorf("%d updates, want none", lf.store.updates.Load())
			}
			if extra := lf.profile.reads.Load() - reads; tt.edit != nil && extra > 1 {
				t.Errorf("%d re-reads of the profile, want at most 1", extra)
			}
		})
	}
}

func TestWebhookTrustsARecentMapping(t *testing.T) {
	lf := newLiveFixture(t)
	lf.deliver(t, "created")
	reads := lf.profile.reads.Load()

	// Bonbon starts sending a field the account lacked; the mapping was just read, so it
	// is written without reading the profile again.
	u := lf.store.Users()[0]
	delete(u.Attributes, "bonbon_reward")
	if err := lf.store.Fake.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	lf.deliver(t, "updated")
	if lf.profile.reads.Load() != reads {
		t.Errorf("profile read %d more times, want 0", lf.profile.reads.Load()-reads)
	}
	if got := lf.attributes(t)["bonbon_reward"]; !slices.Equal(got, []string{"airpods_v1"}) {
		t.Errorf("bonbon_reward = %v", got)
	}
}

func TestWebhookRereadsTheMappingWhenKeycloakRefusesAWrite(t *testing.T) {
	lf := newLiveFixture(t)
	lf.deliver(t, "created")

	// An admin takes bonbon_gender's edit permission from admins; Bonbon's value changes.
	lf.profile.mu.Lock()
	lf.profile.readOnly["bonbon_gender"] = true
	lf.profile.mu.Unlock()
	u := sampleUser(t)
	u.Fields["gender"] = "Female"
	u.Fields["bonbons"] = "250"
	lf.bonbon.mu.Lock()
	lf.bonbon.users[sampleToken] = u
	lf.bonbon.mu.Unlock()
	lf.clock.advance(500 * time.Millisecond) // recent: only the refusal triggers the re-read

	lf.deliver(t, "updated")
	got := lf.attributes(t)
	if !slices.Equal(got["bonbon_gender"], []string{"Male"}) ||
		!slices.Equal(got["bonbon_bonbons"], []string{"250"}) {
		t.Errorf("after the refusal: gender %v bonbons %v, want Male 250",
			got["bonbon_gender"], got["bonbon_bonbons"])
	}
}

func TestWebhookAnswers503WhenTheMappingCannotBeRead(t *testing.T) {
	lf := newLiveFixture(t)
	lf.profile.fail = fmt.Errorf("read user profile: %w", keycloak.ErrUnavailable)
	rec, body := lf.post(t, "Bearer "+sampleToken, "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("webhook = %d %v, want 503 with Retry-After", rec.Code, body)
	}
	if len(lf.store.Users()) != 0 {
		t.Error("a user was written without a mapping")
	}
}

func TestProfileMapping(t *testing.T) {
	p := newRealmProfile(mapping.Default())
	c := newClock()
	pm, err := bridge.NewProfileMapping(bridge.ProfileMappingConfig{Reader: p, Now: c.Now,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Concurrent first uses share one read.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if m, recent, err := pm.Mapping(ctx); err != nil || !recent ||
				!slices.Equal(m.Names(), mapping.Default().Names()) {
				t.Errorf("Mapping = %v %v %v", m.Attributes, recent, err)
			}
		})
	}
	wg.Wait()
	if n := p.reads.Load(); n != 1 {
		t.Errorf("%d reads for 8 concurrent first uses, want 1", n)
	}

	// Within Recent the mapping is recent, after it not; a refresh reads the profile.
	p.rename("bonbon_postal", "zip")
	if m, recent, _ := pm.Mapping(ctx); !recent || m.Attributes[0].Name != "bonbon_postal" {
		t.Errorf("Mapping = %v, %v; want the mapping read, recent", m.Attributes, recent)
	}
	c.advance(2 * time.Second)
	if _, recent, _ := pm.Mapping(ctx); recent {
		t.Error("a 2 s old mapping is recent")
	}
	if m, err := pm.Refresh(ctx); err != nil || m.Attributes[0].Name != "zip" {
		t.Errorf("refresh = %v, %v", m.Attributes, err)
	}

	// A failed read keeps the last mapping.
	c.advance(2 * time.Second)
	p.fail = errors.New("down")
	if m, err := pm.Refresh(ctx); err == nil || m.Attributes[0].Name != "zip" {
		t.Errorf("failed refresh = %v, %v; want the last mapping and the error", m.Attributes, err)
	}
	if m, _, err := pm.Mapping(ctx); err != nil || m.Attributes[0].Name != "zip" {
		t.Errorf("Mapping after a failed refresh = %v, %v", m.Attributes, err)
	}
}

func TestProfileMappingRunRereadsOnItsInterval(t *testing.T) {
	p := newRealmProfile(mapping.Default())
	pm, err := bridge.NewProfileMapping(bridge.ProfileMappingConfig{Reader: p,
		Interval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { pm.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for p.reads.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n := p.reads.Load(); n < 3 {
		t.Errorf("%d reads in 5 s at a 20 ms interval", n)
	}
}
