package sim

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"time"
)

var consolePage = template.Must(template.New("console.html").
	Funcs(template.FuncMap{"short": shorten, "clock": timeOfDay}).
	ParseFS(static, "static/console.html"))

// timeOfDay shows a time of day in UTC, which is all a console reader needs.
func timeOfDay(t time.Time) string { return t.UTC().Format("15:04:05") }

// shorten cuts a token for display: the console is no place for whole bearer tokens.
func shorten(s string) string {
	if len(s) <= 24 {
		return s
	}
	return s[:20] + "…"
}

// consoleUser is one row of the console's user table.
type consoleUser struct {
	ID, Email, Raw   string
	PAds, Newsletter bool
}

// consoleOTP is one pending code.
type consoleOTP struct {
	Email, Code string
	Expires     time.Time
}

// console is GET /_sim/console: users (with a preference editor that triggers the
// webhook), pending codes, signals and deliveries.
func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	data := struct {
		ClientID, WebhookURL string
		Users                []consoleUser
		OTPs                 []consoleOTP
		Signals              []Signal
		Deliveries           []Delivery
	}{
		ClientID: s.cfg.ClientID, WebhookURL: s.cfg.WebhookURL,
		Users: s.consoleUsers(), OTPs: s.consoleOTPs(),
		Signals: s.Signals(), Deliveries: s.Deliveries(),
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := consolePage.Execute(w, data); err != nil {
		s.log.Error("render console", "err", err)
	}
}

func (s *Server) consoleUsers() []consoleUser {
	var out []consoleUser
	for _, su := range s.userList() {
		var u struct {
			Email       any `json:"email"`
			Preferences struct {
				PAds       bool `json:"pAds"`
				Newsletter bool `json:"newsletter"`
			} `json:"preferences"`
		}
		_ = json.Unmarshal(su.Raw, &u) // an odd payload still gets a row with its raw text
		email, _ := u.Email.(string)
		out = append(out, consoleUser{ID: su.ID, Email: email, Raw: string(su.Raw),
			PAds: u.Preferences.PAds, Newsletter: u.Preferences.Newsletter})
	}
	return out
}

func (s *Server) consoleOTPs() []consoleOTP {
	var out []consoleOTP
	for email, c := range s.otpList() {
		out = append(out, consoleOTP{Email: email, Code: c.Code, Expires: c.Expires})
	}
	slices.SortFunc(out, func(a, b consoleOTP) int { return a.Expires.Compare(b.Expires) })
	return out
}
