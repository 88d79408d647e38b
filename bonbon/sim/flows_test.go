package sim

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func clientOnly() []string { return []string{"x-bonbon-clientid", clientID} }

// otpCodeFor reads the pending code through the control endpoint, as a test would.
func (f *fixture) otpCodeFor(t *testing.T, email string) string {
	t.Helper()
	code, body := f.call(t, "GET", "/_sim/otp?email="+email, "")
	var ans struct{ OTP string }
	if code != 200 || json.Unmarshal([]byte(body), &ans) != nil {
		t.Fatalf("otp for %s: %d %s", email, code, body)
	}
	return ans.OTP
}

// login runs the OTP flow and returns the answer of /earn/otp-token.
func (f *fixture) login(t *testing.T, email string) (string, bool) {
	t.Helper()
	code, body := f.call(t, "POST", "/v1/earn/otp", `{"email":"`+email+`"}`, clientOnly()...)
	if code != 200 {
		t.Fatalf("otp: %d %s", code, body)
	}
	otp := f.otpCodeFor(t, email)
	code, body = f.call(t, "POST", "/v1/earn/otp-token",
		`{"email":"`+email+`","otp":"`+otp+`","reward":"r1","bonbons":7,`+
			`"preferences":{"pAds":true,"newsletter":false},"lastLoginUrl":"http://127.0.0.1/p"}`,
		clientOnly()...)
	var ans struct {
		EarnToken string
		SignUp    bool
	}
	if code != 200 || json.Unmarshal([]byte(body), &ans) != nil || ans.EarnToken == "" {
		t.Fatalf("otp-token: %d %s", code, body)
	}
	return ans.EarnToken, ans.SignUp
}

