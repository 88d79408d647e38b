package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"
)

// revokeAdminTokens makes every token the realm issued so far invalid, as a restarted
// Keycloak with new keys or an admin rotating keys would: it deletes the realm's RSA keys,
// and Keycloak signs new tokens with a fresh key.
func revokeAdminTokens(t *testing.T, r *realm) {
	t.Helper()
	ctx := context.Background()
	comps, err := r.Admin.GetComponents(ctx, r.token(t), r.Name)
	if err != nil {
		t.Fatalf("list key providers: %v", err)
	}
	n := 0
	for _, c := range comps {
		if gocloak.PString(c.ProviderType) == "org.keycloak.keys.KeyProvider" &&
			strings.HasPrefix(gocloak.PString(c.ProviderID), "rsa") {
			err := r.Admin.DeleteComponent(ctx, r.token(t), r.Name, gocloak.PString(c.ID))
			if err != nil {
				t.Fatalf("delete key %s: %v", gocloak.PString(c.Name), err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no RSA key provider to delete")
	}
}

// tokenRequests counts calls to the token endpoint among calls.
func tokenRequests(calls []string) int {
	return len(calls) - len(adminCalls(calls))
}

// TestFaultAdminTokenRefusedOnce: Keycloak refuses the bridge's cached admin token (keys
// rotated). The bridge fetches one new token and retries the call once, and the webhook
// succeeds. When the new token is refused too (the client secret changed), it answers 503
// at once: one refused call and one token request per webhook, never a loop.
func TestFaultAdminTokenRefusedOnce(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	if a := st.deliver(t, "12345"); a.Status != http.StatusOK {
		t.Fatalf("first webhook = %d %v", a.Status, a.Body)
	}

	// The cached token is refused once: one renewal, one retry, success.
	revokeAdminTokens(t, r)
	st.Calls.take()
	a := st.deliver(t, "12345")
	calls := st.Calls.take()
	t.Logf("calls after the token was refused: %v", calls)
	if a.Status != http.StatusOK || a.Body["status"] != "unchanged" {
		t.Errorf("webhook after revocation = %d %v, want 200 unchanged", a.Status, a.Body)
	}
	if len(adminCalls(calls)) != 1+foundUserReads(t) || tokenRequests(calls) != 1 {
		t.Errorf("calls %v: want the refused call, one token request and one retry", calls)
	}

	// Refused again with a secret that no longer works: 503, and no loop.
	ctx := context.Background()
	clients, err := r.Admin.GetClients(ctx, r.token(t), r.Name,
		gocloak.GetClientsParams{ClientID: gocloak.StringP("bonbon-bridge")})
	if err != nil || len(clients) != 1 {
		t.Fatalf("find the bridge's client: %v (%d)", err, len(clients))
	}
	if _, err := r.Admin.RegenerateClientSecret(ctx, r.token(t), r.Name,
		gocloak.PString(clients[0].ID)); err != nil {
		t.Fatalf("regenerate secret: %v", err)
	}
	revokeAdminTokens(t, r)
	for i := range 3 {
		st.Calls.take()
		a := st.deliver(t, "12345")
		calls := st.Calls.take()
		t.Logf("webhook %d with a dead secret: %d %v, calls %v", i, a.Status, a.Body, calls)
		if a.Status != http.StatusServiceUnavailable || a.Header.Get("Retry-After") == "" ||
			a.Body["error"] != "keycloak_unauthorized" {
			t.Errorf("answer %d %v, want 503 keycloak_unauthorized with Retry-After",
				a.Status, a.Body)
		}
		if len(calls) > 2 || tokenRequests(calls) != 1 {
			t.Errorf("calls %v: want at most one refused admin call and one token request", calls)
		}
	}
}
