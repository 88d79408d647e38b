package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
)

// The playground is what --hold adds: Flows 2 (step-up link) and 3 (BONBON_ID_TOKEN) and
// the demo publisher page, a public client for that page, and an unlinked account whose
// email nobody at Bonbon has yet, so a visitor can run the whole story in a browser.
const (
	// publisherClient is the realm's public client the demo page logs in through.
	publisherClient = "publisher-web"
	// readerUser and readerEmail are the existing, unlinked account the playground offers.
	readerUser, readerEmail = "reader", "reader@daily-example.test"
)

// reserveAddr picks a free loopback port for the bridge before anything starts: the
// simulator's webhook URL, the realm's redirect URI and the bridge's public URL all name
// it. Another process could take the port in between; the bridge then fails to listen
// and the demo says so.
func reserveAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("reserve the bridge's port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// playgroundEnv turns Flows 2 and 3 and the demo page on for a bridge at public whose
// page loads the simulator's bonbon.js. The cookie key is fresh for every run.
func playgroundEnv(public, simURL string) (map[string]string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("cookie key: %w", err)
	}
	return map[string]string{
		"BRIDGE_LINK_RETURN_URL":    public + "/publisher/",
		"BRIDGE_ALLOWED_ORIGINS":    public,
		"BRIDGE_COOKIE_KEY":         base64.StdEncoding.EncodeToString(key),
		"BRIDGE_IDTOKEN_CLIENTS":    publisherClient,
		"BRIDGE_DEMO_PAGE":          "true",
		"BRIDGE_DEMO_BONBON_SCRIPT": simURL + "/bonbon.js",
	}, nil
}

// setUpPlayground creates the page's public client and the unlinked account, and returns
// the account's password. The realm is new on every run (dev mode keeps it in memory), so
// nothing here needs to be idempotent.
func setUpPlayground(ctx context.Context, o Options, kc *kcdist.Server,
	public string) (string, error) {
	admin := gocloak.NewClient(kc.URL)
	jwt, err := admin.LoginAdmin(ctx, kc.AdminUser, kc.AdminPassword, "master")
	if err != nil {
		return "", fmt.Errorf("playground: admin login: %w", err)
	}
	if _, err := admin.CreateClient(ctx, jwt.AccessToken, o.Realm,
		publicClient(public+"/publisher/")); err != nil {
		return "", fmt.Errorf("playground: create client %s: %w", publisherClient, err)
	}
	id, err := admin.CreateUser(ctx, jwt.AccessToken, o.Realm, gocloak.User{
		Username: gocloak.StringP(readerUser), Email: gocloak.StringP(readerEmail),
		EmailVerified: gocloak.BoolP(true), Enabled: gocloak.BoolP(true),
		FirstName: gocloak.StringP("Riley"), LastName: gocloak.StringP("Reader"),
	})
	if err != nil {
		return "", fmt.Errorf("playground: create user %s: %w", readerUser, err)
	}
	password := "demo-" + randomHex(4)
	err = admin.SetPassword(ctx, jwt.AccessToken, id, o.Realm, password, false)
	if err != nil {
		return "", fmt.Errorf("playground: set password: %w", err)
	}
	return password, nil
}

// publicClient is a single-page app's client: authorization code with PKCE S256 only,
// redirects under page, CORS and logout redirects for the same origin ("+").
func publicClient(page string) gocloak.Client {
	return gocloak.Client{
		ClientID: gocloak.StringP(publisherClient), Name: gocloak.StringP("Demo publisher page"),
		PublicClient: gocloak.BoolP(true), StandardFlowEnabled: gocloak.BoolP(true),
		DirectAccessGrantsEnabled: gocloak.BoolP(false),
		ImplicitFlowEnabled:       gocloak.BoolP(false),
		RedirectURIs:              &[]string{page + "*"},
		WebOrigins:                &[]string{"+"},
		Attributes: &map[string]string{
			"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+",
		},
	}
}

// printPlayground tells where to go and what to do.
func printPlayground(say func(string, ...any), public, simURL, password string) {
	say("\nplayground: the step-up link, the BONBON_ID_TOKEN and the demo publisher page are on")
	say("  publisher page:   %s/publisher/", public)
	say("  Bonbon console:   %s/_sim/console (one-time codes, webhook deliveries, signals)",
		simURL)
	say("  unlinked account: %s / %s (email %s)", readerUser, password, readerEmail)
	say("  1. On the publisher page, sign in to Bonbon with %s;", readerEmail)
	say("     the one-time code is on the Bonbon console.")
	say("  2. Bonbon delivers the webhook: the bridge answers 202 link_required (log below).")
	say("  3. Click \"Log in to link\" and log in as %s on Keycloak's page: the account is",
		readerUser)
	say("     linked and you are back on the publisher page.")
	say("  4. Click \"Sign in\": the page signals loggedIn to Bonbon (see the console).")
}

// hold sets the playground up, says where it is, and waits for ctx to end (Ctrl-C).
func hold(ctx context.Context, o Options, kc *kcdist.Server, public, simURL string,
	say func(string, ...any)) error {
	password, err := setUpPlayground(ctx, o, kc, public)
	if err != nil {
		return err
	}
	printPlayground(say, public, simURL, password)
	say("holding; press Ctrl-C to stop everything")
	<-ctx.Done()
	return nil
}
