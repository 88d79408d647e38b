package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// apiError is an answer in Bonbon's error shape: {"error": code, "message": text}.
type apiError struct {
	status     int
	code, msg  string
	retryAfter int // seconds; 0 sends no Retry-After
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

var (
	errForbidden = &apiError{status: http.StatusForbidden, code: "forbidden",
		msg: "client id or api key is wrong"}
	errInvalidToken = &apiError{status: http.StatusUnauthorized, code: "invalid_token",
		msg: "earn token is invalid or expired"}
	errNotFound = &apiError{status: http.StatusNotFound, code: "not_found",
		msg: "no such user"}
)

func badRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid_request", msg: msg}
}

// handlerFunc is a handler that returns its error instead of writing it, so that
// writeError is the one place that turns errors into answers.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Error("internal error", "path", r.URL.Path, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, code: "internal",
			msg: "internal error"}
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	writeJSON(w, ae.status, map[string]string{"error": ae.code, "message": ae.msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing left to tell it
}

// readJSON decodes a bounded request body into v, or answers 400.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	if err := dec.Decode(v); err != nil {
		return badRequest("body is not the expected JSON object")
	}
	return nil
}
