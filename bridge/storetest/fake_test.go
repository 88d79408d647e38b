package storetest

import "testing"

func TestFakeConformance(t *testing.T) {
	f := NewFake()
	Run(t, func(*testing.T) Subject { return Subject{Store: f, Seed: f.Seed} })
}
