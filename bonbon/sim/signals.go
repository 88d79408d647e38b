package sim

import (
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxSignals bounds the signal log; older entries are dropped.
const maxSignals = 1000

// Signal is one bonbontag("signal", name, token) call that bonbon.js reported.
type Signal struct {
	At       time.Time `json:"at"`
	Command  string    `json:"command"`
	Name     string    `json:"name"`
	Token    string    `json:"token"`
	ClientID string    `json:"clientId"`
	Page     string    `json:"page"`
	// Valid tells whether Token is a BONBON_ID_TOKEN from this simulator's POST /jwt,
	// unexpired; Sub and BonbonID are its claims then.
	Valid    bool   `json:"valid"`
	Sub      string `json:"sub,omitempty"`
	BonbonID string `json:"bonbonId,omitempty"`
}

// ctlPostSignal is POST /_sim/signals, called by bonbon.js for each signal command.
func (s *Server) ctlPostSignal(w http.ResponseWriter, r *http.Request) error {
	var sig Signal
	if err := readJSON(r, &sig); err != nil {
		return err
	}
	sig.At = s.cfg.Now()
	sig.Valid, sig.Sub, sig.BonbonID = false, "", ""
	if claims, err := s.verifyIDToken(sig.Token); err == nil {
		sig.Valid, sig.Sub, sig.BonbonID = true, claims.Subject, claims.BonbonID
	}
	s.mu.Lock()
	s.signals = append(s.signals, sig)
	if len(s.signals) > maxSignals {
		s.signals = s.signals[len(s.signals)-maxSignals:]
	}
	s.mu.Unlock()
	s.log.Info("signal received", "name", sig.Name, "valid", sig.Valid, "sub", sig.Sub)
	writeJSON(w, http.StatusOK, map[string]bool{"valid": sig.Valid})
	return nil
}

// ctlSignals is GET /_sim/signals: every signal received, oldest first.
func (s *Server) ctlSignals(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, s.Signals())
	return nil
}

// Signals returns a copy of the signals received, oldest first.
func (s *Server) Signals() []Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Signal{}, s.signals...)
}

// verifyIDToken checks a BONBON_ID_TOKEN this simulator issued.
func (s *Server) verifyIDToken(raw string) (*idClaims, error) {
	var claims idClaims
	_, err := jwt.ParseWithClaims(raw, &claims,
		func(*jwt.Token) (any, error) { return &s.cfg.Key.PublicKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(s.cfg.ClientID),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	if err != nil {
		return nil, err
	}
	if claims.TokenUse != useID || claims.ExpiresAt == nil {
		return nil, errBadToken
	}
	return &claims, nil
}
