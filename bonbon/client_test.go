package bonbon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testClientID = "client-1"
	testAPIKey   = "s3cr3t-key"
	testToken    = "earn.token.jwt"
	sampleUser   = `{"id":"12345","email":"a@b.c","email_verified":true,"bonbons":100}`
)

// script answers requests in turn from a list of handlers, repeating the last one, and
// counts them.
type script struct {
	mu    sync.Mutex
	steps []http.HandlerFunc
	hits  atomic.Int32
	last  *http.Request
	body  []byte
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.hits.Add(1))
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.last, s.body = r, body
	s.mu.Unlock()
	s.steps[min(n, len(s.steps))-1](w, r)
}

func answer(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func newTestClient(t *testing.T, steps ...http.HandlerFunc) (*Client, *script) {
	t.Helper()
	sc := &script{steps: steps}
	srv := httptest.NewServer(sc)
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{BaseURL: srv.URL + "/v1/", ClientID: testClientID,
		APIKey: testAPIKey, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, sc
}

func TestEarnUserSendsContract(t *testing.T) {
	c, sc := newTestClient(t, answer(200, sampleUser))
	u, err := c.EarnUser(context.Background(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "12345" || !u.EmailVerified || u.Fields["bonbons"] != "100" {
		t.Errorf("user = %+v", u)
	}
	r := sc.last
	checks := map[string]string{
		"method": r.Method, "path": r.URL.Path,
		"x-bonbon-clientid": r.Header.Get("x-bonbon-clientid"),
		"x-bonbon-api-key":  r.Header.Get("x-bonbon-api-key"),
		"Authorization":     r.Header.Get("Authorization"),
	}
	want := map[string]string{
		"method": "GET", "path": "/v1/earn/user", "x-bonbon-clientid": testClientID,
		"x-bonbon-api-key": testAPIKey, "Authorization": "Bearer " + testToken,
	}
	for k, v := range want {
		if checks[k] != v {
			t.Errorf("%s = %q, want %q", k, checks[k], v)
		}
	}
}

func TestEarnUserErrors(t *testing.T) {
	tests := []struct {
		name       string
		steps      []http.HandlerFunc
		token      string
		wantHits   int32
		wantStatus int
		wantCode   string
		wantIs     error
	}{
		{name: "401 not retried", steps: []http.HandlerFunc{
			answer(401, `{"error":"invalid_token","message":"expired"}`)},
			wantHits: 1, wantStatus: 401, wantCode: "invalid_token"},
		{name: "403 not retried", steps: []http.HandlerFunc{answer(403, `{"error":"forbidden"}`)},
			wantHits: 1, wantStatus: 403, wantCode: "forbidden"},
		{name: "404 without body", steps: []http.HandlerFunc{answer(404, ``)},
			wantHits: 1, wantStatus: 404},
		{name: "error body not JSON", steps: []http.HandlerFunc{answer(400, `<html>`)},
			wantHits: 1, wantStatus: 400},
		{name: "500 retried to the limit", steps: []http.HandlerFunc{answer(500, `{"error":"x"}`)},
			wantHits: 3, wantStatus: 500, wantCode: "x"},
		{name: "503 then success", steps: []http.HandlerFunc{answer(503, ``), answer(502, ``),
			answer(200, sampleUser)}, wantHits: 3},
		{name: "429 short Retry-After honoured", steps: []http.HandlerFunc{
			answer(429, `{"error":"rate_limited"}`, "Retry-After", "1"), answer(200, sampleUser)},
			wantHits: 2},
		{name: "429 long Retry-After given back", steps: []http.HandlerFunc{
			answer(429, `{"error":"rate_limited"}`, "Retry-After", "30")},
			wantHits: 1, wantStatus: 429, wantCode: "rate_limited"},
		{name: "redirect not followed", steps: []http.HandlerFunc{
			answer(302, ``, "Location", "http://127.0.0.1:1/elsewhere")},
			wantHits: 1, wantStatus: 302},
		{name: "200 with a bad payload", steps: []http.HandlerFunc{answer(200, `{"id":1}`)},
			wantHits: 1, wantIs: ErrBadPayload},
		{name: "200 too large", steps: []http.HandlerFunc{
			answer(200, `{"id":"a","p":"`+strings.Repeat("x", MaxBodySize)+`"}`)},
			wantHits: 1, wantIs: ErrBadPayload},
		{name: "empty token refused locally", token: "-",
			steps:    []http.HandlerFunc{answer(200, sampleUser)},
			wantHits: 0, wantIs: ErrInvalidInput},
		{name: "token with newline refused locally", token: "a\nb",
			steps:    []http.HandlerFunc{answer(200, sampleUser)},
			wantHits: 0, wantIs: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, sc := newTestClient(t, tt.steps...)
			token := testToken
			if tt.token == "-" {
				token = ""
			} else if tt.token != "" {
				token = tt.token
			}
			_, err := c.EarnUser(context.Background(), token)
			if got := sc.hits.Load(); got != tt.wantHits {
				t.Errorf("hits = %d, want %d", got, tt.wantHits)
			}
			checkErr(t, err, tt.wantStatus, tt.wantCode, tt.wantIs)
		})
	}
}

func checkErr(t *testing.T, err error, status int, code string, is error) {
	t.Helper()
	var apiErr *APIError
	switch {
	case status != 0:
		if !errors.As(err, &apiErr) || apiErr.Status != status || apiErr.Code != code {
			t.Fatalf("err = %v, want APIError %d %q", err, status, code)
		}
	case is != nil:
		if !errors.Is(err, is) {
			t.Fatalf("err = %v, want %v", err, is)
		}
	case err != nil:
		t.Fatalf("err = %v", err)
	}
	if err != nil && (strings.Contains(err.Error(), testAPIKey) ||
		strings.Contains(err.Error(), testToken)) {
		t.Errorf("error text leaks a credential: %v", err)
	}
}

func TestRetryAfterKept(t *testing.T) {
	c, _ := newTestClient(t, answer(429, ``, "Retry-After", "30"))
	_, err := c.EarnUser(context.Background(), testToken)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 30*time.Second {
		t.Fatalf("err = %#v", err)
	}
}

func TestErrorMessageBounded(t *testing.T) {
	long := strings.Repeat("m", 100_000)
	c, _ := newTestClient(t, answer(400, fmt.Sprintf(`{"error":"bad","message":%q}`, long)))
	_, err := c.EarnUser(context.Background(), testToken)
	if err == nil || len(err.Error()) > 400 {
		t.Fatalf("error is %d bytes", len(err.Error()))
	}
}

func TestTransportErrorIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more
	c, err := NewClient(Config{BaseURL: srv.URL, ClientID: testClientID, APIKey: testAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.EarnUser(context.Background(), testToken)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	sc := &script{steps: []http.HandlerFunc{slow}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	c, _ := NewClient(Config{BaseURL: srv.URL, ClientID: testClientID, APIKey: testAPIKey,
		Timeout: 50 * time.Millisecond, MaxAttempts: 2})
	_, err := c.EarnUser(context.Background(), testToken)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if got := sc.hits.Load(); got != 2 {
		t.Errorf("hits = %d, want 2", got)
	}
}

func TestNeverPastContextDeadline(t *testing.T) {
	c, sc := newTestClient(t, answer(503, ``, "Retry-After", "1"))
	c.cfg.MaxAttempts = 10
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.EarnUser(ctx, testToken)
	if elapsed := time.Since(start); elapsed > 300*time.Millisecond {
		t.Errorf("took %s, past the deadline", elapsed)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 {
		t.Errorf("err = %v, want the 503", err)
	}
	if got := sc.hits.Load(); got != 1 {
		t.Errorf("hits = %d, want 1 (a 1s wait does not fit in 300ms)", got)
	}
}

func TestConcurrentCalls(t *testing.T) {
	c, sc := newTestClient(t, answer(200, sampleUser))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.EarnUser(context.Background(), testToken); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if sc.hits.Load() != 20 {
		t.Errorf("hits = %d", sc.hits.Load())
	}
}

func TestIDToken(t *testing.T) {
	c, sc := newTestClient(t, answer(200, `{"token":"abc.def.ghi","expires_in":3600}`))
	req := IDTokenRequest{Sub: "kc-1", Email: "a@b.c", EmailVerified: true, FirstName: "A",
		BonbonID: "12345"}
	tok, err := c.IDToken(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token != "abc.def.ghi" || tok.ExpiresIn != time.Hour {
		t.Errorf("token = %+v", tok)
	}
	if sc.last.Method != "POST" || sc.last.URL.Path != "/v1/jwt" ||
		sc.last.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %v", sc.last.Method, sc.last.URL.Path, sc.last.Header)
	}
	var sent map[string]any
	if err := json.Unmarshal(sc.body, &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"sub": "kc-1", "email": "a@b.c", "email_verified": true,
		"first_name": "A", "bonbon_id": "12345"}
	if fmt.Sprint(sent) != fmt.Sprint(want) {
		t.Errorf("body = %v, want %v", sent, want)
	}
}

func TestIDTokenErrors(t *testing.T) {
	tests := []struct {
		name   string
		req    IDTokenRequest
		answer string
		wantIs error
	}{
		{name: "missing sub", req: IDTokenRequest{Email: "a@b"}, wantIs: ErrInvalidInput},
		{name: "missing email", req: IDTokenRequest{Sub: "s"}, wantIs: ErrInvalidInput},
		{name: "no token", answer: `{"expires_in":3600}`, wantIs: ErrBadPayload},
		{name: "token not string", answer: `{"token":1,"expires_in":3600}`, wantIs: ErrBadPayload},
		{name: "no expiry", answer: `{"token":"t"}`, wantIs: ErrBadPayload},
		{name: "zero expiry", answer: `{"token":"t","expires_in":0}`, wantIs: ErrBadPayload},
		{name: "expiry string", answer: `{"token":"t","expires_in":"3600"}`, wantIs: ErrBadPayload},
		{name: "not json", answer: `token`, wantIs: ErrBadPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, answer(200, tt.answer))
			req := tt.req
			if req == (IDTokenRequest{}) {
				req = IDTokenRequest{Sub: "s", Email: "a@b"}
			}
			if _, err := c.IDToken(context.Background(), req); !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %v", err, tt.wantIs)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{BaseURL: "ftp://x", APIKey: "a\nb", Timeout: -1, MaxAttempts: -1}.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"scheme", "client id is required", "api key holds", "timeout",
		"max attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := (Config{ClientID: "c", APIKey: "k"}).Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}

func TestSecretsRedacted(t *testing.T) {
	cfg := Config{ClientID: "c", APIKey: testAPIKey}
	tok := IDToken{Token: testToken, ExpiresIn: time.Minute}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "cfg", cfg, "tok", tok)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s %v %#v", cfg, cfg, cfg, cfg, tok, tok)
	if strings.Contains(out, testAPIKey) || strings.Contains(out, testToken) {
		t.Errorf("secret printed: %s", out)
	}
}
