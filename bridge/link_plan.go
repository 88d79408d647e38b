package bridge

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// Refusals of the link flow that are about the accounts or the login.
var (
	errBonbonEmailUnverified  = errors.New("Bonbon has not verified the user's email")
	errNoAccountToLink        = errors.New("no Keycloak account holds the Bonbon user's email")
	errBonbonLinkedElsewhere  = errors.New("the Bonbon id is already linked to another account")
	errAccountEmailUnverified = errors.New(
		"the Keycloak account holding the email has not verified it")
	errAlreadyLinked   = errors.New("this link attempt was completed already")
	errAttemptOutdated = errors.New("the accounts changed since the link attempt started")
	errCodeRejected    = errors.New("keycloak refused the authorization code")
	errIDTokenRejected = errors.New("the ID token failed verification")
	errLoginNotFresh   = errors.New("the login is older than the link attempt")
	errWrongAccount    = errors.New("the login was to another account than the email's")
)

// linkPlan is what the flow decided from Bonbon's answer and Keycloak's state.
type linkPlan struct {
	bonbonID, userID string
	desired          mapping.Desired
	owned            []string // attributes of the mapping the plan was made with
	alreadyLinked    bool
}

// plan asks Bonbon who the earn token belongs to and finds the account to link. It
// refuses every case the issue lists: an unverified Bonbon email, a Bonbon id linked to
// another account, an account linked to another Bonbon id, an account whose own email is
// unverified.
func (f *linkFlow) plan(ctx context.Context, earnToken string) (linkPlan, error) {
	// Only Bonbon's answer says who the token belongs to.
	user, err := f.s.cfg.Bonbon.EarnUser(ctx, earnToken)
	if err != nil {
		return linkPlan{}, err
	}
	// The realm's current mapping, as the webhook uses it.
	m, _, err := f.s.cfg.Mappings.Mapping(ctx)
	if err != nil {
		return linkPlan{}, withBonbonID(err, user.ID)
	}
	d, err := m.Map(user)
	if err != nil {
		return linkPlan{}, withBonbonID(err, user.ID)
	}
	p := linkPlan{bonbonID: d.BonbonID, desired: d, owned: m.Names()}

	// An address Bonbon has not verified proves nothing about who holds it.
	if d.Email == "" || !d.EmailVerified {
		return p, withBonbonID(errBonbonEmailUnverified, p.bonbonID)
	}

	// The account holding the email, and whether either side is linked already.
	holder, err := f.s.cfg.Users.FindByEmail(ctx, d.Email)
	if errors.Is(err, keycloak.ErrNotFound) {
		return p, withBonbonID(errNoAccountToLink, p.bonbonID)
	}
	if err != nil {
		return p, withBonbonID(err, p.bonbonID)
	}
	p.userID = holder.ID
	if err := f.checkLinks(ctx, &p); err != nil {
		return p, withIDs(err, p.bonbonID, p.userID)
	}
	if p.alreadyLinked {
		return p, nil
	}

	// Keycloak's own broker flow does not trust an unverified address either: whoever
	// registered it may not own it.
	if !holder.EmailVerified {
		return p, withIDs(errAccountEmailUnverified, p.bonbonID, p.userID)
	}
	return p, nil
}

// checkLinks enforces one account per Bonbon id and one Bonbon id per account. It sets
// alreadyLinked when the two are linked to each other.
func (f *linkFlow) checkLinks(ctx context.Context, p *linkPlan) error {
	// Keycloak accepts two users linked to one external id: the bridge must refuse.
	owner, err := f.s.cfg.Users.FindByLink(ctx, p.bonbonID)
	switch {
	case err == nil && owner.ID == p.userID:
		p.alreadyLinked = true
		return nil
	case err == nil:
		return errBonbonLinkedElsewhere
	case !errors.Is(err, keycloak.ErrNotFound):
		return err
	}
	linked, err := f.s.cfg.Users.LinkedID(ctx, p.userID)
	switch {
	case err != nil:
		return err
	case linked == p.bonbonID: // linked between the two reads
		p.alreadyLinked = true
	case linked != "":
		return errLinkedElsewhere
	}
	return nil
}

// sameAs checks, at the callback, that the plan still targets the attempt's accounts.
func (p linkPlan) sameAs(a attempt) error {
	switch {
	case p.bonbonID != a.BonbonID || p.userID != a.UserID:
		return errAttemptOutdated
	case p.alreadyLinked:
		return errAlreadyLinked
	}
	return nil
}

// idClaims are the ID token claims go-oidc's Verify leaves to the caller.
type idClaims struct {
	Nonce    string `json:"nonce"`
	AuthTime int64  `json:"auth_time"`
	AZP      string `json:"azp"`
	Typ      string `json:"typ"`
}

