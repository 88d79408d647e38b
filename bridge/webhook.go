package bridge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Bearer problems, answered 401 before any outbound call.
var (
	errNoBearer        = errors.New("missing bearer token")
	errMalformedBearer = errors.New("bearer token is not a JWT (three base64url parts)")
)

// webhook is Flow 1: Bonbon hands over an earn token; the bridge asks Bonbon who it is and
// upserts that user into Keycloak. It answers 2xx only once Keycloak holds the result.
func (s *Server) webhook(c *gin.Context) error {
	token, err := bearer(c.GetHeader("Authorization"))
	if err != nil {
		return err
	}
	// The body is not part of the contract: read (bounded) and ignore it.
	if _, err := io.Copy(io.Discard, c.Request.Body); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.WebhookTimeout)
	defer cancel()

	// Only Bonbon's answer says who the token belongs to; its claims are not trusted.
	user, err := s.cfg.Bonbon.EarnUser(ctx, token)
	if err != nil {
		return err
	}
	log := s.log.With("flow", "webhook", "bonbon_id", user.ID)

	// Turn it into the Keycloak user the publisher's mapping asks for.
	desired, err := s.cfg.Mapping.Map(user)
	if err != nil {
		return err
	}

	// Apply it: create, update, or mark the conflicting account.
	out, err := s.upsert.upsert(ctx, desired)
	if err != nil {
		return withBonbonID(err, user.ID)
	}
	log.Info("webhook applied", "status", out.Status, "user_id", out.UserID,
		"email", Email(desired.Email))
	code := http.StatusOK
	if out.Status == StatusLinkRequired {
		code = http.StatusAccepted
	}
	c.JSON(code, gin.H{"status": out.Status, "user_id": out.UserID})
	return nil
}

// bearer extracts a JWT-shaped bearer token. It does not verify it: only Bonbon can.
func bearer(header string) (string, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errNoBearer
	}
	token = strings.TrimSpace(token)
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errMalformedBearer
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, base64URLAlphabet) != "" {
			return "", errMalformedBearer
		}
	}
	return token, nil
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
