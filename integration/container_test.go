package integration

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon/sim"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/kctest"
)

// TestBridgeContainerEndToEnd runs the bridge's own image (scripts/bridge-image.sh) on the
// host network against the package's Keycloak, and delivers the sample user's webhook.
func TestBridgeContainerEndToEnd(t *testing.T) {
	image := os.Getenv("BRIDGE_IMAGE")
	if image == "" {
		image = "bonbon-bridge/bridge:dev"
	}
	r := newRealm(t)
	users, err := sim.LoadUsers("../testdata/bonbon/users.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{ClientID: simClientID, APIKey: simAPIKey, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { simSrv.Close(); s.Close() })

	port, err := kcdist.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	bridgeURL := "http://127.0.0.1:" + itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctr, err := kctest.RunHostNetworked(ctx, image, []string{"serve"}, map[string]string{
		"BRIDGE_ADDR": "127.0.0.1:" + itoa(port), "KEYCLOAK_URL": server.URL,
		"KEYCLOAK_REALM": r.Name, "KEYCLOAK_CLIENT_SECRET": r.ClientSecret,
		"BONBON_API_URL": simSrv.URL + "/v1", "BONBON_CLIENT_ID": simClientID,
		"BONBON_API_KEY": simAPIKey,
	}, bridgeURL+"/readyz", time.Minute)
	if errors.Is(err, kctest.ErrDockerUnavailable) && os.Getenv("CI") == "" {
		t.Skipf("no Docker engine outside CI: %v", err)
	}
	if err != nil {
		t.Fatalf("start the bridge container: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bridge container log:\n%s", ctr.Logs())
		}
		if err := ctr.Stop(); err != nil {
			t.Errorf("stop bridge container: %v", err)
		}
	})

	status, err := s.Deliver(ctx, bridgeURL+"/webhooks/bonbon", "12345")
	if err != nil || status != http.StatusOK {
		t.Fatalf("webhook to the bridge container = %d, %v; want 200", status, err)
	}
	u := onlyUser(t, r)
	assertAttrs(t, u, sampleAttributes)
	if links := r.links(t, gocloak.PString(u.ID)); links["bonbon"] != "12345" {
		t.Errorf("links = %v, want bonbon → 12345", links)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
