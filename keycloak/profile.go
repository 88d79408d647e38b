package keycloak

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
)

// ProfileSpec is what provisioning declares in the realm's user profile: one group and the
// attributes the bridge writes. Keycloak 24+ silently drops attributes a profile does not
// declare. It is declared once: afterwards the profile belongs to the realm's admins, and
// the bridge reads its mapping from there (PlanProfile says what a later run adds).
type ProfileSpec struct {
	Group, GroupDisplayName string
	Attributes              []ProfileAttribute
	// AdminOnly are declared like Attributes but visible and editable by admins only
	// (the pending-link marker).
	AdminOnly []ProfileAttribute
}

// ProfileAttribute is one declared attribute.
type ProfileAttribute struct {
	Name, DisplayName string
	// Field is the Bonbon field the attribute holds, written as its FieldAnnotation; ""
	// for an attribute that holds none (the pending-link marker).
	Field string
}

// maxValueLength matches the bridge's own refusal of longer values, and Keycloak's
// default for attributes without a length validator.
const maxValueLength = 2048

// userProfile declares the group and attributes (ProfileSpec.PlanProfile says what it
// adds and what it leaves alone). The PUT replaces the whole profile, so the profile is
// read, added to, and written back with every field this code does not model kept as it
// was; nothing is written when nothing is added, so a second run leaves the profile byte
// for byte as the first made it. A dry run prints the plan as a diff of the profile.
func (p *provisioner) userProfile(ctx context.Context) error {
	url := p.cfg.URL + "/admin/realms/" + neturl.PathEscape(p.cfg.Realm) + "/users/profile"
	current, err := p.readProfile(ctx, url)
	if err != nil {
		return err
	}
	next, changes, notes, err := p.cfg.Profile.PlanProfile(current)
	if err != nil {
		return err
	}
	for _, n := range notes {
		p.ok("user profile: %s", n)
	}
	if len(changes) == 0 {
		p.ok("user profile declares every Bonbon attribute it should")
		return nil
	}
	for _, c := range changes {
		p.say("user profile: %s", c)
	}
	if p.cfg.DryRun {
		fmt.Fprint(p.cfg.Out, profileDiff(p.cfg.Realm, current, next))
		return nil
	}
	resp, err := p.gc.GetRequestWithBearerAuth(ctx, p.token).
		SetHeader("Content-Type", "application/json").SetBody(next).Put(url)
	return check("write user profile", resp, err)
}

// readProfile reads the realm's user profile. In a dry run for a realm that does not
// exist yet, the plan is made against an empty profile.
func (p *provisioner) readProfile(ctx context.Context, url string) ([]byte, error) {
	resp, err := p.gc.GetRequestWithBearerAuth(ctx, p.token).Get(url)
	err = check("read user profile", resp, err)
	if p.cfg.DryRun && errors.Is(err, ErrNotFound) {
		p.ok("user profile: realm %s does not exist yet; planned against an empty profile",
			p.cfg.Realm)
		return []byte(`{"attributes": [], "groups": []}`), nil
	}
	if err != nil {
		return nil, err
	}
	return resp.Body(), nil
}
