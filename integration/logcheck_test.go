package integration

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The no-secrets check: every line the package's bridges log goes to logSink
// (harness_test.go); after the last test, TestMain runs checkLogs over all of it and fails
// the run if a credential or an unmasked email appears. What counts as a leak:
//   - any JWT (earn tokens, Keycloak access and ID tokens, BONBON_ID_TOKENs are all JWTs);
//   - any secret the harness handed a bridge (issued: client secrets, Bonbon API keys,
//     cookie and state keys from the stack's environment);
//   - a long random-looking base64url run, such as an encrypted cookie value;
//   - an email address whose local part is not masked ("a***@example.com" is fine).

// issued holds the secrets the harness gave to bridges.
var issued = &secretSet{}

type secretSet struct {
	mu     sync.Mutex
	values map[string]bool
}

func (s *secretSet) add(v string) {
	if len(v) < 8 { // too short to search for without false alarms
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]bool{}
	}
	s.values[v] = true
}

// addEnv records every value of a variable whose name says it is a secret or a key.
func (s *secretSet) addEnv(env map[string]string) {
	for k, v := range env {
		if strings.Contains(k, "SECRET") || strings.HasSuffix(k, "_KEY") ||
			strings.Contains(k, "PASSWORD") {
			s.add(v)
		}
	}
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.values))
	for v := range s.values {
		out = append(out, v)
	}
	return out
}

var (
	jwtRE   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	blobRE  = regexp.MustCompile(`[A-Za-z0-9_-]{64,}`)
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)
)

// findLeaks returns a description of every leak in logs (the values themselves cut short,
// so the report does not repeat the leak in full).
func findLeaks(logs string, secrets []string) []string {
	var leaks []string
	for _, m := range jwtRE.FindAllString(logs, -1) {
		leaks = append(leaks, "a JWT "+cut(m))
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			leaks = append(leaks, "an issued secret "+cut(s))
		}
	}
	for _, m := range blobRE.FindAllString(logs, -1) {
		if distinct(m) >= 16 && !jwtRE.MatchString(m) {
			leaks = append(leaks, "a random-looking value "+cut(m))
		}
	}
	for _, m := range emailRE.FindAllString(logs, -1) {
		leaks = append(leaks, "an unmasked email "+cut(m))
	}
	return leaks
}

// distinct counts the different bytes of s: a key or ciphertext uses most of the alphabet,
// a test id like "iiii…" or a hex hash does not.
func distinct(s string) int {
	seen := map[byte]bool{}
	for i := range len(s) {
		seen[s[i]] = true
	}
	return len(seen)
}

func cut(s string) string {
	if len(s) > 12 {
		return s[:6] + "…" + s[len(s)-3:]
	}
	return s[:min(len(s), 3)] + "…"
}

// checkLogs is TestMain's last step: it returns code, or 1 when the logs leak.
func checkLogs(code int) int {
	logs := logSink.String()
	secrets := issued.list()
	leaks := findLeaks(logs, secrets)
	fmt.Fprintf(os.Stderr, "FIGURES logs: %d bytes of bridge logs checked against %d issued "+
		"secrets, JWTs, random-looking values and emails: %d leaks\n",
		len(logs), len(secrets), len(leaks))
	if len(leaks) == 0 {
		return code
	}
	for i, l := range leaks {
		if i == 20 {
			fmt.Fprintf(os.Stderr, "… and %d more\n", len(leaks)-20)
			break
		}
		fmt.Fprintf(os.Stderr, "LEAK in the bridge's logs: %s\n", l)
	}
	return 1
}

func TestLogCheckFindsLeaks(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, line string
		leak       bool
	}{
		{"earn token",
			`{"err":"bad eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl"}`, true},
		{"client secret", `{"secret":"` + secret + `"}`, true},
		{"cookie value", `{"cookie":"` + "Zk9xT3B1d0hEcmY2bGxyVFN5RkdjQmxXa0Z1eU1hZ0RmUzJzZ3F" +
			"pUWtUZ0Vod1hrY2d0YkpF" + `"}`, true},
		{"email", `{"email":"alyssa.p.hacker@bonbon.tech"}`, true},
		{"masked email", `{"email":"a***@bonbon.tech"}`, false},
		{"uuid and hashed username", `{"user_id":"8515cf67-1d7e-4c1b-9a55-0f9c1f1f2a3b",` +
			`"username":"bonbon-2c5b2cd2d9d8c6b70c8d8d4e9c0e5e3a.h"}`, false},
		{"long plain id", `{"bonbon_id":"` + strings.Repeat("i", 255) + `"}`, false},
		{"url", `{"keycloak_url":"http://127.0.0.1:8080","route":"/webhooks/bonbon"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaks := findLeaks(tt.line, []string{secret})
			if (len(leaks) > 0) != tt.leak {
				t.Errorf("leaks %v, want leak=%v", leaks, tt.leak)
			}
		})
	}
}
