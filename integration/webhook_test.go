package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// sampleAttributes is what the default mapping stores for the document's sample user.
var sampleAttributes = map[string]string{
	"bonbon_postal": "90403", "bonbon_gender": "Male", "bonbon_bonbons": "100",
	"bonbon_personalized_ads": "true", "bonbon_newsletter": "true", "bonbon_reward": "airpods_v1",
}

// adminCalls drops token requests, which the cost goal does not count (and which happen
// once per token lifetime, not per webhook).
func adminCalls(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasSuffix(c, "/protocol/openid-connect/token") {
			out = append(out, c)
		}
	}
	return out
}

func countMethod(calls []string, method string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, method+" ") {
			n++
		}
	}
	return n
}

func onlyUser(t *testing.T, r *realm) *gocloak.User {
	t.Helper()
	us := r.users(t)
	if len(us) != 1 {
		t.Fatalf("realm holds %d users, want exactly 1", len(us))
	}
	// Read again by id, as the admin console shows it: the search of 24 and 25 also
	// returns attributes the user profile no longer declares.
	return onlyUserByID(t, r, gocloak.PString(us[0].ID))
}

func assertAttrs(t *testing.T, u *gocloak.User, want map[string]string) {
	t.Helper()
	var got map[string][]string
	if u.Attributes != nil {
		got = *u.Attributes
	}
	for name, v := range want {
		if vals := got[name]; len(vals) != 1 || vals[0] != v {
			t.Errorf("attribute %s = %v, want [%s]", name, vals, v)
		}
	}
}

func TestWebhookCreatesLinkedUserThenIsUnchanged(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})

	// First delivery: created, with its link, in three admin calls.
	a := st.deliver(t, "12345")
	if a.Status != http.StatusOK || a.Body["status"] != "created" {
		t.Fatalf("first webhook = %d %v, want 200 created", a.Status, a.Body)
	}
	created := adminCalls(st.Calls.take())
	t.Logf("admin calls for created: %d %v", len(created), created)
	if len(created) != 3 {
		t.Errorf("created cost %d admin calls, want 3: %v", len(created), created)
	}

	// Read back with GETs: one user, every mapped attribute, verified email, the link.
	u := onlyUser(t, r)
	if gocloak.PString(u.ID) != a.Body["user_id"] {
		t.Errorf("user_id %v is not the user's id %s", a.Body["user_id"], gocloak.PString(u.ID))
	}
	if got := gocloak.PString(u.Username); got != "bonbon-12345" {
		t.Errorf("username = %q", got)
	}
	if gocloak.PString(u.Email) != "alyssa.p.hacker@bonbon.tech" || !gocloak.PBool(u.EmailVerified) {
		t.Errorf("email = %q verified %v", gocloak.PString(u.Email), gocloak.PBool(u.EmailVerified))
	}
	if gocloak.PString(u.FirstName) != "Alyssa" || gocloak.PString(u.LastName) != "P. Hacker" {
		t.Errorf("names = %q %q", gocloak.PString(u.FirstName), gocloak.PString(u.LastName))
	}
	assertAttrs(t, u, sampleAttributes)
	if links := r.links(t, gocloak.PString(u.ID)); links["bonbon"] != "12345" || len(links) != 1 {
		t.Errorf("links = %v, want bonbon → 12345", links)
	}

	// Second identical delivery: unchanged, one admin call, no PUT.
	st.Calls.take()
	a = st.deliver(t, "12345")
	if a.Status != http.StatusOK || a.Body["status"] != "unchanged" {
		t.Fatalf("second webhook = %d %v, want 200 unchanged", a.Status, a.Body)
	}
	again := st.Calls.take()
	t.Logf("calls for unchanged: %v", again)
	if len(again) != foundUserReads(t) || countMethod(again, "PUT") != 0 {
		t.Errorf("unchanged cost %v, want exactly one GET and no token request", again)
	}
}

