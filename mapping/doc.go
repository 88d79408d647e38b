// Package mapping turns a Bonbon user into the Keycloak user the bridge wants, and
// merges that wish into an existing account.
//
// It is pure data in, data out: no Keycloak client, no HTTP, no clock. Every function
// and method is safe for concurrent use, because none of them mutates its receiver
// or arguments.
//
// The three steps are:
//
//   - Config says which Bonbon fields become which Keycloak attributes (Default,
//     Load, Parse, Validate).
//   - Config.Map checks and normalises a bonbon.User into a Desired user, or
//     refuses it with ErrInvalidUser when storing it would lose data.
//   - Desired.NewAccount gives the account to create; Desired.Apply merges into an
//     account that exists and says whether anything changed, so that an unchanged
//     user costs no write.
package mapping
