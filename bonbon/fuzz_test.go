package bonbon

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/fuzzseed"
)

// FuzzDecodeUser: any byte string either decodes to a user with a usable id or fails with
// ErrBadPayload; never a panic, never another error, and the same input always gives the
// same user. Seeds: the sample user, the bad-input corpus and testdata/fuzz/FuzzDecodeUser.
// Run: scripts/fuzz.sh, or go test -run '^$' -fuzz '^FuzzDecodeUser$' -fuzztime 20s ./bonbon
func FuzzDecodeUser(f *testing.F) {
	seeds, err := fuzzseed.Payloads("..")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := DecodeUser(data)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error %v does not wrap ErrBadPayload", err)
			}
			return
		}
		if strings.TrimSpace(u.ID) == "" || !utf8.ValidString(u.ID) {
			t.Fatalf("decoded an unusable id %q", u.ID)
		}
		for path, v := range u.Fields {
			if !utf8.ValidString(path) || !utf8.ValidString(v) {
				t.Fatalf("field %q holds invalid UTF-8", path)
			}
		}
		if u.EmailVerified && u.Fields["email_verified"] != "true" {
			t.Fatalf("email_verified true from %q", u.Fields["email_verified"])
		}
		again, err := DecodeUser(data)
		if err != nil || !reflect.DeepEqual(u, again) {
			t.Fatalf("second decode differs: %v", err)
		}
	})
}

func TestDecodeUserRefusesInvalidUTF8(t *testing.T) {
	_, err := DecodeUser([]byte("{\"id\": \"1\", \"first_name\": \"Al\xffssa\"}"))
	if !errors.Is(err, ErrBadPayload) {
		t.Fatalf("invalid UTF-8 decoded (%v); encoding/json would have stored U+FFFD", err)
	}
}