// login exchanges the code (with the PKCE verifier) and verifies the ID token: signature,
// issuer, audience and expiry by go-oidc; nonce, azp, typ, auth_time and sub here.
func (f *linkFlow) login(ctx context.Context, code string, a attempt) error {
	ctx = oidc.ClientContext(ctx, f.cfg.HTTPClient)
	tok, err := f.oauth.Exchange(ctx, code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return fmt.Errorf("%w: %s: %s", errCodeRejected, safeCode(re.ErrorCode),
				safeText(re.ErrorDescription))
		}
		return fmt.Errorf("exchange code: %w: %w", keycloak.ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fmt.Errorf("%w: no id_token in the token answer", errIDTokenRejected)
	}
	// TODO: a key set Keycloak failed to serve also ends here, as login_rejected (400)
	// rather than 503; go-oidc does not tell the two apart with a sentinel.
	idt, err := f.verifier.Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("%w: %w", errIDTokenRejected, err)
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return fmt.Errorf("%w: %w", errIDTokenRejected, err)
	}
	return f.checkClaims(idt.Subject, cl, a)
}

// checkClaims is the part of ID token verification go-oidc leaves to its caller.
func (f *linkFlow) checkClaims(sub string, cl idClaims, a attempt) error {
	switch {
	case subtle.ConstantTimeCompare([]byte(cl.Nonce), []byte(a.Nonce)) != 1:
		return fmt.Errorf("%w: nonce mismatch", errIDTokenRejected)
	case cl.AZP != "" && cl.AZP != f.cfg.ClientID:
		return fmt.Errorf("%w: azp %q", errIDTokenRejected, cl.AZP)
	case cl.Typ != "" && cl.Typ != "ID":
		return fmt.Errorf("%w: typ %q", errIDTokenRejected, cl.Typ)
	case cl.AuthTime == 0:
		return fmt.Errorf("%w: no auth_time", errLoginNotFresh)
	case time.Unix(cl.AuthTime, 0).Before(a.started().Add(-f.cfg.ClockSkew)):
		return fmt.Errorf("%w: auth_time %d, attempt started %d ms", errLoginNotFresh,
			cl.AuthTime, a.Started)
	case sub != a.UserID:
		return fmt.Errorf("%w: logged in as %s", errWrongAccount, sub)
	}
	return nil
}

// complete links the account, then applies Bonbon's profile and clears the marker.
func (f *linkFlow) complete(ctx context.Context, a attempt, p linkPlan) (Outcome, error) {
	err := f.cfg.Accounts.Link(ctx, a.UserID, a.BonbonID)
	if errors.Is(err, keycloak.ErrExists) {
		// A concurrent callback of the same attempt won; it was linked to this id or not.
		linked, lerr := f.s.cfg.Users.LinkedID(ctx, a.UserID)
		if lerr != nil {
			return Outcome{}, lerr
		}
		if linked != a.BonbonID {
			return Outcome{}, errLinkedElsewhere
		}
	} else if err != nil {
		return Outcome{}, fmt.Errorf("link: %w", err)
	}
	// Two accounts can share the id only if two attempts raced with the email moving
	// between accounts; stop there, as the webhook does, for an admin to decide.
	// TODO: the link just made is left in place then; LinkStore has no Unlink yet.
	if _, err := f.s.cfg.Users.FindByLink(ctx, a.BonbonID); err != nil {
		return Outcome{}, fmt.Errorf("check link: %w", err)
	}
	cur, err := f.cfg.Accounts.GetUser(ctx, a.UserID)
	if err != nil {
		return Outcome{}, fmt.Errorf("read linked user: %w", err)
	}
	u := *f.s.upsert
	u.owned = p.owned
	return u.applyLinked(ctx, cur, p.desired)
}

// applyLinked applies d to a user just linked to it and removes the pending-link marker,
// in one write (none when nothing changes).
func (u *upserter) applyLinked(ctx context.Context, cur keycloak.User, d mapping.Desired,
) (Outcome, error) {
	_, marked := cur.Attributes[mapping.PendingLinkAttribute]
	if marked {
		attrs := make(map[string][]string, len(cur.Attributes))
		for k, v := range cur.Attributes {
			if k != mapping.PendingLinkAttribute {
				attrs[k] = v
			}
		}
		cur.Attributes = attrs
	}
	next, changed := d.Apply(toAccount(cur), u.owned)
	if !changed && !marked {
		return Outcome{Status: StatusUnchanged, UserID: cur.ID}, nil
	}
	if err := u.users.Update(ctx, withAccount(cur, next)); err != nil {
		return Outcome{}, fmt.Errorf("apply profile: %w", err)
	}
	return Outcome{Status: StatusUpdated, UserID: cur.ID}, nil
}
