package sim

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// routes builds the handler: /v1 stripping, hit counting, CORS and fault injection wrap
// one mux of the API, Web Tags and control endpoints.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Bonbon's API, as bonbon-api.md describes it.
	mux.HandleFunc("GET /earn/user", s.handle(s.earnUser))
	mux.HandleFunc("POST /jwt", s.handle(s.jwt))
	mux.HandleFunc("POST /earn/otp", s.handle(s.otp))
	mux.HandleFunc("POST /earn/otp-token", s.handle(s.otpToken))
	mux.HandleFunc("POST /earn/oidc", s.handle(s.oidcExchange))
	mux.HandleFunc("GET /bonbon.js", s.bonbonJS)

	// Control endpoints for tests and demos, on loopback.
	mux.HandleFunc("POST /_sim/users", s.handle(s.ctlPutUser))
	mux.HandleFunc("GET /_sim/users", s.handle(s.ctlUsers))
	mux.HandleFunc("POST /_sim/preferences", s.handle(s.ctlPreferences))
	mux.HandleFunc("POST /_sim/earn-token", s.handle(s.ctlEarnToken))
	mux.HandleFunc("POST /_sim/deliver", s.handle(s.ctlDeliver))
	mux.HandleFunc("GET /_sim/deliveries", s.handle(s.ctlDeliveries))
	mux.HandleFunc("GET /_sim/hits", s.handle(s.ctlHits))
	mux.HandleFunc("GET /_sim/otp", s.handle(s.ctlOTP))
	mux.HandleFunc("POST /_sim/signals", s.handle(s.ctlPostSignal))
	mux.HandleFunc("GET /_sim/signals", s.handle(s.ctlSignals))
	mux.HandleFunc("GET /_sim/console", s.console)

	mux.HandleFunc("/", s.handle(func(http.ResponseWriter, *http.Request) error {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such endpoint"}
	}))
	return stripV1(s.countHits(cors(s.injectFaults(mux))))
}

// stripV1 serves /v1/x as /x: the IAM document uses the prefix, the API reference not.
func stripV1(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := normalPath(r.URL.Path); p != r.URL.Path {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = p, ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// normalPath drops a leading /v1.
func normalPath(p string) string {
	if p == "/v1" {
		return "/"
	}
	if strings.HasPrefix(p, "/v1/") {
		return p[len("/v1"):]
	}
	return p
}

// cors lets bonbon.js on a publisher's page call the simulator, as the real Web Tags call
// Bonbon. x-bonbon-api-key is deliberately not an allowed header: the secret belongs on
// the publisher's server, and a page that tries to send it fails its preflight. Of the
// control endpoints only /_sim/signals is open to other origins, so that a page elsewhere
// cannot edit users or trigger deliveries.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sim/") && r.URL.Path != "/_sim/signals" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, x-bonbon-clientid")
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkClient checks x-bonbon-clientid, and x-bonbon-api-key when withSecret.
func (s *Server) checkClient(r *http.Request, withSecret bool) error {
	if !equal(r.Header.Get("x-bonbon-clientid"), s.cfg.ClientID) {
		return errForbidden
	}
	if withSecret && !equal(r.Header.Get("x-bonbon-api-key"), s.cfg.APIKey) {
		return errForbidden
	}
	return nil
}

func equal(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// bearer returns the token of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
