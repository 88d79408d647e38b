package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoID means a user given to PutUser is not a JSON object with a non-empty string id.
var ErrNoID = errors.New("sim: user is not an object with a string id")

// PutUser inserts or replaces a user by its id. raw is kept as given and served verbatim
// by GET /earn/user, so a test can serve odd payloads (unknown fields, nulls, duplicate
// keys). Errors: ErrNoID.
func (s *Server) PutUser(raw json.RawMessage) error {
	id, err := userID(raw)
	if err != nil {
		return err
	}
	s.PutUserAs(id, raw)
	return nil
}

// PutUserAs stores raw under id without looking at it, for payloads PutUser refuses
// (no id, a numeric id, not JSON at all).
func (s *Server) PutUserAs(id string, raw json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = slices.Clone(raw)
}

// DeleteUser removes a user; GET /earn/user then answers 404 for its tokens.
func (s *Server) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
}

// user returns the raw user stored under id.
func (s *Server) user(id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, ok := s.users[id]
	return raw, ok
}

func userID(raw json.RawMessage) (string, error) {
	var obj struct {
		ID *string `json:"id"`
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return "", ErrNoID
	}
	if err := json.Unmarshal(trimmed, &obj); err != nil || obj.ID == nil || *obj.ID == "" {
		return "", ErrNoID
	}
	return *obj.ID, nil
}

// userByEmail finds a user by email, case-insensitively, for the login flows.
func (s *Server) userByEmail(email string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, raw := range s.users {
		var u struct {
			Email string `json:"email"`
		}
		if json.Unmarshal(raw, &u) == nil && strings.EqualFold(u.Email, email) {
			return id, true
		}
	}
	return "", false
}

// updateUser applies change to the user's decoded object and stores the result.
func (s *Server) updateUser(id string, change func(map[string]any)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, ok := s.users[id]
	if !ok {
		return errNotFound
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keeps "bonbons": 100 as 100, not 1e+02
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return fmt.Errorf("user %s is not a JSON object", id)
	}
	change(obj)
	out, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encode user %s: %w", id, err)
	}
	s.users[id] = out
	return nil
}

// storedUser is a user as kept: the id it is stored under and its raw payload.
type storedUser struct {
	ID  string
	Raw json.RawMessage
}

// userList returns the users sorted by id, for the console and GET /_sim/users.
func (s *Server) userList() []storedUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storedUser, 0, len(s.users))
	for id, raw := range s.users {
		out = append(out, storedUser{ID: id, Raw: raw})
	}
	slices.SortFunc(out, func(a, b storedUser) int { return strings.Compare(a.ID, b.ID) })
	return out
}
