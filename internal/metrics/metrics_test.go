package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestEndpoint(t *testing.T) {
	cases := []struct {
		name, path, query, want string
	}{
		{"user search by link", "/admin/realms/shop/users", "idpAlias=bonbon&idpUserId=42",
			"/admin/realms/{realm}/users?idpUserId"},
		{"user search by email", "/admin/realms/shop/users", "email=a%40b.c&exact=true",
			"/admin/realms/{realm}/users?email"},
		{"create user", "/admin/realms/shop/users", "", "/admin/realms/{realm}/users"},
		{"one user", "/admin/realms/shop/users/5f1c-ab", "", "/admin/realms/{realm}/users/{id}"},
		{"links", "/admin/realms/shop/users/5f1c/federated-identity/bonbon", "",
			"/admin/realms/{realm}/users/{id}/federated-identity/{alias}"},
		{"token", "/realms/shop/protocol/openid-connect/token", "",
			"/realms/{realm}/protocol/openid-connect/token"},
		{"realm named like a word", "/admin/realms/users/users/users", "",
			"/admin/realms/{realm}/users/{id}"},
		{"bonbon", "/v1/earn/user", "", "/v1/earn/user"},
		{"user profile is no user", "/admin/realms/shop/users/profile", "",
			"/admin/realms/{realm}/users/profile"},
		{"unknown segments", "/v1/secret-thing/42", "", "/v1/{x}/{x}"},
		{"root", "/", "", "/"},
		{"long path is cut", strings.Repeat("/x", 30), "", strings.Repeat("/{x}", 10) + "/…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, _ := url.ParseQuery(c.query)
			if got := Endpoint(c.path, q.Has); got != c.want {
				t.Errorf("Endpoint(%q, %q) = %q, want %q", c.path, c.query, got, c.want)
			}
		})
	}
}

// scrape reads m's /metrics page as Prometheus would.
func scrape(t *testing.T, m *Metrics) Scrape {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	s, err := ParseText(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTransport(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/missing") {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer up.Close()
	m := New()
	c := m.InstrumentClient(&http.Client{Timeout: 2 * time.Second}, Keycloak)

	get := func(path string) {
		resp, err := c.Get(up.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get("/realms/r1/protocol/openid-connect/token")
	get("/admin/realms/r1/users?idpUserId=1")
	get("/admin/realms/r1/users?idpUserId=2")
	get("/admin/realms/r1/users/abc/missing")
	// A refused connection is counted with code "error".
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if _, err := c.Get(dead.URL + "/v1/earn/user"); err == nil {
		t.Fatal("GET on a closed server succeeded")
	}

	s := scrape(t, m)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"token requests", s.Sum("bonbon_bridge_keycloak_token_requests_total", "code", "200"), 1},
		{"searches by link", s.Sum("bonbon_bridge_upstream_requests_total", "upstream", "keycloak",
			"endpoint", "/admin/realms/{realm}/users?idpUserId", "code", "200"), 2},
		{"404 kept", s.Sum("bonbon_bridge_upstream_requests_total", "code", "404"), 1},
		{"transport error", s.Sum("bonbon_bridge_upstream_requests_total", "code", "error"), 1},
		{"durations observed", s.Sum("bonbon_bridge_upstream_request_duration_seconds_count"), 5},
		{"nothing left in flight", s.Sum("bonbon_bridge_upstream_requests_in_flight"), 0},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	for series := range s {
		if strings.Contains(series, "r1") || strings.Contains(series, "abc") {
			t.Errorf("series %s carries an id", series)
		}
	}
}

func TestTransportTimesTheBody(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		time.Sleep(60 * time.Millisecond)
		_, _ = io.WriteString(w, "late body")
	}))
	defer up.Close()
	m := New()
	resp, err := m.InstrumentClient(nil, Bonbon).Get(up.URL + "/v1/jwt")
	if err != nil {
		t.Fatal(err)
	}
	if got := scrape(t, m).Sum("bonbon_bridge_upstream_requests_in_flight"); got != 1 {
		t.Errorf("in flight before the body is read = %v, want 1", got)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s := scrape(t, m)
	if got := s.Sum("bonbon_bridge_upstream_request_duration_seconds_sum"); got < 0.05 {
		t.Errorf("duration %vs does not include the body", got)
	}
	if got := s.Sum("bonbon_bridge_upstream_request_duration_seconds_count"); got != 1 {
		t.Errorf("observations = %v, want 1 (close after EOF counts once)", got)
	}
}

func TestHooks(t *testing.T) {
	m := New()
	m.RequestStarted("/webhooks/bonbon")
	m.RequestStarted("/webhooks/bonbon")
	m.RequestDone("/webhooks/bonbon", "POST", 200, 30*time.Millisecond)
	m.WebhookDone("created")
	m.WebhookDone("keycloak_unavailable")
	m.IDTokenCacheLookup(true)
	m.IDTokenCacheLookup(false)
	m.IDTokenCacheLookup(true)

	s := scrape(t, m)
	cases := []struct {
		name string
		got  float64
		want float64
	}{
		{"in flight", s.Sum("bonbon_bridge_http_requests_in_flight",
			"route", "/webhooks/bonbon"), 1},
		{"answered", s.Sum("bonbon_bridge_http_requests_total",
			"code", "200", "method", "POST"), 1},
		{"latency", s.Sum("bonbon_bridge_http_request_duration_seconds_count"), 1},
		{"created", s.Sum("bonbon_bridge_webhooks_total", "outcome", "created"), 1},
		{"errors", s.Sum("bonbon_bridge_webhooks_total", "outcome", "keycloak_unavailable"), 1},
		{"hits", s.Sum("bonbon_bridge_idtoken_cache_requests_total", "result", "hit"), 2},
		{"misses", s.Sum("bonbon_bridge_idtoken_cache_requests_total", "result", "miss"), 1},
		{"process metrics", s.Sum("process_resident_memory_bytes"), -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.want < 0 {
				if c.got <= 0 {
					t.Errorf("got %v, want a positive value", c.got)
				}
				return
			}
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func TestParseText(t *testing.T) {
	text := `# HELP x_total a counter
# TYPE x_total counter
x_total{a="1",b="with \"quote\", comma"} 3
x_total{a="2",b="y"} 4 1700000000000
plain 2.5
`
	s, err := ParseText(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		match []string
		want  float64
	}{
		{"all", nil, 7},
		{"escaped value", []string{"b", `with "quote", comma`}, 3},
		{"other", []string{"a", "2"}, 4},
		{"none", []string{"a", "3"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := s.Sum("x_total", c.match...); got != c.want {
				t.Errorf("Sum = %v, want %v", got, c.want)
			}
		})
	}
	if got := s.Sum("plain"); got != 2.5 {
		t.Errorf("plain = %v", got)
	}
	if got := s.By("x_total", "a"); got["1"] != 3 || got["2"] != 4 || len(got) != 2 {
		t.Errorf("By = %v, want 1:3 2:4", got)
	}
	prev := Scrape{`x_total{a="2",b="y"}`: 1}
	if got := s.Sub(prev).Sum("x_total", "a", "2"); got != 3 {
		t.Errorf("Sub = %v, want 3", got)
	}
	if _, err := ParseText(strings.NewReader("broken{a=\"1\"} notanumber\n")); err == nil {
		t.Error("ParseText accepted a bad value")
	}

}

func TestRead(t *testing.T) {
	m := New()
	m.WebhookDone("created")
	s, err := m.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Sum("bonbon_bridge_webhooks_total"); got != 1 {
		t.Errorf("webhooks = %v, want 1", got)
	}
}
