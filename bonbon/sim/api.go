package sim

import (
	"net/http"
)

// earnUser is GET /earn/user: credentials, then the earn token, then the stored user,
// answered verbatim.
func (s *Server) earnUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkClient(r, true); err != nil {
		return err
	}
	id, err := s.verifyEarnToken(bearer(r))
	if err != nil {
		s.log.Info("earn token refused", "reason", err)
		return errInvalidToken
	}
	raw, ok := s.user(id)
	if !ok {
		return errNotFound
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(raw)
	return nil
}

// jwtRequest is the assumed body of POST /jwt.
type jwtRequest struct {
	Sub           string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	BonbonID      string `json:"bonbon_id"`
}

// jwt is POST /jwt: a BONBON_ID_TOKEN for the publisher's logged-in user.
func (s *Server) jwt(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkClient(r, true); err != nil {
		return err
	}
	var req jwtRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Sub == "" || req.Email == "" {
		return badRequest("sub and email are required")
	}
	claims := idClaims{
		RegisteredClaims: s.registered(req.Sub, s.cfg.Now(), IDTokenTTL),
		TokenUse:         useID,
		Email:            req.Email,
		EmailVerified:    req.EmailVerified,
		FirstName:        req.FirstName,
		LastName:         req.LastName,
		BonbonID:         req.BonbonID,
	}
	claims.Audience = []string{s.cfg.ClientID}
	tok, err := s.sign(claims)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token": tok, "expires_in": int(IDTokenTTL.Seconds()),
	})
	return nil
}
