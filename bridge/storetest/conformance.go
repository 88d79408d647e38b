package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// Subject is a store under test, empty, with a way to add an unlinked user as an admin
// would. Attribute names used by the suite are the default mapping's (bonbon_postal,
// bonbon_newsletter), which a provisioned realm declares.
type Subject struct {
	Store bridge.UserStore
	Seed  func(keycloak.User) (string, error)
}

var seq atomic.Int64

// unique makes names that do not collide across cases sharing one store.
func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

// Run checks the behaviour the bridge relies on. newSubject may return the same store for
// every case: each case uses fresh names.
func Run(t *testing.T, newSubject func(t *testing.T) Subject) {
	cases := []struct {
		name string
		run  func(t *testing.T, ctx context.Context, s Subject)
	}{
		{"unknown link is ErrNotFound", unknownLink},
		{"created user is found by its link with every field", createAndFind},
		{"username and email are unique, case-insensitively", uniqueness},
		{"email lookup is exact, not a substring match", exactEmail},
		{"seeded user has no link", seededUnlinked},
		{"update replaces modelled fields and keeps the username", update},
		{"update to an email another user holds is ErrExists", updateEmailTaken},
		{"get user reads every field, unknown id is ErrNotFound", getUser},
		{"link makes a seeded user findable by its link", linkSeeded},
		{"a second link on one user is ErrExists and keeps the first", linkTwice},
		{"two users may share a link: FindByLink is ErrAmbiguous", linkShared},
		{"link to an unknown user is ErrNotFound", linkUnknownUser},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, context.Background(), newSubject(t))
		})
	}
}

func sample(prefix string) keycloak.User {
	n := unique(prefix)
	return keycloak.User{
		Username: "bonbon-" + n, Email: n + "@example.com", EmailVerified: true,
		FirstName: "Alyssa", LastName: "P. Hacker",
		Attributes: map[string][]string{"bonbon_postal": {"09040"}, "bonbon_newsletter": {"true"}},
	}
}

func unknownLink(t *testing.T, ctx context.Context, s Subject) {
	_, err := s.Store.FindByLink(ctx, unique("nobody-"))
	if !errors.Is(err, keycloak.ErrNotFound) {
		t.Fatalf("FindByLink(unknown) error = %v, want ErrNotFound", err)
	}
}

func createAndFind(t *testing.T, ctx context.Context, s Subject) {
	want := sample("cf")
	want.Email = "Mixed." + want.Email
	bonbonID := unique("id-")
	id, err := s.Store.Create(ctx, want, bonbonID)
	if err != nil || id == "" {
		t.Fatalf("Create() = %q, %v", id, err)
	}
	got, err := s.Store.FindByLink(ctx, bonbonID)
	if err != nil {
		t.Fatalf("FindByLink() error = %v", err)
	}
	want.ID, want.Email = id, lower(want.Email)
	assertUser(t, got, want)
	linked, err := s.Store.LinkedID(ctx, id)
	if err != nil || linked != bonbonID {
		t.Fatalf("LinkedID() = %q, %v; want %q", linked, err, bonbonID)
	}
}

func uniqueness(t *testing.T, ctx context.Context, s Subject) {
	first := sample("uq")
	if _, err := s.Store.Create(ctx, first, unique("id-")); err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	sameName := sample("uq")
	sameName.Username = upper(first.Username)
	if _, err := s.Store.Create(ctx, sameName, unique("id-")); !errors.Is(err, keycloak.ErrExists) {
		t.Errorf("Create(same username) error = %v, want ErrExists", err)
	}
	sameEmail := sample("uq")
	sameEmail.Email = upper(first.Email)
	if _, err := s.Store.Create(ctx, sameEmail, unique("id-")); !errors.Is(err, keycloak.ErrExists) {
		t.Errorf("Create(same email) error = %v, want ErrExists", err)
	}
}

func exactEmail(t *testing.T, ctx context.Context, s Subject) {
	u := sample("ex")
	id, err := s.Seed(u)
	if err != nil {
		t.Fatalf("Seed() error = %v", err)
	}
	if _, err := s.Store.FindByEmail(ctx, u.Email[1:]); !errors.Is(err, keycloak.ErrNotFound) {
		t.Errorf("FindByEmail(suffix) error = %v, want ErrNotFound", err)
	}
	got, err := s.Store.FindByEmail(ctx, upper(u.Email))
	if err != nil || got.ID != id {
		t.Errorf("FindByEmail(upper-case) = %q, %v; want %q", got.ID, err, id)
	}
}

func seededUnlinked(t *testing.T, ctx context.Context, s Subject) {
	id, err := s.Seed(sample("sd"))
	if err != nil {
		t.Fatalf("Seed() error = %v", err)
	}
	linked, err := s.Store.LinkedID(ctx, id)
	if err != nil || linked != "" {
		t.Fatalf("LinkedID(seeded) = %q, %v; want no link", linked, err)
	}
}

func update(t *testing.T, ctx context.Context, s Subject) {
	bonbonID := unique("id-")
	id, err := s.Store.Create(ctx, sample("up"), bonbonID)
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	cur, err := s.Store.FindByLink(ctx, bonbonID)
	if err != nil {
		t.Fatalf("FindByLink() error = %v", err)
	}
	want := cur
	want.Email, want.LastName = unique("new")+"@example.com", "Hacker-Bitdiddle"
	want.Attributes = map[string][]string{"bonbon_postal": {"00501"}}
	if err := s.Store.Update(ctx, want); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	got, err := s.Store.FindByLink(ctx, bonbonID)
	if err != nil {
		t.Fatalf("FindByLink() after update error = %v", err)
	}
	want.ID = id
	assertUser(t, got, want)
}

func updateEmailTaken(t *testing.T, ctx context.Context, s Subject) {
	other := sample("et")
	if _, err := s.Seed(other); err != nil {
		t.Fatalf("Seed() error = %v", err)
	}
	bonbonID := unique("id-")
	if _, err := s.Store.Create(ctx, sample("et"), bonbonID); err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	cur, err := s.Store.FindByLink(ctx, bonbonID)
	if err != nil {
		t.Fatalf("FindByLink() error = %v", err)
	}
	cur.Email = other.Email
	if err := s.Store.Update(ctx, cur); !errors.Is(err, keycloak.ErrExists) {
		t.Fatalf("Update(taken email) error = %v, want ErrExists", err)
	}
}

func assertUser(t *testing.T, got, want keycloak.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != lower(want.Username) || got.Email != want.Email ||
		got.EmailVerified != want.EmailVerified || got.FirstName != want.FirstName ||
		got.LastName != want.LastName {
		t.Errorf("user = %+v\nwant  %+v", strip(got), strip(want))
	}
	if !maps.EqualFunc(nonNil(got.Attributes), nonNil(want.Attributes), slices.Equal[[]string]) {
		t.Errorf("attributes = %v, want %v", got.Attributes, want.Attributes)
	}
}

// strip drops the representation for readable failure output.
func strip(u keycloak.User) keycloak.User {
	return keycloak.User{ID: u.ID, Username: u.Username, Email: u.Email,
		EmailVerified: u.EmailVerified, FirstName: u.FirstName, LastName: u.LastName}
}

func nonNil(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}
