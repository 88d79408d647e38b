package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// Outcome statuses of an upsert, as the webhook answers them.
const (
	StatusCreated      = "created"
	StatusUpdated      = "updated"
	StatusUnchanged    = "unchanged"
	StatusLinkRequired = "link_required"
)

// errLinkedElsewhere: the email's account is linked to a different Bonbon id.
var errLinkedElsewhere = errors.New("the email belongs to an account linked to another Bonbon user")

// errUsernameTaken: the username derived from the Bonbon id belongs to an account that is
// not linked to it, so the bridge cannot create the user without a human deciding.
var errUsernameTaken = errors.New("the Bonbon user's username is taken by an unlinked account")

// Outcome is what an upsert did, to whom.
type Outcome struct {
	Status string
	UserID string
}

// upserter applies a desired Bonbon user to Keycloak (DESIGN.md, Flow 1).
type upserter struct {
	users UserStore
	owned []string
}

// createAttempts bounds the create/look-up-again loop when concurrent requests race.
const createAttempts = 3

func (u *upserter) upsert(ctx context.Context, d mapping.Desired) (Outcome, error) {
	for range createAttempts {
		// Linked already: merge and write only when something changed.
		cur, err := u.users.FindByLink(ctx, d.BonbonID)
		if err == nil {
			return u.update(ctx, cur, d)
		}
		if !errors.Is(err, keycloak.ErrNotFound) {
			return Outcome{}, err
		}

		// Someone else holds the email: never merge without the owner's fresh login.
		if d.Email != "" {
			out, done, err := u.emailHolder(ctx, d)
			if done || err != nil {
				return out, err
			}
		}

		// New: create it with its link in one call. A 409 means another request (or
		// replica) won the race, so look again.
		id, err := u.users.Create(ctx, toUser(d.NewAccount()), d.BonbonID)
		if err == nil {
			return Outcome{Status: StatusCreated, UserID: id}, nil
		}
		if !errors.Is(err, keycloak.ErrExists) {
			return Outcome{}, err
		}
	}
	return Outcome{}, errUsernameTaken
}

// emailHolder handles an existing account with the desired email. done is false when no
// account holds it.
func (u *upserter) emailHolder(ctx context.Context, d mapping.Desired) (Outcome, bool, error) {
	holder, err := u.users.FindByEmail(ctx, d.Email)
	if errors.Is(err, keycloak.ErrNotFound) {
		return Outcome{}, false, nil
	}
	if err != nil {
		return Outcome{}, true, err
	}
	linked, err := u.users.LinkedID(ctx, holder.ID)
	switch {
	case err != nil:
		return Outcome{}, true, err
	case linked == d.BonbonID:
		// Linked between our two reads by a concurrent request: a plain update.
		out, err := u.update(ctx, holder, d)
		return out, true, err
	case linked != "":
		return Outcome{}, true, errLinkedElsewhere
	}
	out, err := u.markPending(ctx, holder, d.BonbonID)
	return out, true, err
}

// markPending sets only the pending-link marker on the account; the step-up login clears it.
func (u *upserter) markPending(ctx context.Context, holder keycloak.User, bonbonID string,
) (Outcome, error) {
	out := Outcome{Status: StatusLinkRequired, UserID: holder.ID}
	if vals := holder.Attributes[mapping.PendingLinkAttribute]; len(vals) == 1 && vals[0] == bonbonID {
		return out, nil
	}
	attrs := make(map[string][]string, len(holder.Attributes)+1)
	for k, v := range holder.Attributes {
		attrs[k] = v
	}
	attrs[mapping.PendingLinkAttribute] = []string{bonbonID}
	holder.Attributes = attrs
	if err := u.users.Update(ctx, holder); err != nil {
		return Outcome{}, fmt.Errorf("mark pending link: %w", err)
	}
	return out, nil
}

func (u *upserter) update(ctx context.Context, cur keycloak.User, d mapping.Desired) (Outcome, error) {
	next, changed := d.Apply(toAccount(cur), u.owned)
	if !changed {
		return Outcome{Status: StatusUnchanged, UserID: cur.ID}, nil
	}
	if err := u.users.Update(ctx, withAccount(cur, next)); err != nil {
		return Outcome{}, err
	}
	return Outcome{Status: StatusUpdated, UserID: cur.ID}, nil
}

func toAccount(u keycloak.User) mapping.Account {
	return mapping.Account{
		Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		FirstName: u.FirstName, LastName: u.LastName, Attributes: u.Attributes,
	}
}

func toUser(a mapping.Account) keycloak.User {
	return withAccount(keycloak.User{}, a)
}

// withAccount returns u with the account's fields, keeping u's id and representation.
func withAccount(u keycloak.User, a mapping.Account) keycloak.User {
	u.Username, u.Email, u.EmailVerified = a.Username, a.Email, a.EmailVerified
	u.FirstName, u.LastName = a.FirstName, a.LastName
	u.Attributes = a.Attributes
	if u.Attributes == nil {
		u.Attributes = map[string][]string{}
	}
	return u
}
