package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
)

// asymmetricAlgs are the signature algorithms accepted. HMAC is left out on purpose: a
// verifier that accepts HS256 can be fooled by a token "signed" with the public key as
// the secret. go-oidc refuses "none" whatever this list says.
var asymmetricAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA,
}

// keycloakAccessType is the typ claim of Keycloak access tokens; ID tokens say "ID" and
// refresh tokens "Refresh".
const keycloakAccessType = "Bearer"

// accessVerifier checks Keycloak access tokens for Flow 3. Safe for concurrent use.
type accessVerifier struct {
	oidc      *oidc.IDTokenVerifier
	clients   []string
	audiences []string
}

// newAccessVerifier makes no outbound call: keys are fetched at the first verification.
func newAccessVerifier(cfg IDTokenConfig) *accessVerifier {
	// The key set keeps this context for every later fetch: it must outlive requests.
	ctx := oidc.ClientContext(context.Background(), cfg.HTTPClient)
	provider := (&oidc.ProviderConfig{
		IssuerURL: cfg.Issuer, JWKSURL: cfg.KeysURL, Algorithms: asymmetricAlgs,
	}).NewProvider(ctx)
	return &accessVerifier{
		// The client check is done below against a list (azp), which go-oidc cannot do.
		oidc: provider.Verifier(&oidc.Config{
			SkipClientIDCheck: true, SupportedSigningAlgs: asymmetricAlgs, Now: cfg.Now,
		}),
		clients:   cfg.Clients,
		audiences: cfg.Audiences,
	}
}

// accessToken is what Flow 3 uses of a verified access token.
type accessToken struct {
	Subject       string
	Expiry        time.Time
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
}

// accessClaims are the claims go-oidc leaves to the caller.
type accessClaims struct {
	Type            string `json:"typ"`
	AuthorizedParty string `json:"azp"`
	Email           string `json:"email"`
	EmailVerified   bool   `json:"email_verified"`
	GivenName       string `json:"given_name"`
	FamilyName      string `json:"family_name"`
}

// verify checks signature, issuer and expiry (go-oidc), then the token type, the client
// and the audience. Every failure is an errInvalidAccessToken (401), except a valid token
// without an email, which is errInsufficientScope (403).
func (v *accessVerifier) verify(ctx context.Context, raw string) (accessToken, error) {
	// Signature with a realm key, issuer, expiry.
	tok, err := v.oidc.Verify(ctx, raw)
	if err != nil {
		return accessToken{}, invalidAccessToken(oidcReason(err), err)
	}

	// Keycloak-specific checks go-oidc does not make.
	var c accessClaims
	if err := tok.Claims(&c); err != nil {
		return accessToken{}, invalidAccessToken("unreadable claims", err)
	}
	if err := v.checkClaims(tok, c); err != nil {
		return accessToken{}, err
	}

	// Bonbon needs an email to mint a token.
	if c.Email == "" {
		return accessToken{}, errInsufficientScope
	}
	return accessToken{
		Subject: tok.Subject, Expiry: tok.Expiry, Email: c.Email,
		EmailVerified: c.EmailVerified, GivenName: c.GivenName, FamilyName: c.FamilyName,
	}, nil
}

func (v *accessVerifier) checkClaims(tok *oidc.IDToken, c accessClaims) error {
	switch {
	case c.Type != keycloakAccessType:
		return invalidAccessToken("not an access token", fmt.Errorf("typ %q", c.Type))
	case tok.Subject == "":
		return invalidAccessToken("no subject", errors.New("sub is empty"))
	case !slices.Contains(v.clients, c.AuthorizedParty):
		return invalidAccessToken("client not allowed", fmt.Errorf("azp %q", c.AuthorizedParty))
	case len(v.audiences) > 0 && !slices.ContainsFunc(tok.Audience, func(a string) bool {
		return slices.Contains(v.audiences, a)
	}):
		return invalidAccessToken("audience not allowed", fmt.Errorf("aud %q", tok.Audience))
	}
	return nil
}

// oidcReason names a go-oidc failure for the client without echoing the library's text.
func oidcReason(err error) string {
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return "expired"
	case strings.Contains(err.Error(), "issued by a different provider"):
		return "issued by another realm or issuer"
	case strings.Contains(err.Error(), "fetching keys"):
		return "the realm's keys could not be fetched"
	}
	return "signature or format not valid"
}

// cacheKey identifies the user and every claim sent to Bonbon, so a changed email or
// name gets a new token instead of a cached one. It is a hash: keys hold no personal data.
func (t accessToken) cacheKey() string {
	h := sha256.New()
	for _, s := range []string{t.Subject, t.Email, t.GivenName, t.FamilyName} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if t.EmailVerified {
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// request is Bonbon's /v1/jwt body for the user; bonbonID is "" when not linked.
func (t accessToken) request(bonbonID string) bonbon.IDTokenRequest {
	return bonbon.IDTokenRequest{
		Sub: t.Subject, Email: t.Email, EmailVerified: t.EmailVerified,
		FirstName: t.GivenName, LastName: t.FamilyName, BonbonID: bonbonID,
	}
}

// accessTokenFrom reads "Authorization: Bearer <token>".
func accessTokenFrom(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", errNoAccessToken
	}
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.Count(tok, ".") != 2 {
		return "", invalidAccessToken("not a bearer JWT", errors.New("malformed Authorization"))
	}
	return tok, nil
}
