package mapping

import (
	"os"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
)

// benchUser is the document's sample user, decoded as the webhook does.
func benchUser(b *testing.B) bonbon.User {
	b.Helper()
	data, err := os.ReadFile("../testdata/bonbon/users.json")
	if err != nil {
		b.Fatal(err)
	}
	// The file is a JSON array of one object: strip the brackets.
	start, end := 0, len(data)-1
	for data[start] != '{' {
		start++
	}
	for data[end] != '}' {
		end--
	}
	u, err := bonbon.DecodeUser(data[start : end+1])
	if err != nil {
		b.Fatal(err)
	}
	return u
}

// BenchmarkMap turns a Bonbon user into the desired Keycloak user (every webhook).
func BenchmarkMap(b *testing.B) {
	c, u := Default(), benchUser(b)
	for b.Loop() {
		if _, err := c.Map(u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply merges the desired user into the stored account: the decision whether
// a webhook costs a write.
func BenchmarkApply(b *testing.B) {
	c, u := Default(), benchUser(b)
	d, err := c.Map(u)
	if err != nil {
		b.Fatal(err)
	}
	stored := d.NewAccount()
	stored.Attributes["publisher_own"] = []string{"kept"}
	changedUser := u
	changedUser.Fields = map[string]string{}
	for k, v := range u.Fields {
		changedUser.Fields[k] = v
	}
	changedUser.Fields["bonbons"] = "101"
	changed, err := c.Map(changedUser)
	if err != nil {
		b.Fatal(err)
	}
	owned := c.Names()
	cases := []struct {
		name    string
		d       Desired
		changed bool
	}{{"unchanged", d, false}, {"changed", changed, true}}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, diff := tc.d.Apply(stored, owned); diff != tc.changed {
					b.Fatalf("changed = %v, want %v", diff, tc.changed)
				}
			}
		})
	}
}
