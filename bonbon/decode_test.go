package bonbon

import (
	"errors"
	"maps"
	"os"
	"strings"
	"testing"
)

func TestDecodeUserSample(t *testing.T) {
	data, err := os.ReadFile("../testdata/bonbon/users.json")
	if err != nil {
		t.Fatal(err)
	}
	// The fixture is an array of one; take the object inside.
	obj := strings.TrimSpace(string(data))
	obj = strings.TrimSuffix(strings.TrimPrefix(obj, "["), "]")
	u, err := DecodeUser([]byte(obj))
	if err != nil {
		t.Fatal(err)
	}
	want := User{
		ID: "12345", Email: "alyssa.p.hacker@bonbon.tech", EmailVerified: true,
		FirstName: "Alyssa", LastName: "P. Hacker",
		Fields: map[string]string{
			"id": "12345", "first_name": "Alyssa", "last_name": "P. Hacker",
			"postal": "90403", "gender": "Male", "email": "alyssa.p.hacker@bonbon.tech",
			"email_verified": "true", "bonbons": "100", "preferences.pAds": "true",
			"preferences.newsletter": "true", "reward": "airpods_v1",
		},
	}
	assertUser(t, u, want)
}

func assertUser(t *testing.T, got, want User) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.EmailVerified != want.EmailVerified ||
		got.FirstName != want.FirstName || got.LastName != want.LastName {
		t.Errorf("user = %+v, want %+v", got, want)
	}
	if !maps.Equal(got.Fields, want.Fields) {
		t.Errorf("fields = %v, want %v", got.Fields, want.Fields)
	}
}

func TestDecodeUser(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    User
		wantErr bool
	}{
		{name: "id only", in: `{"id":"a"}`,
			want: User{ID: "a", Fields: map[string]string{"id": "a"}}},
		{name: "nulls skipped",
			in:   `{"id":"a","email":null,"first_name":null,"postal":null,"preferences":null}`,
			want: User{ID: "a", Fields: map[string]string{"id": "a"}}},
		{name: "unknown nested fields kept", in: `{"id":"a","x":{"y":{"z":"deep"}},"extra":false}`,
			want: User{ID: "a", Fields: map[string]string{
				"id": "a", "x.y.z": "deep", "extra": "false"}}},
		{name: "numbers canonical", in: `{"id":"a","n1":100,"n2":1e3,"n3":12.50,"n4":-5,"n5":-0,` +
			`"n6":0.000120,"n7":12345678901234567890123,"n8":1.5E-3,"n9":2.5e+2,"n10":0.1}`,
			want: User{ID: "a", Fields: map[string]string{"id": "a", "n1": "100", "n2": "1000",
				"n3": "12.5", "n4": "-5", "n5": "0", "n6": "0.00012",
				"n7": "12345678901234567890123",
				"n8": "0.0015", "n9": "250", "n10": "0.1"}}},
		{name: "arrays compact", in: `{"id":"a","tags":[ "x", 1 , {"k" : null} ],"empty":[]}`,
			want: User{ID: "a", Fields: map[string]string{"id": "a", "tags": `["x",1,{"k":null}]`,
				"empty": "[]"}}},
		{name: "email_verified string is false", in: `{"id":"a","email_verified":"true"}`,
			want: User{ID: "a", Fields: map[string]string{"id": "a", "email_verified": "true"}}},
		{name: "email_verified false", in: `{"id":"a","email_verified":false}`,
			want: User{ID: "a", Fields: map[string]string{"id": "a", "email_verified": "false"}}},
		{name: "escaped strings decoded", in: `{"id":"a\u00e9","first_name":"A\"b<c>"}`,
			want: User{ID: "aé", FirstName: `A"b<c>`,
				Fields: map[string]string{"id": "aé", "first_name": `A"b<c>`}}},
		{name: "empty object leaves nothing", in: `{"id":"a","preferences":{}}`,
			want: User{ID: "a", Fields: map[string]string{"id": "a"}}},
		{name: "numeric id", in: `{"id":12345}`, wantErr: true},
		{name: "missing id", in: `{"email":"x@y"}`, wantErr: true},
		{name: "null id", in: `{"id":null}`, wantErr: true},
		{name: "empty id", in: `{"id":""}`, wantErr: true},
		{name: "blank id", in: `{"id":"  "}`, wantErr: true},
		{name: "array body", in: `[{"id":"a"}]`, wantErr: true},
		{name: "null body", in: `null`, wantErr: true},
		{name: "empty body", in: ``, wantErr: true},
		{name: "string body", in: `"a"`, wantErr: true},
		{name: "truncated", in: `{"id":"a"`, wantErr: true},
		{name: "trailing data", in: `{"id":"a"} {}`, wantErr: true},
		{name: "duplicate top key", in: `{"id":"a","id":"b"}`, wantErr: true},
		{name: "duplicate nested key", in: `{"id":"a","p":{"x":1,"x":2}}`, wantErr: true},
		{name: "duplicate key in array", in: `{"id":"a","p":[{"x":1,"x":2}]}`, wantErr: true},
		{name: "duplicate by escape", in: `{"id":"a","\u0069d":"b"}`, wantErr: true},
		{name: "colliding paths", in: `{"id":"a","p.x":1,"p":{"x":2}}`, wantErr: true},
		{name: "email not string", in: `{"id":"a","email":42}`, wantErr: true},
		{name: "first_name object", in: `{"id":"a","first_name":{"x":1}}`, wantErr: true},
		{name: "huge exponent", in: `{"id":"a","n":1e999999999}`, wantErr: true},
		{name: "min int exponent", in: `{"id":"a","n":1e-9223372036854775808}`, wantErr: true},
		{name: "deep nesting", in: `{"id":"a","p":` + strings.Repeat("[", 40) +
			strings.Repeat("]", 40) + `}`, wantErr: true},
		{name: "nesting within bounds", in: `{"id":"a","p":{"q":{"r":[[1]]}}}`,
			want: User{ID: "a", Fields: map[string]string{"id": "a", "p.q.r": "[[1]]"}}},
		{name: "too big", in: `{"id":"a","pad":"` + strings.Repeat("x", MaxBodySize) + `"}`,
			wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeUser([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrBadPayload) {
					t.Fatalf("err = %v, want ErrBadPayload", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertUser(t, got, tt.want)
		})
	}
}

func TestCanonicalNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"}, {"0.0", "0"}, {"-0.0e5", "0"}, {"10", "10"}, {"1.0", "1"},
		{"100e-2", "1"}, {"123.456e1", "1234.56"}, {"5e-1", "0.5"}, {"1E+2", "100"},
		{"0.1", "0.1"}, {"9007199254740993", "9007199254740993"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := canonicalNumber(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("canonicalNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
