package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// linkStore is the subject's store as the link flow uses it.
func linkStore(t *testing.T, s Subject) bridge.LinkStore {
	t.Helper()
	ls, ok := s.Store.(bridge.LinkStore)
	if !ok {
		t.Fatalf("%T does not implement bridge.LinkStore", s.Store)
	}
	return ls
}

func getUser(t *testing.T, ctx context.Context, s Subject) {
	want := sample("gu")
	id, err := s.Seed(want)
	if err != nil {
		t.Fatalf("Seed() error = %v", err)
	}
	got, err := linkStore(t, s).GetUser(ctx, id)
	if err != nil {
		t.Fatalf("GetUser() error = %v", err)
	}
	want.ID = id
	assertUser(t, got, want)
	_, err = linkStore(t, s).GetUser(ctx, "00000000-0000-4000-8000-000000000000")
	if !errors.Is(err, keycloak.ErrNotFound) {
		t.Errorf("GetUser(unknown) error = %v, want ErrNotFound", err)
	}
}

func linkSeeded(t *testing.T, ctx context.Context, s Subject) {
	id, err := s.Seed(sample("ln"))
	if err != nil {
		t.Fatalf("Seed() error = %v", err)
	}
	bonbonID := unique("id-")
	if err := linkStore(t, s).Link(ctx, id, bonbonID); err != nil {
		t.Fatalf("Link() error = %v", err)
	}
	got, err := s.Store.FindByLink(ctx, bonbonID)
	if err != nil || got.ID != id {
		t.Fatalf("FindByLink() = %q, %v; want %q", got.ID, err, id)
	}
	if linked, err := s.Store.LinkedID(ctx, id); err != nil || linked != bonbonID {
		t.Errorf("LinkedID() = %q, %v; want %q", linked, err, bonbonID)
	}
}

func linkTwice(t *testing.T, ctx context.Context, s Subject) {
	id, err := s.Seed(sample("l2"))
	if err != nil {
		t.Fatalf("Seed() error = %v", err)
	}
	first := unique("id-")
	if err := linkStore(t, s).Link(ctx, id, first); err != nil {
		t.Fatalf("Link() error = %v", err)
	}
	if err := linkStore(t, s).Link(ctx, id, unique("id-")); !errors.Is(err, keycloak.ErrExists) {
		t.Errorf("second Link() error = %v, want ErrExists", err)
	}
	if linked, err := s.Store.LinkedID(ctx, id); err != nil || linked != first {
		t.Errorf("LinkedID() = %q, %v; want the first link %q", linked, err, first)
	}
}

// linkShared documents why the bridge checks FindByLink before linking: the store itself
// lets two users carry the same Bonbon id.
func linkShared(t *testing.T, ctx context.Context, s Subject) {
	bonbonID := unique("id-")
	for range 2 {
		id, err := s.Seed(sample("ls"))
		if err != nil {
			t.Fatalf("Seed() error = %v", err)
		}
		if err := linkStore(t, s).Link(ctx, id, bonbonID); err != nil {
			t.Fatalf("Link() error = %v", err)
		}
	}
	if _, err := s.Store.FindByLink(ctx, bonbonID); !errors.Is(err, keycloak.ErrAmbiguous) {
		t.Errorf("FindByLink(shared) error = %v, want ErrAmbiguous", err)
	}
}

func linkUnknownUser(t *testing.T, ctx context.Context, s Subject) {
	err := linkStore(t, s).Link(ctx, "00000000-0000-4000-8000-000000000000", unique("id-"))
	if !errors.Is(err, keycloak.ErrNotFound) {
		t.Errorf("Link(unknown user) error = %v, want ErrNotFound", err)
	}
}
