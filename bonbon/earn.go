package bonbon

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// EarnUser asks Bonbon who the earn token belongs to: GET {BaseURL}/earn/user with the
// token as bearer. The answer is the only thing that makes a token trustworthy.
//
// Errors: ErrInvalidInput for an empty or malformed token (no request is made);
// *APIError for a non-2xx answer (401: token invalid or expired, 403: client id or
// secret wrong, 404: user gone); ErrUnavailable; ErrBadPayload from DecodeUser.
func (c *Client) EarnUser(ctx context.Context, earnToken string) (User, error) {
	if !validToken(earnToken) {
		return User{}, fmt.Errorf("earn user: %w: empty or malformed earn token", ErrInvalidInput)
	}
	body, err := c.do(ctx, request{method: http.MethodGet, path: "/earn/user", bearer: earnToken})
	if err != nil {
		return User{}, fmt.Errorf("earn user: %w", err)
	}
	u, err := DecodeUser(body)
	if err != nil {
		return User{}, fmt.Errorf("earn user: %w", err)
	}
	return u, nil
}

// validToken accepts what can travel in an Authorization header as one bearer value.
func validToken(tok string) bool {
	return tok != "" && len(tok) <= 16<<10 && validHeaderValue(tok) &&
		!strings.ContainsAny(tok, " \t")
}
