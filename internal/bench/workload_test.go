package bench

import (
	"bytes"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

func TestNewWorkload(t *testing.T) {
	a, err := NewWorkload(7, 50, 200)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewWorkload(7, 50, 200)
	c, _ := NewWorkload(8, 50, 200)
	if !bytes.Equal(a.Users[3], b.Users[3]) ||
		a.Order[CaseUnchanged][5] != b.Order[CaseUnchanged][5] {
		t.Error("same seed gave another workload")
	}
	if bytes.Equal(a.Users[3], c.Users[3]) && a.Order[CaseNew][0] == c.Order[CaseNew][0] {
		t.Error("another seed gave the same workload")
	}
	counts := map[Case]int{}
	for k, v := range a.Order {
		counts[k] = len(v)
	}
	if counts[CaseNew] != 50 || counts[CaseChanged] != 50 || counts[CaseUnchanged] != 100 {
		t.Errorf("mix = %v, want 50/50/100", counts)
	}
	m := mapping.Default()
	first, err := Desired(m, a.Users[0])
	if err != nil {
		t.Fatal(err)
	}
	changed, _ := Desired(m, a.Changed[0])
	if _, diff := changed.Apply(first.NewAccount(), m.Names()); !diff {
		t.Error("the changed payload maps to the same account")
	}
	if _, err := NewWorkload(1, 10, 15); err == nil {
		t.Error("NewWorkload accepted fewer webhooks than two per user")
	}
}
