package sim

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentUse drives every kind of state change at once, for the race detector.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "12345")
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 15 {
				id := fmt.Sprintf("u%d-%d", w, i)
				_ = f.sim.PutUser(json.RawMessage(`{"id":"` + id + `"}`))
				if code, _ := f.call(t, "GET", "/earn/user", "", creds(tok)...); code != 200 {
					t.Errorf("earn/user: %d", code)
				}
				f.call(t, "POST", "/earn/otp", `{"email":"`+id+`@x.test"}`, clientOnly()...)
				f.call(t, "POST", "/_sim/signals", `{"name":"loggedIn","token":"x"}`)
				f.call(t, "POST", "/_sim/preferences", `{"id":"12345","preferences":{"pAds":true}}`)
				f.sim.FailNext("/jwt", 500, 1)
				_ = f.sim.Hits("/earn/user")
				_ = f.sim.Deliveries()
				f.sim.DeleteUser(id)
			}
		})
	}
	wg.Wait()
	if got := f.sim.Hits("/earn/user"); got != 90 {
		t.Errorf("hits = %d, want 90", got)
	}
}
