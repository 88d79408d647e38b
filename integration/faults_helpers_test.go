package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// loadUser is one generated Bonbon user of a load test; the test keeps the version it last
// gave the simulator, which is the truth Keycloak must end up equal to.
type loadUser struct {
	ID  string
	Obj map[string]any
	// Versions are every payload given to the simulator, oldest first.
	Versions [][]byte
}

// genUsers makes n users "<prefix>-000"... with every field of the sample user.
func genUsers(prefix string, n int) []*loadUser {
	out := make([]*loadUser, n)
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		out[i] = &loadUser{ID: id, Obj: map[string]any{
			"id": id, "first_name": "First" + strconv.Itoa(i), "last_name": "Last " + id,
			"postal": fmt.Sprintf("%05d", i*7), "gender": []string{"Male", "Female", "Other"}[i%3],
			"email": id + "@load.example", "email_verified": i%4 != 0, "bonbons": i * 10,
			"preferences": map[string]any{"pAds": i%2 == 0, "newsletter": i%3 == 0},
			"reward":      "reward_" + strconv.Itoa(i%5),
		}}
	}
	return out
}

// put gives the simulator u's current version.
func (u *loadUser) put(t *testing.T, st *stack) {
	t.Helper()
	raw, err := json.Marshal(u.Obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Sim.PutUser(raw); err != nil {
		t.Fatal(err)
	}
	u.Versions = append(u.Versions, raw)
}

// change makes version v of u: a new balance, a flipped preference, sometimes a new name.
func (u *loadUser) change(v int) {
	u.Obj["bonbons"] = v*1000 + len(u.ID)
	prefs := u.Obj["preferences"].(map[string]any)
	prefs["newsletter"] = !prefs["newsletter"].(bool)
	if v%2 == 0 {
		u.Obj["last_name"] = fmt.Sprintf("Last %s v%d", u.ID, v)
	}
}

// desired is what the default mapping makes of u's current version.
func (u *loadUser) desired(t *testing.T) mapping.Desired {
	t.Helper()
	raw, _ := json.Marshal(u.Obj)
	return desiredOf(t, raw)
}

// heldSince reports whether Keycloak's user kc equals version v of u or a later one.
func (u *loadUser) heldSince(t *testing.T, kc *gocloak.User, v int) bool {
	t.Helper()
	for _, raw := range u.Versions[v:] {
		if diffUser(kc, desiredOf(t, raw), ownedNames()) == "" {
			return true
		}
	}
	return false
}

func desiredOf(t *testing.T, raw []byte) mapping.Desired {
	t.Helper()
	bu, err := bonbon.DecodeUser(raw)
	if err != nil {
		t.Fatal(err)
	}
	d, err := mapping.Default().Map(bu)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// post sends one webhook for id with a fresh earn token and returns the status, the
// answer's "status" or "error" code and its Retry-After; a transport error is status 0.
func (st *stack) post(ctx context.Context, bridgeURL, id string) (int, string, string) {
	tok, err := st.Sim.IssueEarnToken(id)
	if err != nil {
		return 0, "issue token: " + err.Error(), ""
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, bridgeURL+"/webhooks/bonbon", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error(), ""
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct{ Status, Error, UserID string }
	_ = json.Unmarshal(data, &body)
	return resp.StatusCode, body.Status + body.Error, resp.Header.Get("Retry-After")
}

// tally counts answers by "status code" and keeps samples of unexpected ones.
type tally struct {
	mu         sync.Mutex
	counts     map[string]int
	unexpected []string
}

func newTally() *tally { return &tally{counts: map[string]int{}} }

// record counts one answer and reports whether it is acceptable under faults: 2xx, or
// 503/429 with Retry-After (Bonbon is told to come back).
func (ta *tally) record(status int, code, retryAfter string) bool {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	ta.counts[strconv.Itoa(status)+" "+code]++
	ok := status >= 200 && status < 300 ||
		(status == 503 || status == 429) && retryAfter != ""
	if !ok && len(ta.unexpected) < 10 {
		ta.unexpected = append(ta.unexpected, fmt.Sprintf("%d %s (Retry-After %q)",
			status, code, retryAfter))
	}
	return ok
}

func (ta *tally) String() string {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	keys := make([]string, 0, len(ta.counts))
	for k := range ta.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, ta.counts[k])
	}
	return strings.Join(parts, ", ")
}

// compareRealm checks that r holds exactly the users of us, each linked once to its Bonbon
// id, with every mapped field as the latest version says; extra users are duplicates. It
// returns the number of users that differ and the number of extra or doubly linked ones.
//
// strict false logs the differences instead of failing the test.
func compareRealm(t *testing.T, r *realm, us []*loadUser, extra int, strict bool,
) (mismatches, dups int) {
	t.Helper()
	report := t.Errorf
	if !strict {
		report = t.Logf
	}
	all := r.users(t)
	if len(all) != len(us)+extra {
		dups += len(all) - len(us) - extra
		report("realm holds %d users, want %d", len(all), len(us)+extra)
	}
	owned := mapping.Default().Names()
	for _, u := range us {
		kc := r.usersByLink(t, u.ID)
		if len(kc) != 1 {
			report("%s: %d users linked, want 1", u.ID, len(kc))
			mismatches++
			dups += max(len(kc)-1, 0)
			continue
		}
		if diff := diffUser(kc[0], u.desired(t), owned); diff != "" {
			report("%s differs: %s", u.ID, diff)
			mismatches++
			continue
		}
		if links := linksOf(t, r, gocloak.PString(kc[0].ID)); len(links) != 1 ||
			links["bonbon"] != u.ID {
			report("%s: links %v, want only bonbon → %s", u.ID, links, u.ID)
			mismatches++
		}
	}
	return mismatches, dups
}

// diffUser compares a Keycloak user with what the mapping wants, as Apply would leave a
// fresh account: every field exactly, every owned attribute present or absent as wanted.
func diffUser(u *gocloak.User, d mapping.Desired, owned []string) string {
	var diffs []string
	cmp := func(what, got, want string) {
		if got != want {
			diffs = append(diffs, fmt.Sprintf("%s %q want %q", what, got, want))
		}
	}
	cmp("username", gocloak.PString(u.Username), d.Username)
	cmp("email", gocloak.PString(u.Email), d.Email)
	cmp("firstName", gocloak.PString(u.FirstName), d.FirstName)
	cmp("lastName", gocloak.PString(u.LastName), d.LastName)
	if gocloak.PBool(u.EmailVerified) != d.EmailVerified {
		diffs = append(diffs, fmt.Sprintf("emailVerified %v", gocloak.PBool(u.EmailVerified)))
	}
	attrs := map[string][]string{}
	if u.Attributes != nil {
		attrs = *u.Attributes
	}
	for _, name := range owned {
		want, ok := d.Attributes[name]
		got := attrs[name]
		switch {
		case ok && (len(got) != 1 || got[0] != want):
			diffs = append(diffs, fmt.Sprintf("%s %q want %q", name, got, want))
		case !ok && len(got) > 0 && name != mapping.PendingLinkAttribute:
			diffs = append(diffs, fmt.Sprintf("%s %q want none", name, got))
		}
	}
	return strings.Join(diffs, "; ")
}

// usersByLink returns every user linked to bonbonID (the bridge must keep it at most one).
func (r *realm) usersByLink(t *testing.T, bonbonID string) []*gocloak.User {
	t.Helper()
	us, err := r.Admin.GetUsers(context.Background(), reusedToken(t, r), r.Name,
		gocloak.GetUsersParams{
			IDPAlias: gocloak.StringP("bonbon"), IDPUserID: gocloak.StringP(bonbonID),
			BriefRepresentation: gocloak.BoolP(false), Max: gocloak.IntP(10),
		})
	if err != nil {
		t.Fatalf("find by link %s: %v", bonbonID, err)
	}
	return us
}

// newRealmAt provisions a realm on another Keycloak than the package's (the restart test's).
func newRealmAt(t *testing.T, url string) *realm {
	t.Helper()
	r := &realm{Name: "it-" + randomHex(4), ClientSecret: randomHex(16)}
	pc := provisionConfig(t, r.Name, r.ClientSecret)
	pc.URL = url
	pc.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	if err := keycloak.Provision(context.Background(), pc); err != nil {
		t.Fatalf("provision realm %s at %s: %v", r.Name, url, err)
	}
	r.Admin = gocloak.NewClient(url)
	return r
}

// sum adds the counts whose status passes keep.
func (ta *tally) sum(keep func(status int) bool) int {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	n := 0
	for k, c := range ta.counts {
		status, _ := strconv.Atoi(strings.Fields(k)[0])
		if keep(status) {
			n += c
		}
	}
	return n
}

func (ta *tally) sum2xx() int { return ta.sum(func(s int) bool { return s >= 200 && s < 300 }) }

func (ta *tally) sumRetry() int { return ta.sum(func(s int) bool { return s == 503 || s == 429 }) }

func (ta *tally) sumOther() int {
	return ta.sum(func(s int) bool { return s < 200 || s >= 300 && s != 503 && s != 429 })
}

func ownedNames() []string { return mapping.Default().Names() }

// tokens keeps one master admin token per realm reader for 30 s: reading 200 users back
// with a fresh admin login per call (realm.token) costs a password hash each.
var tokens = struct {
	sync.Mutex
	tok map[*realm]string
	at  map[*realm]time.Time
}{tok: map[*realm]string{}, at: map[*realm]time.Time{}}

func reusedToken(t *testing.T, r *realm) string {
	t.Helper()
	tokens.Lock()
	defer tokens.Unlock()
	if time.Since(tokens.at[r]) > 30*time.Second {
		tokens.tok[r], tokens.at[r] = r.token(t), time.Now()
	}
	return tokens.tok[r]
}

// linksOf is realm.links with a reused token.
func linksOf(t *testing.T, r *realm, userID string) map[string]string {
	t.Helper()
	ls, err := r.Admin.GetUserFederatedIdentities(context.Background(), reusedToken(t, r),
		r.Name, userID)
	if err != nil {
		t.Fatalf("read links: %v", err)
	}
	out := map[string]string{}
	for _, l := range ls {
		out[gocloak.PString(l.IdentityProvider)] = gocloak.PString(l.UserID)
	}
	return out
}
