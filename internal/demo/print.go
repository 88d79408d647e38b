package demo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// printUser shows what Keycloak holds for the Bonbon user: the account, its attributes
// and its identity provider link, each read back from the admin API.
func printUser(ctx context.Context, o Options, kc *keycloak.Client, say func(string, ...any)) error {
	u, err := kc.FindByLink(ctx, o.BonbonID)
	if err != nil {
		return fmt.Errorf("read back the user: %w", err)
	}
	linked, err := kc.LinkedID(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("read back the link: %w", err)
	}
	say("\nKeycloak realm %q now holds:", o.Realm)
	say("  user %s (id %s)", u.Username, u.ID)
	say("  email %s, emailVerified %t", u.Email, u.EmailVerified)
	say("  name %s %s", u.FirstName, u.LastName)
	say("  attributes:")
	names := make([]string, 0, len(u.Attributes))
	for name := range u.Attributes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		say("    %-26s %s", name, strings.Join(u.Attributes[name], ", "))
	}
	say("  identity provider link: %s → %s", kc.IdentityProvider(), linked)
	return nil
}

// prefixed writes each line with a prefix, for telling the bridge's lines apart.
func prefixed(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: prefix}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, sc.Text()); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
