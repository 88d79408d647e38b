// Package storetest holds an in-memory bridge.UserStore for unit tests and the
// conformance suite that both it and the real Keycloak store must pass.
package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// Fake is an in-memory UserStore that behaves as Keycloak does where the bridge depends on
// it: usernames and emails stored lower-cased and unique, exact email lookup, links by
// Bonbon id, updates that replace the modelled fields. Safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	users  map[string]keycloak.User
	links  map[string]string // user id → Bonbon id
	nextID int
	// Calls counts calls per method, for tests that assert the cost of a flow.
	Calls map[string]int
	// Fail, when set, is returned by every call (e.g. keycloak.ErrUnavailable).
	Fail error
}

// NewFake returns an empty store.
func NewFake() *Fake {
	return &Fake{users: map[string]keycloak.User{}, links: map[string]string{}, Calls: map[string]int{}}
}

func (f *Fake) enter(method string) error {
	f.mu.Lock()
	f.Calls[method]++
	return f.Fail
}

// FindByLink implements bridge.UserStore.
func (f *Fake) FindByLink(_ context.Context, bonbonID string) (keycloak.User, error) {
	err := f.enter("FindByLink")
	defer f.mu.Unlock()
	if err != nil {
		return keycloak.User{}, err
	}
	var found []keycloak.User
	for id, linked := range f.links {
		if linked == bonbonID {
			found = append(found, clone(f.users[id]))
		}
	}
	switch len(found) {
	case 0:
		return keycloak.User{}, keycloak.ErrNotFound
	case 1:
		return found[0], nil
	}
	return keycloak.User{}, keycloak.ErrAmbiguous
}

// FindByEmail implements bridge.UserStore.
func (f *Fake) FindByEmail(_ context.Context, email string) (keycloak.User, error) {
	err := f.enter("FindByEmail")
	defer f.mu.Unlock()
	if err != nil {
		return keycloak.User{}, err
	}
	for _, u := range f.users {
		if u.Email != "" && strings.EqualFold(u.Email, email) {
			return clone(u), nil
		}
	}
	return keycloak.User{}, keycloak.ErrNotFound
}

// LinkedID implements bridge.UserStore.
func (f *Fake) LinkedID(_ context.Context, userID string) (string, error) {
	err := f.enter("LinkedID")
	defer f.mu.Unlock()
	if err != nil {
		return "", err
	}
	if _, ok := f.users[userID]; !ok {
		return "", keycloak.ErrNotFound
	}
	return f.links[userID], nil
}

// Create implements bridge.UserStore.
func (f *Fake) Create(_ context.Context, u keycloak.User, bonbonID string) (string, error) {
	err := f.enter("Create")
	defer f.mu.Unlock()
	if err != nil {
		return "", err
	}
	id, err := f.insert(u)
	if err == nil && bonbonID != "" {
		f.links[id] = bonbonID
	}
	return id, err
}

// Seed adds an unlinked user, as an admin would, and returns its id.
func (f *Fake) Seed(u keycloak.User) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.insert(u)
}

func (f *Fake) insert(u keycloak.User) (string, error) {
	u.Username, u.Email = strings.ToLower(u.Username), strings.ToLower(u.Email)
	for _, o := range f.users {
		if o.Username == u.Username || (u.Email != "" && o.Email == u.Email) {
			return "", fmt.Errorf("create user: %w", keycloak.ErrExists)
		}
	}
	f.nextID++
	u.ID = fmt.Sprintf("fake-%04d", f.nextID)
	f.users[u.ID] = clone(u)
	return u.ID, nil
}

// Update implements bridge.UserStore.
func (f *Fake) Update(_ context.Context, u keycloak.User) error {
	err := f.enter("Update")
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	cur, ok := f.users[u.ID]
	if !ok {
		return keycloak.ErrNotFound
	}
	u.Email = strings.ToLower(u.Email)
	for id, o := range f.users {
		if id != u.ID && u.Email != "" && o.Email == u.Email {
			return fmt.Errorf("update user: %w", keycloak.ErrExists)
		}
	}
	u.Username = cur.Username // Keycloak's default realm does not let usernames change
	f.users[u.ID] = clone(u)
	return nil
}

// Users returns a copy of every user, for assertions.
func (f *Fake) Users() []keycloak.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]keycloak.User, 0, len(f.users))
	for _, u := range f.users {
		out = append(out, clone(u))
	}
	return out
}

func clone(u keycloak.User) keycloak.User {
	attrs := make(map[string][]string, len(u.Attributes))
	for k, v := range u.Attributes {
		attrs[k] = append([]string(nil), v...)
	}
	u.Attributes = attrs
	return u
}

// GetUser implements bridge.LinkStore.
func (f *Fake) GetUser(_ context.Context, id string) (keycloak.User, error) {
	err := f.enter("GetUser")
	defer f.mu.Unlock()
	if err != nil {
		return keycloak.User{}, err
	}
	u, ok := f.users[id]
	if !ok {
		return keycloak.User{}, fmt.Errorf("get user: %w", keycloak.ErrNotFound)
	}
	return clone(u), nil
}

// Link implements bridge.LinkStore. Like Keycloak, it refuses a second Bonbon link on one
// user (ErrExists) but not a second user linked to the same Bonbon id.
func (f *Fake) Link(_ context.Context, userID, bonbonID string) error {
	err := f.enter("Link")
	defer f.mu.Unlock()
	if err != nil {
		return err
	}
	if _, ok := f.users[userID]; !ok {
		return fmt.Errorf("link user: %w", keycloak.ErrNotFound)
	}
	if _, linked := f.links[userID]; linked {
		return fmt.Errorf("link user: %w", keycloak.ErrExists)
	}
	f.links[userID] = bonbonID
	return nil
}
