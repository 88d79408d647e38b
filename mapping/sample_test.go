package mapping

import (
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
)

// samplePath holds the user from Bonbon's IAM document, exactly as documented.
const samplePath = "../testdata/bonbon/users.json"

// coreFields become the username, link, email and names, never attributes.
var coreFields = []string{"id", "email", "email_verified", "first_name", "last_name"}

// sampleUser is the document's sample as the bonbon package decodes it. It is built by
// hand so that this package's tests do not depend on the decoder;
// TestSampleUserMatchesFile keeps it honest.
func sampleUser() bonbon.User {
	return bonbon.User{
		ID:            "12345",
		Email:         "alyssa.p.hacker@bonbon.tech",
		EmailVerified: true,
		FirstName:     "Alyssa",
		LastName:      "P. Hacker",
		Fields: map[string]string{
			"id":                     "12345",
			"first_name":             "Alyssa",
			"last_name":              "P. Hacker",
			"postal":                 "90403",
			"gender":                 "Male",
			"email":                  "alyssa.p.hacker@bonbon.tech",
			"email_verified":         "true",
			"bonbons":                "100",
			"preferences.pAds":       "true",
			"preferences.newsletter": "true",
			"reward":                 "airpods_v1",
		},
	}
}

// TestSampleMapsExactly is the golden test: the default mapping turns the document's
// sample user into exactly this.
func TestSampleMapsExactly(t *testing.T) {
	want := Desired{
		BonbonID:      "12345",
		Username:      "bonbon-12345",
		Email:         "alyssa.p.hacker@bonbon.tech",
		EmailVerified: true,
		FirstName:     "Alyssa",
		LastName:      "P. Hacker",
		Attributes: map[string]string{
			"bonbon_postal":           "90403",
			"bonbon_gender":           "Male",
			"bonbon_bonbons":          "100",
			"bonbon_personalized_ads": "true",
			"bonbon_newsletter":       "true",
			"bonbon_reward":           "airpods_v1",
		},
	}
	got, err := Default().Map(sampleUser())
	if err != nil {
		t.Fatalf("Map(sample) error = %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Map(sample) =\n%+v\nwant\n%+v", got, want)
	}

	// Storing it again changes nothing.
	if _, changed := got.Apply(got.NewAccount(), Default().Names()); changed {
		t.Error("Apply on the account just created reports a change")
	}
}

// TestSampleUserMatchesFile checks the hand-built sample against the file, and that the
// default mapping covers every field of the sample that is not a core field.
func TestSampleUserMatchesFile(t *testing.T) {
	fields := readSampleFields(t)
	u := sampleUser()
	if !maps.Equal(u.Fields, fields) {
		t.Fatalf("sampleUser().Fields =\n%v\nfile holds\n%v", u.Fields, fields)
	}
	core := map[string]string{"id": u.ID, "email": u.Email, "first_name": u.FirstName,
		"last_name": u.LastName, "email_verified": "true"}
	for k, v := range core {
		if fields[k] != v {
			t.Errorf("sampleUser() %s = %q, file holds %q", k, v, fields[k])
		}
	}

	mapped := map[string]bool{}
	for _, a := range Default().Attributes {
		mapped[a.Field] = true
	}
	for path := range fields {
		if !slices.Contains(coreFields, path) && !mapped[path] {
			t.Errorf("sample field %q is not in the default mapping", path)
		}
	}
}

// readSampleFields flattens the file's first user into dotted paths and canonical
// strings, the way bonbon.User.Fields documents them.
func readSampleFields(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var users []map[string]any
	if err := dec.Decode(&users); err != nil || len(users) == 0 {
		t.Fatalf("decode %s: %v (%d users)", samplePath, err, len(users))
	}
	out := map[string]string{}
	flatten(t, "", users[0], out)
	return out
}

func flatten(t *testing.T, prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(t, k, child, out)
		}
	case string:
		out[prefix] = v
	case json.Number:
		out[prefix] = v.String()
	case bool:
		out[prefix] = map[bool]string{true: "true", false: "false"}[v]
	case nil:
	default:
		t.Fatalf("sample field %q has type %T, which this test does not flatten", prefix, v)
	}
}