func TestOTPLoginSignUpAndReturn(t *testing.T) {
	f := newFixture(t)
	tok, signUp := f.login(t, "New.User@Example.test")
	if !signUp {
		t.Error("first login of a new email: signUp = false")
	}
	_, body := f.call(t, "GET", "/earn/user", "", creds(tok)...)
	for _, want := range []string{`"email":"new.user@example.test"`, `"email_verified":true`,
		`"bonbons":7`, `"pAds":true`, `"reward":"r1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("new user %s lacks %s", body, want)
		}
	}
	if _, signUp := f.login(t, "new.user@example.test"); signUp {
		t.Error("second login: signUp = true")
	}
	tok, signUp = f.login(t, "alyssa.p.hacker@bonbon.tech")
	if _, body := f.call(t, "GET", "/earn/user", "", creds(tok)...); signUp || body != alyssa {
		t.Errorf("existing user: signUp %v, body %s", signUp, body)
	}
}

func TestOTPErrors(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.OTPTTL = time.Minute })
	send := func(email string) {
		f.call(t, "POST", "/earn/otp", `{"email":"`+email+`"}`, clientOnly()...)
	}
	redeem := func(email, otp string) int {
		code, _ := f.call(t, "POST", "/earn/otp-token", `{"email":"`+email+`","otp":"`+otp+`"}`,
			clientOnly()...)
		return code
	}
	wrong := func(otp string) string { return fmt.Sprintf("%06d", (atoi(otp)+1)%1_000_000) }

	t.Run("no client id", func(t *testing.T) {
		if code, _ := f.call(t, "POST", "/earn/otp", `{"email":"a@b.c"}`); code != 403 {
			t.Errorf("got %d", code)
		}
	})
	t.Run("bad email", func(t *testing.T) {
		code, _ := f.call(t, "POST", "/earn/otp", `{"email":"nope"}`, clientOnly()...)
		if code != 400 {
			t.Errorf("got %d", code)
		}
	})
	t.Run("code is single use", func(t *testing.T) {
		send("a@b.c")
		otp := f.otpCodeFor(t, "a@b.c")
		if c := redeem("a@b.c", otp); c != 200 {
			t.Fatalf("first use: %d", c)
		}
		if c := redeem("a@b.c", otp); c != 401 {
			t.Errorf("second use: %d", c)
		}
	})
	t.Run("code expires", func(t *testing.T) {
		send("b@b.c")
		otp := f.otpCodeFor(t, "b@b.c")
		f.clock.Add(61 * time.Second)
		if c := redeem("b@b.c", otp); c != 401 {
			t.Errorf("expired code: %d", c)
		}
	})
	t.Run("wrong guesses burn the code", func(t *testing.T) {
		send("c@b.c")
		otp := f.otpCodeFor(t, "c@b.c")
		for range maxOTPTries {
			if c := redeem("c@b.c", wrong(otp)); c != 401 {
				t.Fatalf("wrong code: %d", c)
			}
		}
		if c := redeem("c@b.c", otp); c != 401 {
			t.Errorf("right code after too many tries: %d", c)
		}
	})
}

func atoi(s string) int {
	var n int
	fmt.Sscanf(s, "%d", &n)
	return n
}

// waitDone waits for n deliveries to be done.
func waitDone(t *testing.T, s *Server, n int) []Delivery {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d := s.Deliveries()
		done := 0
		for _, x := range d {
			if x.Done {
				done++
			}
		}
		if done >= n {
			return d
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("deliveries not done: %+v", s.Deliveries())
	return nil
}

func TestWebhookAfterLoginWithRetries(t *testing.T) {
	hook := &webhook{statuses: []int{500, 503, 200}}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	f := newFixture(t, func(c *Config) {
		c.WebhookURL = hs.URL + "/webhook"
		c.WebhookBackoff = 5 * time.Millisecond
	})
	f.login(t, "alyssa.p.hacker@bonbon.tech")
	d := waitDone(t, f.sim, 1)
	if len(d) != 1 || !d[0].OK || d[0].Reason != "login" || len(d[0].Attempts) != 3 ||
		d[0].Attempts[0].Status != 500 || d[0].Attempts[2].Status != 200 {
		t.Fatalf("delivery = %+v", d)
	}
	// Each attempt carries a fresh token that the API accepts for the user.
	for _, tok := range hook.tokens {
		code, body := f.call(t, "GET", "/earn/user", "", creds(tok)...)
		if code != 200 || body != alyssa {
			t.Errorf("webhook token: %d %s", code, body)
		}
	}
	if _, body := f.call(t, "GET", "/_sim/deliveries", ""); !strings.Contains(body, `"ok":true`) {
		t.Errorf("deliveries = %s", body)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	hook := &webhook{statuses: []int{500, 500, 500, 500, 500}}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	f := newFixture(t, func(c *Config) {
		c.WebhookURL = hs.URL
		c.WebhookBackoff = time.Millisecond
		c.WebhookAttempts = 3
	})
	f.login(t, "alyssa.p.hacker@bonbon.tech")
	d := waitDone(t, f.sim, 1)
	if d[0].OK || len(d[0].Attempts) != 3 || hook.count() != 3 {
		t.Fatalf("delivery = %+v, webhook hits %d", d[0], hook.count())
	}
}

func TestWebhookUnreachableAndClose(t *testing.T) {
	hs := httptest.NewServer(&webhook{})
	url := hs.URL
	hs.Close() // nothing listens
	f := newFixture(t, func(c *Config) { c.WebhookURL = url; c.WebhookBackoff = time.Hour })
	f.login(t, "alyssa.p.hacker@bonbon.tech")
	// The first attempt fails, then the delivery waits an hour; Close must not.
	deadline := time.Now().Add(5 * time.Second)
	for len(f.sim.Deliveries()[0].Attempts) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	f.sim.Close()
	d := f.sim.Deliveries()[0]
	if d.OK || !d.Done || d.Attempts[0].Error == "" {
		t.Errorf("delivery = %+v", d)
	}
}

func TestPreferenceChangeDelivers(t *testing.T) {
	hook := &webhook{}
	hs := httptest.NewServer(hook)
	defer hs.Close()
	f := newFixture(t, func(c *Config) { c.WebhookURL = hs.URL })
	code, body := f.call(t, "POST", "/_sim/preferences",
		`{"id":"12345","preferences":{"newsletter":false}}`)
	if code != 200 || !strings.Contains(body, `"newsletter":false`) ||
		!strings.Contains(body, `"pAds":true`) || !strings.Contains(body, `"bonbons":100`) {
		t.Fatalf("preferences: %d %s", code, body)
	}
	d := waitDone(t, f.sim, 1)
	if d[0].Reason != "preferences" || !d[0].OK {
		t.Errorf("delivery = %+v", d[0])
	}
	code, _ = f.call(t, "POST", "/_sim/preferences", `{"id":"nobody","preferences":{"x":1}}`)
	if code != 404 {
		t.Errorf("unknown user: %d", code)
	}
	code, _ = f.call(t, "POST", "/_sim/users?notify=1", `{"id":"12345","email":"x@y.z"}`)
	if code != 200 {
		t.Errorf("put user: %d", code)
	}
	if d := waitDone(t, f.sim, 2); d[1].Reason != "profile" {
		t.Errorf("delivery = %+v", d[1])
	}
}

func TestSignals(t *testing.T) {
	f := newFixture(t)
	idTok := f.idToken(t)
	for _, tok := range []string{idTok, "not-a-token"} {
		code, _ := f.call(t, "POST", "/_sim/signals",
			`{"command":"signal","name":"loggedIn","token":"`+tok+`","clientId":"c","page":"p"}`)
		if code != 200 {
			t.Fatalf("post signal: %d", code)
		}
	}
	sigs := f.sim.Signals()
	if len(sigs) != 2 || !sigs[0].Valid || sigs[0].Sub != "kc-1" || sigs[1].Valid ||
		sigs[0].Name != "loggedIn" || sigs[0].Token != idTok {
		t.Fatalf("signals = %+v", sigs)
	}
	if _, body := f.call(t, "GET", "/_sim/signals", ""); !strings.Contains(body, `"valid":true`) {
		t.Errorf("signals body = %s", body)
	}
}

func TestWebTagsAndConsoleServed(t *testing.T) {
	f := newFixture(t)
	f.call(t, "POST", "/earn/otp", `{"email":"a@b.c"}`, clientOnly()...)
	otp := f.otpCodeFor(t, "a@b.c")
	for _, path := range []string{"/bonbon.js", "/v1/bonbon.js"} {
		resp, err := f.srv.Client().Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	code, body := f.call(t, "GET", "/_sim/console", "")
	for _, want := range []string{"12345", "alyssa.p.hacker@bonbon.tech", otp, "save-prefs"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

func TestCORS(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path      string
		wantAllow bool
	}{
		{"/v1/earn/otp", true}, {"/_sim/signals", true}, {"/_sim/users", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			req := httptest.NewRequest("OPTIONS", tt.path, nil)
			rec := httptest.NewRecorder()
			f.sim.Handler().ServeHTTP(rec, req)
			got := rec.Header().Get("Access-Control-Allow-Origin") != ""
			if got != tt.wantAllow {
				t.Errorf("allow = %v, want %v", got, tt.wantAllow)
			}
			if strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "api-key") {
				t.Error("the secret header is allowed cross-origin")
			}
		})
	}
}
