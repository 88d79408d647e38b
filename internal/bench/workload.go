package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// Case is one kind of webhook in the workload, named after the bridge's answer.
type Case string

// The three cases of the cost goal, in the order a run plays them.
const (
	CaseNew       Case = "created"
	CaseChanged   Case = "updated"
	CaseUnchanged Case = "unchanged"
)

// Cases is the order of a run's phases.
var Cases = []Case{CaseNew, CaseChanged, CaseUnchanged}

// Workload is the seeded set of Bonbon users and the webhooks a run delivers: every user
// once new, once changed, and the rest unchanged. Same seed, same workload.
type Workload struct {
	// Users are the Bonbon payloads as first served; Changed the same users after one
	// change each (their bonbons balance).
	Users, Changed []json.RawMessage
	IDs            []string
	// Order holds, per case, the user indexes in the order they are delivered.
	Order map[Case][]int
}

// NewWorkload makes users users and webhooks webhooks: users new, users changed, and
// webhooks-2*users unchanged (at least zero).
func NewWorkload(seed uint64, users, webhooks int) (*Workload, error) {
	if users <= 0 || webhooks < 2*users {
		return nil, fmt.Errorf("workload: want users > 0 and webhooks >= 2*users, got %d and %d",
			users, webhooks)
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := &Workload{Order: map[Case][]int{}}
	for i := range users {
		u := newUser(r, i)
		w.IDs = append(w.IDs, u["id"].(string))
		first, _ := json.Marshal(u)
		u["bonbons"] = u["bonbons"].(int) + 1 + r.IntN(50)
		changed, _ := json.Marshal(u)
		w.Users, w.Changed = append(w.Users, first), append(w.Changed, changed)
	}
	w.Order[CaseNew] = r.Perm(users)
	w.Order[CaseChanged] = r.Perm(users)
	unchanged := make([]int, webhooks-2*users)
	for i := range unchanged {
		unchanged[i] = i % users
	}
	r.Shuffle(len(unchanged), func(i, j int) {
		unchanged[i], unchanged[j] = unchanged[j], unchanged[i]
	})
	w.Order[CaseUnchanged] = unchanged
	return w, nil
}

var (
	firstNames = []string{"Alyssa", "Ben", "Cy", "Eva", "Lem", "Louis", "Mia", "Noor", "Ola", "Zoe"}
	lastNames  = []string{"P. Hacker", "Bitdiddle", "D. Fect", "Lu Ator", "E. Tweakit", "Reasoner"}
	rewards    = []string{"airpods_v1", "coffee", "cinema", "none"}
	genders    = []string{"Male", "Female", "Other"}
)

// newUser is a complete Bonbon user like the document's sample, with seeded values.
func newUser(r *rand.Rand, i int) map[string]any {
	id := fmt.Sprintf("bench-%06d", i)
	return map[string]any{
		"id":             id,
		"first_name":     firstNames[r.IntN(len(firstNames))],
		"last_name":      lastNames[r.IntN(len(lastNames))],
		"postal":         fmt.Sprintf("%05d", r.IntN(100000)),
		"gender":         genders[r.IntN(len(genders))],
		"email":          id + "@example.com",
		"email_verified": r.IntN(10) > 0,
		"bonbons":        r.IntN(1000),
		"preferences":    map[string]any{"pAds": r.IntN(2) == 0, "newsletter": r.IntN(2) == 0},
		"reward":         rewards[r.IntN(len(rewards))],
	}
}

// Desired is what the bridge would make of a payload: the raw baseline sends the same.
func Desired(m mapping.Config, raw json.RawMessage) (mapping.Desired, error) {
	u, err := bonbon.DecodeUser(raw)
	if err != nil {
		return mapping.Desired{}, err
	}
	return m.Map(u)
}
