// Package bonbon is the client of Bonbon's API, and the one place (with bonbon/sim) that
// knows its wire format: GET /earn/user answers the user behind an earn token, and
// POST /jwt issues the BONBON_ID_TOKEN for the page's loggedIn signal.
//
// What Bonbon documents and what this package assumes is listed in bonbon-api.md; a
// publisher who learns the real shape of an assumed part changes this package and the
// simulator, not the bridge.
//
// Errors callers branch on: *APIError (any non-2xx answer, with Status and Bonbon's Code),
// ErrBadPayload (a 2xx answer that cannot be used), ErrUnavailable (Bonbon not reached in
// time) and ErrInvalidInput (nothing was sent). Credentials never appear in error texts
// or logs: Config, IDToken and IDTokenRequest redact themselves.
package bonbon
