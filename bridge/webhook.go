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
	// Two Authorization headers are ambiguous: a proxy may check one, the bridge use the other.
	if len(c.Request.Header.Values("Authorization")) > 1 {
		return errMalformedBearer
	}
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

	// One webhook per Bonbon id at a time in this process: concurrent PUTs of one user
	// can duplicate attribute values in Keycloak (keylock.go).
	unlock, err := s.ids.lock(ctx, user.ID)
	if err != nil {
		return withBonbonID(err, user.ID)
	}
	defer unlock()

	// Turn it into the Keycloak user the realm's mapping asks for, and apply it: create,
	// update, or mark the conflicting account (mapping_apply.go).
	desired, out, err := s.upsertMapped(ctx, user)
	if err != nil {
		return err
	}
	log.Info("webhook applied", "status", out.Status, "user_id", out.UserID,
		"email", Email(desired.Email))
	c.Set(outcomeKey, out.Status)
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
	if len(token) > maxBearerLen {
		return "", errMalformedBearer // refused before it is forwarded to Bonbon
	}
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

// maxBearerLen bounds the earn token the bridge forwards to Bonbon: a JWT of a few claims
// is well under 2 KiB, and a 1 MiB header would otherwise be copied into every retry.
const maxBearerLen = 8 << 10

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