func TestWebhookUpdateKeepsWhatTheBridgeDoesNotOwn(t *testing.T) {
	r := newRealm(t)
	declareAttribute(t, r, "loyalty_tier")
	st := newStack(t, r, stackOptions{})
	if a := st.deliver(t, "12345"); a.Body["status"] != "created" {
		t.Fatalf("first webhook = %v", a.Body)
	}

	// An admin sets an attribute of their own by hand.
	u := onlyUser(t, r)
	(*u.Attributes)["loyalty_tier"] = []string{"gold"}
	if err := r.Admin.UpdateUser(t.Context(), r.token(t), r.Name, *u); err != nil {
		t.Fatalf("admin update: %v", err)
	}

	// Bonbon changes newsletter, bonbons and the last name.
	changeSampleUser(t, st, func(m map[string]any) {
		m["preferences"].(map[string]any)["newsletter"] = false
		m["bonbons"] = 250
		m["last_name"] = "Hacker-Bitdiddle"
	})
	st.Calls.take()
	a := st.deliver(t, "12345")
	if a.Status != http.StatusOK || a.Body["status"] != "updated" {
		t.Fatalf("webhook after change = %d %v, want 200 updated", a.Status, a.Body)
	}
	calls := adminCalls(st.Calls.take())
	t.Logf("admin calls for updated: %v", calls)
	if len(calls) != foundUserReads(t)+1 || countMethod(calls, "PUT") != 1 {
		t.Errorf("updated cost %v, want one GET and one PUT", calls)
	}

	u = onlyUser(t, r)
	want := maps(sampleAttributes, map[string]string{
		"bonbon_newsletter": "false", "bonbon_bonbons": "250", "loyalty_tier": "gold",
	})
	assertAttrs(t, u, want)
	if gocloak.PString(u.Email) != "alyssa.p.hacker@bonbon.tech" || !gocloak.PBool(u.EmailVerified) ||
		gocloak.PString(u.FirstName) != "Alyssa" || gocloak.PString(u.LastName) != "Hacker-Bitdiddle" {
		t.Errorf("after update: email %q verified %v names %q %q", gocloak.PString(u.Email),
			gocloak.PBool(u.EmailVerified), gocloak.PString(u.FirstName), gocloak.PString(u.LastName))
	}
}

func TestWebhookConflictOnlyMarksTheExistingAccount(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	id := r.seedUser(t, gocloak.User{
		Username: gocloak.StringP("alyssa"), Email: gocloak.StringP("alyssa.p.hacker@bonbon.tech"),
		FirstName: gocloak.StringP("Alyssa"), LastName: gocloak.StringP("Hacker"),
		EmailVerified: gocloak.BoolP(false),
	})
	// Bonbon's copy differs only in case and spaces.
	changeSampleUser(t, st, func(m map[string]any) { m["email"] = "  Alyssa.P.Hacker@BONBON.tech " })

	a := st.deliver(t, "12345")
	if a.Status != http.StatusAccepted || a.Body["status"] != "link_required" || a.Body["user_id"] != id {
		t.Fatalf("webhook = %d %v, want 202 link_required for %s", a.Status, a.Body, id)
	}
	u := onlyUser(t, r)
	if gocloak.PString(u.LastName) != "Hacker" || gocloak.PBool(u.EmailVerified) ||
		gocloak.PString(u.Username) != "alyssa" {
		t.Errorf("existing account changed: %+v", u)
	}
	var attrs map[string][]string
	if u.Attributes != nil {
		attrs = *u.Attributes
	}
	if len(attrs) != 1 || !slices.Equal(attrs[mapping.PendingLinkAttribute], []string{"12345"}) {
		t.Errorf("attributes = %v, want only the pending-link marker", attrs)
	}
	if links := r.links(t, id); len(links) != 0 {
		t.Errorf("links = %v, want none", links)
	}
	// Bonbon calls again: still nothing but the marker, and no write.
	st.Calls.take()
	if a := st.deliver(t, "12345"); a.Status != http.StatusAccepted {
		t.Fatalf("second webhook = %d %v", a.Status, a.Body)
	}
	if puts := countMethod(st.Calls.take(), "PUT"); puts != 0 {
		t.Errorf("second conflict made %d PUTs, want 0", puts)
	}
}

