package sim

import (
	"net/http"
)

// fault is a pending injected failure for one path.
type fault struct {
	status, left int
}

// FailNext makes the next n requests to path answer status, in Bonbon's error shape and
// with Retry-After: 1 for 429, before any credential check. path is matched with or
// without /v1. n <= 0 clears the fault.
func (s *Server) FailNext(path string, status int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := normalPath(path)
	if n <= 0 {
		delete(s.faults, p)
		return
	}
	s.faults[p] = &fault{status: status, left: n}
}

// Hits returns how many requests path received, with or without /v1, faults included.
func (s *Server) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[normalPath(path)]
}

// hitCounts returns a copy of all counters.
func (s *Server) hitCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.hits))
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

func (s *Server) countHits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) injectFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status, ok := s.takeFault(r.URL.Path); ok {
			e := &apiError{status: status, code: faultCode(status),
				msg: "injected by the simulator"}
			if status == http.StatusTooManyRequests {
				e.retryAfter = 1
			}
			s.writeError(w, r, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) takeFault(path string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.faults[path]
	if !ok {
		return 0, false
	}
	f.left--
	if f.left <= 0 {
		delete(s.faults, path)
	}
	return f.status, true
}

func faultCode(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status == http.StatusUnauthorized:
		return "invalid_token"
	case status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusNotFound:
		return "not_found"
	case status >= 500:
		return "unavailable"
	}
	return "error"
}
