package sim

import (
	"context"
	"net/http/httptest"
	"testing"
)

func TestDeliveryLogBounded(t *testing.T) {
	f := newFixture(t)
	hs := httptest.NewServer(&webhook{})
	defer hs.Close()
	// Fill the log past its bound without HTTP, then make one real delivery.
	for range maxDeliveries + 5 {
		f.sim.startDelivery(hs.URL, "12345", "manual")
	}
	if _, err := f.sim.Deliver(context.Background(), hs.URL, "12345"); err != nil {
		t.Fatal(err)
	}
	d := f.sim.Deliveries()
	last := d[len(d)-1]
	if len(d) != maxDeliveries || d[0].ID != 7 || last.ID != maxDeliveries+6 || !last.OK {
		t.Errorf("log: %d entries, first %d, last %+v", len(d), d[0].ID, last)
	}
	// Recording an attempt for a dropped delivery is harmless.
	f.sim.recordAttempt(1, 200, nil, true)
	f.sim.finishDelivery(1)
}
