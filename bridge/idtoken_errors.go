package bridge

import (
	"errors"
	"fmt"
)

// Flow 3's errors. errors.go turns them into answers.
var (
	errNoAccessToken = errors.New("a Keycloak access token is required as a Bearer token")
	// errInsufficientScope: the token is valid but lacks what Bonbon needs (RFC 6750's
	// insufficient_scope, 403).
	errInsufficientScope = errors.New(
		"the access token carries no email; the client must request the email scope")
	errOriginNotAllowed = errors.New("this origin is not allowed to request Bonbon ID tokens")
)

// errInvalidAccessToken is a token that failed verification (401). Reason is safe to show
// the client; the wrapped error is for the log.
type errInvalidAccessToken struct {
	reason string
	err    error
}

func invalidAccessToken(reason string, err error) error {
	return errInvalidAccessToken{reason: reason, err: err}
}

func (e errInvalidAccessToken) Error() string {
	return fmt.Sprintf("access token rejected (%s): %v", e.reason, e.err)
}

func (e errInvalidAccessToken) Unwrap() error { return e.err }

// errBonbonIDToken marks a failure of Bonbon's /v1/jwt: unlike the webhook's call, Bonbon
// refusing it is the bridge's problem (credentials, body), never the user's.
type errBonbonIDToken struct{ error }

func (e errBonbonIDToken) Unwrap() error { return e.error }

// errIDTokenMisconfigured is Flow 3 enabled with an unusable configuration.
type errIDTokenMisconfigured struct{ error }

func (e errIDTokenMisconfigured) Unwrap() error { return e.error }

// keycloakSubError carries the Keycloak user id to the error log line.
type keycloakSubError struct {
	error
	sub string
}

func (e keycloakSubError) Unwrap() error { return e.error }

func withKeycloakSub(err error, sub string) error { return keycloakSubError{err, sub} }
