package sim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// maxOTPTries bounds wrong guesses per code; the code is burnt after that.
const maxOTPTries = 5

// otpCode is a pending one-time code for one email.
type otpCode struct {
	Code    string
	Expires time.Time
	tries   int
}

var errInvalidOTP = &apiError{status: http.StatusUnauthorized, code: "invalid_otp",
	msg: "code is wrong, used or expired"}

// otp is POST /earn/otp {"email"}: "sends" a code. Bonbon emails it; the simulator keeps
// it for GET /_sim/otp and the console.
func (s *Server) otp(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkClient(r, false); err != nil {
		return err
	}
	var req struct {
		Email string `json:"email"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	email := normalEmail(req.Email)
	if !plausibleEmail(email) {
		return badRequest("email is missing or malformed")
	}
	code, err := sixDigits()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.otps[email] = otpCode{Code: code, Expires: s.cfg.Now().Add(s.cfg.OTPTTL)}
	s.mu.Unlock()
	s.log.Info("one-time code issued")
	writeJSON(w, http.StatusOK,
		map[string]string{"message": "A one-time code was sent to your email."})
	return nil
}

// otpTokenRequest is the body of POST /earn/otp-token, per the API reference.
type otpTokenRequest struct {
	Email        string         `json:"email"`
	OTP          string         `json:"otp"`
	Reward       string         `json:"reward"`
	Preferences  map[string]any `json:"preferences"`
	LastLoginURL string         `json:"lastLoginUrl"`
	Bonbons      json.Number    `json:"bonbons"`
}

// otpToken is POST /earn/otp-token: trades a valid code for an earn token, creating the
// Bonbon account on first login (signUp), then delivers the login to the webhook.
func (s *Server) otpToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkClient(r, false); err != nil {
		return err
	}
	var req otpTokenRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	email := normalEmail(req.Email)
	if !plausibleEmail(email) || req.OTP == "" {
		return badRequest("email and otp are required")
	}
	if !s.consumeOTP(email, strings.TrimSpace(req.OTP)) {
		return errInvalidOTP
	}

	// Find or create the account; the code proved the address, so it is verified.
	id, signUp, err := s.findOrCreate(email, func() map[string]any { return newOTPUser(req) })
	if err != nil {
		return err
	}
	return s.answerLogin(w, id, signUp, "login")
}

// consumeOTP checks a code and burns it when right, or after maxOTPTries wrong guesses.
func (s *Server) consumeOTP(email, code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.otps[email]
	if !ok || s.cfg.Now().After(c.Expires) {
		delete(s.otps, email)
		return false
	}
	if !equal(code, c.Code) {
		c.tries++
		if c.tries >= maxOTPTries {
			delete(s.otps, email)
		} else {
			s.otps[email] = c
		}
		return false
	}
	delete(s.otps, email)
	return true
}

func newOTPUser(req otpTokenRequest) map[string]any {
	u := map[string]any{
		"email":          normalEmail(req.Email),
		"email_verified": true,
		"bonbons":        json.Number("0"),
		"preferences":    map[string]any{"pAds": false, "newsletter": false},
	}
	if _, err := req.Bonbons.Int64(); err == nil {
		u["bonbons"] = req.Bonbons
	}
	if req.Reward != "" {
		u["reward"] = req.Reward
	}
	if req.Preferences != nil {
		u["preferences"] = req.Preferences
	}
	if req.LastLoginURL != "" {
		u["lastLoginUrl"] = req.LastLoginURL
	}
	return u
}

// findOrCreate returns the id of the user with that email, or stores a new user built by
// fields under a fresh id (signUp true).
func (s *Server) findOrCreate(email string, fields func() map[string]any) (string, bool, error) {
	// Two first logins racing for one email must not create two accounts.
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if id, ok := s.userByEmail(email); ok {
		return id, false, nil
	}
	id, err := newUserID()
	if err != nil {
		return "", false, err
	}
	u := fields()
	u["id"] = id
	raw, err := json.Marshal(u)
	if err != nil {
		return "", false, fmt.Errorf("encode new user: %w", err)
	}
	s.PutUserAs(id, raw)
	s.log.Info("bonbon account created", "bonbon_id", id)
	return id, true, nil
}

// answerLogin issues the earn token, starts the webhook delivery and answers like
// /earn/otp-token.
func (s *Server) answerLogin(w http.ResponseWriter, id string, signUp bool, reason string) error {
	tok, err := s.IssueEarnToken(id)
	if err != nil {
		return err
	}
	s.notify(id, reason)
	writeJSON(w, http.StatusOK, map[string]any{"earnToken": tok, "signUp": signUp})
	return nil
}

// ctlOTP is GET /_sim/otp?email=: the pending code, as the email would show it.
func (s *Server) ctlOTP(w http.ResponseWriter, r *http.Request) error {
	email := normalEmail(r.URL.Query().Get("email"))
	s.mu.Lock()
	c, ok := s.otps[email]
	s.mu.Unlock()
	if !ok {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "no pending code"}
	}
	writeJSON(w, http.StatusOK,
		map[string]any{"email": email, "otp": c.Code, "expiresAt": c.Expires})
	return nil
}

// otpList returns the pending codes, for the console.
func (s *Server) otpList() map[string]otpCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]otpCode, len(s.otps))
	for k, v := range s.otps {
		out[k] = v
	}
	return out
}

func normalEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func plausibleEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	return at > 0 && at < len(e)-1 && len(e) <= 254 && !strings.ContainsAny(e, " \t\r\n<>\"")
}

func sixDigits() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("otp: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// newUserID returns an opaque decimal id, like the document's "12345" but unguessable.
func newUserID() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000_000))
	if err != nil {
		return "", fmt.Errorf("user id: %w", err)
	}
	return fmt.Sprintf("%d", 1_000_000_000_000+n.Int64()), nil
}
