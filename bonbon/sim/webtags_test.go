package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"testing"
	"time"
)

type harnessEvent struct {
	Name   string
	Detail struct {
		HashedEmail string `json:"hashed_email"`
		EarnToken   string `json:"earn_token"`
	}
}

// TestWebTagsInNode runs bonbon.js with a fake page in Node (scripts/deps.sh installs it).
func TestWebTagsInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run scripts/deps.sh")
	}
	f := newFixture(t, func(c *Config) { c.Now = time.Now })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	idTok := f.idToken(t)
	cmd := exec.CommandContext(ctx, node, "testdata/webtags_harness.js", f.srv.URL, idTok)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("harness: %v\n%s", err, out)
	}
	var got struct {
		QueueAfterLoad   int
		TokenBefore      *string
		TokenAfter       string
		TokenAfterLogout *string
		Answer           struct{ EarnToken string }
		Events1, Events2 []harnessEvent
		Events3          []harnessEvent
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("harness output %s: %v", out, err)
	}
	sum := sha256.Sum256([]byte("harness.user@example.test"))
	hashed := hex.EncodeToString(sum[:])

	// Page one: initialized, then login events with the token and the hashed email.
	checkEvents(t, "page 1", got.Events1, []string{"bonbon::initialized", "bonbon::auth::login",
		"bonbon::login"}, hashed, got.Answer.EarnToken)
	if got.QueueAfterLoad != 0 || got.TokenBefore != nil || got.TokenAfter != got.Answer.EarnToken {
		t.Errorf("queue %d, token before %v, after %q",
			got.QueueAfterLoad, got.TokenBefore, got.TokenAfter)
	}
	// Page two: the stored session logs in again, then logout.
	checkEvents(t, "page 2", got.Events2, []string{"bonbon::initialized", "bonbon::login",
		"bonbon::logout"}, hashed, got.Answer.EarnToken)
	if got.TokenAfterLogout != nil {
		t.Error("token survives logout")
	}
	// Page three: the fallback hash agrees with SHA-256.
	checkEvents(t, "page 3", got.Events3, []string{"bonbon::initialized", "bonbon::auth::login",
		"bonbon::login"}, hashed, "")

	// The signals: queued before load (three page loads) and pushed after.
	var valid, queued int
	for _, s := range f.sim.Signals() {
		if s.Valid && s.Sub == "kc-1" {
			valid++
		}
		if s.Token == "queued-before-load" && s.ClientID == clientID {
			queued++
		}
	}
	if valid != 1 || queued != 3 {
		t.Errorf("signals: %d valid, %d queued; %+v", valid, queued, f.sim.Signals())
	}
}

func checkEvents(t *testing.T, page string, evs []harnessEvent, names []string,
	hashed, token string,
) {
	t.Helper()
	if len(evs) != len(names) {
		t.Fatalf("%s: events %+v, want %v", page, evs, names)
	}
	for i, e := range evs {
		if e.Name != names[i] {
			t.Errorf("%s: event %d = %s, want %s", page, i, e.Name, names[i])
		}
		if e.Name == "bonbon::login" || e.Name == "bonbon::auth::login" {
			if e.Detail.HashedEmail != hashed || (token != "" && e.Detail.EarnToken != token) ||
				e.Detail.EarnToken == "" {
				t.Errorf("%s: %s detail = %+v", page, e.Name, e.Detail)
			}
		}
	}
}