func TestWebhookEmailLinkedToAnotherBonbonUser(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	if a := st.deliver(t, "12345"); a.Body["status"] != "created" {
		t.Fatalf("first webhook = %v", a.Body)
	}
	twin := map[string]any{"id": "67890", "email": "alyssa.p.hacker@bonbon.tech", "first_name": "Eve"}
	raw, _ := json.Marshal(twin)
	if err := st.Sim.PutUser(raw); err != nil {
		t.Fatal(err)
	}
	a := st.deliver(t, "67890")
	if a.Status != http.StatusConflict || a.Body["error"] != "email_linked_elsewhere" {
		t.Fatalf("webhook = %d %v, want 409 email_linked_elsewhere", a.Status, a.Body)
	}
	u := onlyUser(t, r)
	if gocloak.PString(u.FirstName) != "Alyssa" {
		t.Errorf("first name = %q, the account must not change", gocloak.PString(u.FirstName))
	}
}

func TestWebhookConcurrentDeliveriesMakeOneUser(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	const n = 20
	var wg sync.WaitGroup
	answers := make([]answer, n)
	tokens := make([]string, n)
	for i := range n {
		tok, err := st.Sim.IssueEarnToken("12345")
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tok
	}
	for i := range n {
		wg.Go(func() { answers[i] = st.webhook(t, "Bearer "+tokens[i]) })
	}
	wg.Wait()
	statuses := map[string]int{}
	for _, a := range answers {
		if a.Status != http.StatusOK {
			t.Errorf("a concurrent webhook answered %d %v", a.Status, a.Body)
		}
		statuses[fmt.Sprint(a.Body["status"])]++
	}
	t.Logf("statuses of %d concurrent webhooks: %v", n, statuses)
	if statuses["created"] != 1 {
		t.Errorf("%d answers say created, want exactly 1", statuses["created"])
	}
	u := onlyUser(t, r)
	if links := r.links(t, gocloak.PString(u.ID)); len(links) != 1 || links["bonbon"] != "12345" {
		t.Errorf("links = %v", links)
	}
}

func TestWebhookErrors(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	good, _ := st.Sim.IssueEarnToken("12345")
	forged := good[:strings.LastIndex(good, ".")+1] + "c2lnbmF0dXJlLWZyb20tc29tZW9uZS1lbHNl"
	cases := []struct {
		name, auth, code string
		status           int
		bonbonCalled     bool
	}{
		{"no bearer", "", "missing_bearer", 401, false},
		{"basic auth", "Basic YTpi", "missing_bearer", 401, false},
		{"two parts", "Bearer abc.def", "malformed_bearer", 401, false},
		{"not base64url", "Bearer a+b.c/d.e=f", "malformed_bearer", 401, false},
		{"Bonbon rejects the token", "Bearer " + forged, "earn_token_rejected", 401, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := st.Sim.Hits("/v1/earn/user")
			a := st.webhook(t, c.auth)
			if a.Status != c.status || a.Body["error"] != c.code || a.Body["message"] == "" {
				t.Errorf("answer = %d %v, want %d %s with a message", a.Status, a.Body, c.status, c.code)
			}
			if called := st.Sim.Hits("/v1/earn/user") > before; called != c.bonbonCalled {
				t.Errorf("Bonbon called = %v, want %v", called, c.bonbonCalled)
			}
		})
	}
	if n := len(r.users(t)); n != 0 {
		t.Errorf("bad webhooks left %d users", n)
	}
}

func TestWebhookDependenciesDown(t *testing.T) {
	r := newRealm(t)
	closed := closedPort(t)

	t.Run("Bonbon down is 502", func(t *testing.T) {
		st := newStack(t, r, stackOptions{BonbonURL: closed + "/v1"})
		a := st.webhook(t, "Bearer aaa.bbb.ccc")
		if a.Status != http.StatusBadGateway || a.Body["error"] != "bonbon_unavailable" {
			t.Errorf("answer = %d %v, want 502 bonbon_unavailable", a.Status, a.Body)
		}
	})
	t.Run("Keycloak down is 503 with Retry-After", func(t *testing.T) {
		st := newStack(t, r, stackOptions{KeycloakURL: closed})
		a := st.deliver(t, "12345")
		if a.Status != http.StatusServiceUnavailable || a.Body["error"] != "keycloak_unavailable" ||
			a.Header.Get("Retry-After") == "" {
			t.Errorf("answer = %d %v Retry-After %q, want 503 keycloak_unavailable with Retry-After",
				a.Status, a.Body, a.Header.Get("Retry-After"))
		}
	})
	if n := len(r.users(t)); n != 0 {
		t.Errorf("failed webhooks left %d users", n)
	}
}

// closedPort is a loopback URL nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

func maps(base, over map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
