package keycloak

import "encoding/json"

// isValidationError reports whether a 400 body is the user profile's verdict on the data:
// {"field", "errorMessage", "params"} or {"errors": [...]}. Only that is ErrInvalid.
//
// Why: Keycloak also answers 400 when it fails for reasons unrelated to the data, e.g.
// while shutting down ("Cannot parse the JSON" to a GET, "Could not create user" from an
// aborted transaction), seen in integration/faults_restart_test.go. Calling those invalid
// would answer Bonbon 422, "do not retry", for a user Keycloak would take a minute later;
// as ErrUnavailable they are 503 with Retry-After.
func isValidationError(body []byte) bool {
	var b struct {
		Field  string            `json:"field"`
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &b) != nil {
		return false
	}
	return b.Field != "" || len(b.Errors) > 0
}
