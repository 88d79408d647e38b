package bonbon

// User is the answer of GET /v1/earn/user, parsed once at the edge.
//
// Only ID is guaranteed by the contract; every other field may be missing or null, and
// unknown fields may appear. Fields keeps the whole payload so that the mapping can pick
// any field by its dotted path without this package knowing which ones a publisher keeps.
type User struct {
	// ID is Bonbon's opaque user id, never parsed as a number.
	ID string
	// Email is the address exactly as Bonbon sent it; mapping normalises it.
	Email string
	// EmailVerified is true only when the payload holds the JSON literal true.
	EmailVerified bool
	// FirstName and LastName are as sent, empty when missing or null.
	FirstName string
	LastName  string
	// Fields holds every non-null leaf of the payload under its dotted path
	// ("postal", "preferences.newsletter") as a canonical string: strings as sent,
	// booleans "true"/"false", numbers in plain decimal notation ("100", "12.75").
	Fields map[string]string
}
