package keycloak

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// fakeSource hands out numbered tokens and counts fetches.
type fakeSource struct {
	mu      sync.Mutex
	fetches int
	ttl     time.Duration
	fail    bool
}

func (s *fakeSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	if s.fail {
		return nil, errors.New("token endpoint refused")
	}
	return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", s.fetches),
		Expiry: time.Now().Add(s.ttl)}, nil
}

func TestTokenCacheRenewsBeforeExpiryAndAfterDrop(t *testing.T) {
	src := &fakeSource{ttl: time.Minute}
	c := newTokenCache(src, 30*time.Second)
	now := time.Now()
	c.now = func() time.Time { return now }

	first, _ := c.Token()
	if again, _ := c.Token(); again.AccessToken != first.AccessToken || src.fetches != 1 {
		t.Fatalf("second Token fetched again: %d fetches", src.fetches)
	}
	c.drop("some-other-token") // a stale drop must not discard the current token
	if _, _ = c.Token(); src.fetches != 1 {
		t.Fatalf("drop of another token caused a fetch")
	}
	c.drop(first.AccessToken)
	if tok, _ := c.Token(); tok.AccessToken == first.AccessToken || src.fetches != 2 {
		t.Fatalf("after drop: %q, %d fetches", tok.AccessToken, src.fetches)
	}
	now = now.Add(31 * time.Second) // inside the early-refresh margin
	if _, _ = c.Token(); src.fetches != 3 {
		t.Fatalf("token near expiry not renewed: %d fetches", src.fetches)
	}
}

// adminFake answers admin calls: 401 to the first refuse requests or to tokens in
// revoked, else 200 echoing the body.
type adminFake struct {
	mu       sync.Mutex
	refuse   int
	status   int // answer instead of 401 when set (e.g. 403)
	requests []string
}

func (f *adminFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r.Header.Get("Authorization")+" "+string(body))
	refuse := f.refuse > 0
	f.refuse--
	f.mu.Unlock()
	if refuse {
		status := http.StatusUnauthorized
		if f.status != 0 {
			status = f.status
		}
		w.WriteHeader(status)
		return
	}
	_, _ = w.Write(body)
}

func TestRetryUnauthorizedOnceAtMost(t *testing.T) {
	tests := []struct {
		name          string
		refuse        int
		status        int
		failRefresh   bool
		wantStatus    int
		wantRequests  int
		wantFetches   int
		wantLastToken string
	}{
		{name: "401 once: one renewal, one retry", refuse: 1, wantStatus: 200,
			wantRequests: 2, wantFetches: 2, wantLastToken: "Bearer tok-2"},
		{name: "401 always: no loop", refuse: 100, wantStatus: 401,
			wantRequests: 2, wantFetches: 2, wantLastToken: "Bearer tok-2"},
		{name: "403: never retried", refuse: 1, status: 403, wantStatus: 403,
			wantRequests: 1, wantFetches: 1, wantLastToken: "Bearer tok-1"},
		{name: "renewal fails: the 401 stands", refuse: 1, failRefresh: true, wantStatus: 401,
			wantRequests: 1, wantFetches: 2, wantLastToken: "Bearer tok-1"},
		{name: "no 401: nothing extra", refuse: 0, wantStatus: 200,
			wantRequests: 1, wantFetches: 1, wantLastToken: "Bearer tok-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &adminFake{refuse: tt.refuse, status: tt.status}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			src := &fakeSource{ttl: time.Hour}
			cache := newTokenCache(src, 30*time.Second)
			tok, _ := cache.Token()
			src.fail = tt.failRefresh
			rt := &retryUnauthorized{next: http.DefaultTransport, tokens: cache}

			body := strings.NewReader(`{"a":1}`)
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/admin/x", body)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if len(fake.requests) != tt.wantRequests || src.fetches != tt.wantFetches {
				t.Errorf("%d requests and %d token fetches, want %d and %d",
					len(fake.requests), src.fetches, tt.wantRequests, tt.wantFetches)
			}
			last := fake.requests[len(fake.requests)-1]
			if last != tt.wantLastToken+` {"a":1}` {
				t.Errorf("last request %q: want token %q and the body sent again",
					last, tt.wantLastToken)
			}
		})
	}
}

func TestTokenRequestDoesNotFollowRedirects(t *testing.T) {
	var leaked sync.Map
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		leaked.Store("body", string(body))
	}))
	defer elsewhere.Close()
	kc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer kc.Close()
	c, err := New(Config{URL: kc.URL, Realm: "r", ClientSecret: "s3cret-not-to-travel"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(t.Context()); err == nil {
		t.Error("Ping through a redirecting Keycloak succeeded")
	}
	if body, ok := leaked.Load("body"); ok {
		t.Errorf("the redirect target received %q", body)
	}
}

// TestClientRenewsARefusedToken runs the real Client (its token source included) against
// a server that refuses the first token once.
func TestClientRenewsARefusedToken(t *testing.T) {
	var issued, tokenCalls atomic.Int32
	var adminCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") {
			tokenCalls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"tok%d","token_type":"bearer","expires_in":300}`,
				issued.Add(1))
			return
		}
		adminCalls.Add(1)
		if r.Header.Get("Authorization") == "Bearer tok1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("[]"))
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, Realm: "r", ClientSecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after one refused token: %v", err)
	}
	if tokenCalls.Load() != 2 || adminCalls.Load() != 2 {
		t.Errorf("%d token and %d admin calls, want 2 and 2", tokenCalls.Load(), adminCalls.Load())
	}
}
