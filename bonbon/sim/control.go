package sim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// ctlPutUser is POST /_sim/users: the body is a raw user, stored like PutUser. With
// ?notify=1 the change is also delivered to the webhook, as a profile change would be.
func (s *Server) ctlPutUser(w http.ResponseWriter, r *http.Request) error {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return badRequest("body too large or unreadable")
	}
	id, err := userID(raw)
	if err != nil {
		return badRequest(err.Error())
	}
	s.PutUserAs(id, raw)
	if r.URL.Query().Get("notify") == "1" {
		s.notify(id, "profile")
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}

// ctlUsers is GET /_sim/users: every stored user, sorted by id. A stored payload that is
// not valid JSON is shown as a JSON string.
func (s *Server) ctlUsers(w http.ResponseWriter, _ *http.Request) error {
	var users []json.RawMessage
	for _, u := range s.userList() {
		raw := u.Raw
		if !json.Valid(raw) {
			raw, _ = json.Marshal(string(raw))
		}
		users = append(users, raw)
	}
	writeJSON(w, http.StatusOK, users)
	return nil
}

// ctlEarnToken is POST /_sim/earn-token {"id"}: an earn token for that Bonbon id.
func (s *Server) ctlEarnToken(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID string `json:"id"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.ID == "" {
		return badRequest("id is required")
	}
	tok, err := s.IssueEarnToken(req.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"earnToken": tok})
	return nil
}

// ctlDeliver is POST /_sim/deliver {"id","url"}: one webhook delivery, answering the
// status the webhook gave. url defaults to Config.WebhookURL.
func (s *Server) ctlDeliver(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.URL == "" {
		req.URL = s.cfg.WebhookURL
	}
	if req.ID == "" || req.URL == "" {
		return badRequest("id and url are required")
	}
	status, err := s.Deliver(r.Context(), req.URL, req.ID)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]any{"status": status, "error": err.Error()})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]int{"status": status})
	return nil
}

// ctlDeliveries is GET /_sim/deliveries: the delivery log, oldest first.
func (s *Server) ctlDeliveries(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, s.Deliveries())
	return nil
}

// ctlHits is GET /_sim/hits: requests per path (without /v1).
func (s *Server) ctlHits(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, s.hitCounts())
	return nil
}

// ctlPreferences is POST /_sim/preferences {"id", "preferences": {...}}: merges the
// given preferences into the user, as a user changing them at Bonbon would, then
// delivers the change to the webhook.
func (s *Server) ctlPreferences(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID          string         `json:"id"`
		Preferences map[string]any `json:"preferences"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.ID == "" || len(req.Preferences) == 0 {
		return badRequest("id and preferences are required")
	}
	err := s.updateUser(req.ID, func(u map[string]any) {
		prefs, _ := u["preferences"].(map[string]any)
		if prefs == nil {
			prefs = map[string]any{}
		}
		for k, v := range req.Preferences {
			prefs[k] = v
		}
		u["preferences"] = prefs
	})
	if errors.Is(err, errNotFound) {
		return errNotFound
	}
	if err != nil {
		return badRequest(err.Error())
	}
	s.notify(req.ID, "preferences")
	raw, _ := s.user(req.ID)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(raw)
	return nil
}
