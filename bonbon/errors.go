package bonbon

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadPayload means Bonbon answered 2xx with a body this package cannot use: not JSON,
// not the expected shape, a duplicate key, an id that is not a non-empty string. Errors
// carrying it are wrapped with the reason.
var ErrBadPayload = errors.New("bonbon: unusable payload")

// ErrUnavailable means Bonbon could not be reached or did not answer in time, after every
// attempt. Errors carrying it also wrap the transport error (and context.DeadlineExceeded
// or context.Canceled when the caller's context ended).
var ErrUnavailable = errors.New("bonbon: unavailable")

// ErrInvalidInput means the caller passed something that cannot be sent to Bonbon (an
// empty earn token, a token with characters a header cannot carry, a missing sub or
// email). No request was made.
var ErrInvalidInput = errors.New("bonbon: invalid input")

// maxErrorMessage bounds how much of Bonbon's error message ends up in an error string,
// so a misbehaving server cannot flood logs.
const maxErrorMessage = 200

// APIError is any non-2xx answer from Bonbon, after retries. The body is read through a
// size limit; Code and Message come from {"error": ..., "message": ...} when the body
// has that shape and are empty otherwise.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is Bonbon's machine-readable error code, e.g. "invalid_token".
	Code string
	// Message is Bonbon's human-readable text, cut to a bounded length.
	Message string
	// RetryAfter is the delay Bonbon asked for with Retry-After (429 or 503), else zero.
	RetryAfter time.Duration
}

// Error describes the answer. It never holds a credential: the request's headers, which
// carry the secret and the earn token, are not part of APIError.
func (e *APIError) Error() string {
	s := fmt.Sprintf("bonbon: status %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}
