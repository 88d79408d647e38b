package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// Sizes of the replica race: every user is delivered racePerReplica times to each of the
// two bridges at the same instant, raceBatch users at a time (so no bridge reaches its
// in-flight limit), in two rounds: create, then change.
const (
	raceUsers      = 40
	raceConflicts  = 5 // of which an unlinked account already holds the email
	racePerReplica = 2
	raceBatch      = 10
)

// TestFaultTwoReplicasRace: two bridges on one Keycloak and one Bonbon receive the same
// users' webhooks at the same instant. Still one user and one link per Bonbon id, exactly
// one "created" per new id, and an existing account with the email is only marked, never
// linked, however many replicas race on it.
func TestFaultTwoReplicasRace(t *testing.T) {
	r := newRealm(t)
	a := newStack(t, r, stackOptions{})
	b := newStack(t, r, stackOptions{BonbonURL: a.SimURL + "/v1"}) // the same Bonbon
	users := genUsers("race", raceUsers)
	seeded := map[string]string{} // Bonbon id → the unlinked account holding its email
	for i, u := range users {
		u.put(t, a)
		if i < raceConflicts {
			seeded[u.ID] = r.seedUser(t, gocloak.User{
				Username:      gocloak.StringP(fmt.Sprintf("owner-%d", i)),
				Email:         gocloak.StringP(u.Obj["email"].(string)),
				EmailVerified: gocloak.BoolP(true),
				FirstName:     gocloak.StringP("Owner"), LastName: gocloak.StringP("Existing"),
			})
		}
	}

	ta := newTally()
	created := map[string]int{}
	var mu sync.Mutex
	for round := range 2 {
		if round == 1 {
			for _, u := range users {
				u.change(2)
				u.put(t, a)
			}
		}
		for start := 0; start < raceUsers; start += raceBatch {
			batch := users[start:min(start+raceBatch, raceUsers)]
			var ready, wg sync.WaitGroup
			gate := make(chan struct{})
			for _, u := range batch {
				for _, bridgeURL := range []string{a.BridgeURL, b.BridgeURL} {
					for range racePerReplica {
						ready.Add(1)
						wg.Go(func() {
							ready.Done()
							<-gate // all of the batch at once
							status, code, ra := a.post(context.Background(), bridgeURL, u.ID)
							ta.record(status, code, ra)
							mu.Lock()
							if code == "created" {
								created[u.ID]++
							}
							mu.Unlock()
						})
					}
				}
			}
			ready.Wait()
			close(gate)
			wg.Wait()
		}
	}
	t.Logf("answers: %s", ta)

	// Every id: one account, one link; the conflicting ones: no link, only the marker.
	// Right after the race, replicas may have left a value twice (keycloak/keycloak#41533:
	// Keycloak does not serialise concurrent PUTs of one user); the next delivery, as Bonbon
	// makes periodically, repairs it. Accounts and links must be right at once.
	linked := users[raceConflicts:]
	raceMismatches, dups := compareRealm(t, r, linked, raceConflicts, false)
	settle := newTally()
	for _, u := range linked {
		status, code, ra := a.post(context.Background(), b.BridgeURL, u.ID)
		settle.record(status, code, ra)
	}
	t.Logf("settling answers: %s", settle)
	mismatches, dups2 := compareRealm(t, r, linked, raceConflicts, true)
	dups += dups2
	doubleCreated := 0
	for _, u := range linked {
		if created[u.ID] > 1 {
			doubleCreated++
			t.Errorf("%s: %d answers said created, want at most 1", u.ID, created[u.ID])
		}
	}
	for _, u := range users[:raceConflicts] {
		if n := len(r.usersByLink(t, u.ID)); n != 0 {
			t.Errorf("%s: linked to %d accounts, want none before a step-up login", u.ID, n)
			mismatches++
		}
		holder := seeded[u.ID]
		if links := r.links(t, holder); len(links) != 0 {
			t.Errorf("%s: the existing account got links %v", u.ID, links)
		}
		if v := attrOf(t, r, holder, mapping.PendingLinkAttribute); v != u.ID {
			t.Errorf("%s: pending-link marker %q, want %q", u.ID, v, u.ID)
		}
	}
	total := raceUsers * 2 * racePerReplica * 2
	t.Logf("FIGURES replicas: sent=%d answered_2xx=%d answered_503_429=%d other=%d "+
		"mismatches_right_after_race=%d final_mismatches=%d duplicates=%d created_twice=%d",
		total, ta.sum2xx(), ta.sumRetry(), ta.sumOther(), raceMismatches, mismatches, dups,
		doubleCreated)
	if len(ta.unexpected) > 0 {
		t.Errorf("unexpected answers: %v", ta.unexpected)
	}
}

// attrOf reads one attribute of a user by id ("" when absent).
func attrOf(t *testing.T, r *realm, userID, name string) string {
	t.Helper()
	u, err := r.Admin.GetUserByID(context.Background(), r.token(t), r.Name, userID)
	if err != nil {
		t.Fatalf("read user %s: %v", userID, err)
	}
	if u.Attributes == nil {
		return ""
	}
	if v := (*u.Attributes)[name]; len(v) == 1 {
		return v[0]
	}
	return ""
}
