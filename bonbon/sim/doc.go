// Package sim is a Bonbon simulator: a real HTTP server implementing the Bonbon contract
// of bonbon-api.md for demos, integration tests and load tests, plus control endpoints
// under /_sim/ that a test or a person on loopback uses to drive it. It is meant for
// loopback only: the control endpoints need no credentials.
//
// Every path is served both with and without the /v1 prefix.
//
// Bonbon's API (x-bonbon-clientid on all; the secret where the document requires it):
//
//	GET  /earn/user       client id + secret + earn token → the stored user, verbatim
//	POST /jwt             client id + secret, {"sub","email",...} → {"token","expires_in"}
//	POST /earn/otp        client id, {"email"} → {"message"}; the code goes to /_sim/otp
//	POST /earn/otp-token  client id, {"email","otp",...} → {"earnToken","signUp"}
//	POST /earn/oidc       client id, {"id_token"} → {"earnToken","signUp"} (assumed path)
//	GET  /bonbon.js       the Web Tags stand-in
//
// Errors use Bonbon's shape {"error": code, "message": text}: 400 invalid_request,
// 401 invalid_token or invalid_otp, 403 forbidden, 404 not_found, 409 email_unverified,
// 501 not_configured, and whatever FailNext injects (429 with Retry-After: 1, 5xx).
//
// Control endpoints:
//
//	POST /_sim/users        a raw user (?notify=1 also delivers a "profile" webhook)
//	GET  /_sim/users        every stored user
//	POST /_sim/preferences  {"id","preferences":{...}}: merge, then deliver the webhook
//	POST /_sim/earn-token   {"id"} → {"earnToken"}
//	POST /_sim/deliver      {"id","url"} → {"status"}: one webhook POST, no retry
//	GET  /_sim/deliveries   the delivery log with every attempt's answer
//	GET  /_sim/hits         requests per path
//	GET  /_sim/otp?email=   the pending one-time code
//	POST /_sim/signals      called by bonbon.js for each bonbontag("signal", ...)
//	GET  /_sim/signals      the signals received, each checked against POST /jwt's tokens
//	GET  /_sim/console      an HTML page over all of the above
//
// The earn tokens are RS256 JWTs with iss "bonbon-sim", sub the Bonbon id, iat, exp and a
// token_use claim that keeps a BONBON_ID_TOKEN from passing as an earn token. Bonbon's own
// claims are undocumented; the bridge must not read these.
package sim
