package metrics

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transport returns a RoundTripper that sends through next (http.DefaultTransport when
// nil) and records each call under upstream (Keycloak or Bonbon): count by endpoint shape
// and status, duration until the answer's body is closed, calls in flight, and, for
// Keycloak, admin token requests. It never reads or logs headers or bodies.
func (m *Metrics) Transport(upstream string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{m: m, upstream: upstream, next: next}
}

// InstrumentClient returns a copy of c (a new client when c is nil) whose transport is
// measured under upstream. The caller's client is left unchanged.
func (m *Metrics) InstrumentClient(c *http.Client, upstream string) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	out.Transport = m.Transport(upstream, out.Transport)
	return &out
}

type transport struct {
	m        *Metrics
	upstream string
	next     http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint := Endpoint(req.URL.Path, req.URL.Query().Has)
	inFlight := t.m.upstreamInFlight.WithLabelValues(t.upstream)
	inFlight.Inc()
	began := time.Now()
	resp, err := t.next.RoundTrip(req)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.m.upstreamCalls.WithLabelValues(t.upstream, req.Method, endpoint, code).Inc()
	if t.upstream == Keycloak && strings.HasSuffix(endpoint, tokenPath) {
		t.m.tokenRequests.WithLabelValues(code).Inc()
	}
	done := func() {
		inFlight.Dec()
		t.m.upstreamDuration.WithLabelValues(t.upstream, req.Method, endpoint).
			Observe(time.Since(began).Seconds())
	}
	if err != nil || resp.Body == nil {
		done()
		return resp, err
	}
	// The answer is not over until its body is read: time to the close.
	resp.Body = &timedBody{ReadCloser: resp.Body, done: done}
	return resp, nil
}

const tokenPath = "/protocol/openid-connect/token"

// timedBody runs done once, when the body is closed or read to its end.
type timedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.done)
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// words are the path segments kept as they are; every other segment becomes a
// placeholder, so the endpoint label has a bounded set of values whatever ids, realm
// names or user input a path carries.
var words = map[string]bool{
	"admin": true, "realms": true, "users": true, "federated-identity": true,
	"protocol": true, "openid-connect": true, "token": true, "certs": true, "auth": true,
	"userinfo": true, "logout": true, "clients": true, "client-secret": true,
	"service-account-user": true, "role-mappings": true, "realm": true, "roles": true,
	"groups": true, "identity-provider": true, "instances": true, "profile": true,
	"count": true, "health": true, "ready": true, "live": true, ".well-known": true,
	"openid-configuration": true, "v1": true, "earn": true, "user": true, "jwt": true,
	"oidc": true, "otp": true, "members": true, "components": true, "mappers": true,
}

// placeholders name the segment that follows a collection word.
var placeholders = map[string]string{
	"realms": "{realm}", "users": "{id}", "clients": "{id}", "groups": "{id}",
	"instances": "{alias}", "federated-identity": "{alias}", "roles": "{role}",
	"components": "{id}", "mappers": "{id}", "members": "{id}",
}

// subresources follow a collection word without being an id: /users/profile is the
// realm's user profile, not a user.
var subresources = map[string]bool{"profile": true, "count": true}

// queryKeys tell apart the user searches that share one path; the first present is
// added to the shape, e.g. "/admin/realms/{realm}/users?idpUserId".
var queryKeys = []string{"idpUserId", "email", "username", "search"}

// maxSegments bounds the shape's length, so an odd path cannot make it grow.
const maxSegments = 10

// Endpoint is the shape of a call's path: known words kept, ids and names replaced by
// placeholders, and the search key of a user query appended. has reports whether the
// query holds a key (nil: none does).
func Endpoint(path string, has func(string) bool) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > maxSegments {
		segs = append(segs[:maxSegments], "…")
	}
	var b strings.Builder
	prev := ""
	for _, s := range segs {
		if s == "" {
			continue
		}
		// prev is the shape written, so a realm named "users" is not taken for the word.
		switch {
		case s == "…":
		case placeholders[prev] != "" && !subresources[s]:
			s = placeholders[prev]
		case !words[s]:
			s = "{x}"
		}
		b.WriteString("/" + s)
		prev = s
	}
	if b.Len() == 0 {
		b.WriteByte('/')
	}
	if has != nil && strings.HasSuffix(b.String(), "/users") {
		for _, k := range queryKeys {
			if has(k) {
				b.WriteString("?" + k)
				break
			}
		}
	}
	return b.String()
}
