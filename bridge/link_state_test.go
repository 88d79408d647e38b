package bridge

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func sampleAttempt(now time.Time) attempt {
	return attempt{
		BonbonID: "12345", UserID: "u-1", EarnToken: "e.a.rn", State: "st", Nonce: "no",
		Verifier: "ve", Started: now.UnixMilli(), Expires: now.Add(time.Minute).UnixMilli(),
	}
}

func TestSealerRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := newSealer([][]byte{testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	want := sampleAttempt(now)
	v1, err := s.seal(want)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := s.seal(want)
	if v1 == v2 {
		t.Error("two seals of one attempt are equal: the GCM nonce is not fresh")
	}
	if strings.Contains(v1, "12345") || strings.Contains(v1, "e.a.rn") {
		t.Error("sealed value shows the attempt in clear")
	}
	got, err := s.open(v1, now)
	if err != nil || got != want {
		t.Fatalf("open() = %+v, %v; want %+v", got, err, want)
	}
}

func TestSealerRefuses(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, _ := newSealer([][]byte{testKey(1)})
	good, _ := s.seal(sampleAttempt(now))
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	other, _ := newSealer([][]byte{testKey(2)})
	foreign, _ := other.seal(sampleAttempt(now))
	tests := []struct {
		name  string
		value string
		now   time.Time
		want  error
	}{
		{"expired at the deadline", good, now.Add(time.Minute), errAttemptExpired},
		{"expired long ago", good, now.Add(time.Hour), errAttemptExpired},
		{"ciphertext bit flipped", flip(len(raw) / 2), now, errAttemptInvalid},
		{"tag bit flipped", flip(len(raw) - 1), now, errAttemptInvalid},
		{"nonce bit flipped", flip(3), now, errAttemptInvalid},
		{"version changed", flip(0), now, errAttemptInvalid},
		{"truncated", good[:len(good)-4], now, errAttemptInvalid},
		{"empty", "", now, errAttemptInvalid},
		{"not base64", "%%%", now, errAttemptInvalid},
		{"sealed with another key", foreign, now, errAttemptInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.open(tt.value, tt.now)
			if !errors.Is(err, tt.want) {
				t.Errorf("open() error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSealerRotation: the first key seals, every key opens.
func TestSealerRotation(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	old, _ := newSealer([][]byte{testKey(1)})
	rotated, _ := newSealer([][]byte{testKey(2), testKey(1)})
	v, _ := old.seal(sampleAttempt(now))
	if _, err := rotated.open(v, now); err != nil {
		t.Errorf("rotated sealer cannot open an attempt sealed with the old key: %v", err)
	}
	v, _ = rotated.seal(sampleAttempt(now))
	if _, err := old.open(v, now); !errors.Is(err, errAttemptInvalid) {
		t.Errorf("new key's attempt opened under the old key alone: %v", err)
	}
}

func TestNewSealerKeySizes(t *testing.T) {
	tests := []struct {
		name    string
		keys    [][]byte
		wantErr bool
	}{
		{"none", nil, true},
		{"16 bytes", [][]byte{make([]byte, 16)}, true},
		{"32 bytes", [][]byte{make([]byte, 32)}, false},
		{"second key short", [][]byte{make([]byte, 32), make([]byte, 31)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newSealer(tt.keys); (err != nil) != tt.wantErr {
				t.Errorf("newSealer() error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestAttemptLogValueHidesSecrets(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "attempt", sampleAttempt(time.Now()))
	for _, secret := range []string{"e.a.rn", `"st"`, `"no"`, `"ve"`} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log line shows %s: %s", secret, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "12345") {
		t.Errorf("log line lacks the Bonbon id: %s", buf.String())
	}
}
