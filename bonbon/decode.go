package bonbon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxBodySize bounds every body read from Bonbon and every payload DecodeUser accepts.
const MaxBodySize = 1 << 20

// maxDepth bounds nesting: a user profile is a few levels deep, and a megabyte of "[[[["
// would otherwise cost a deep recursion.
const maxDepth = 32

// maxNumberLen bounds the canonical text of one number, so that "1e999999999" in a small
// payload cannot make DecodeUser allocate a gigabyte of zeros.
const maxNumberLen = 1024

// DecodeUser parses the answer of GET /earn/user.
//
// The body must be one JSON object in valid UTF-8 of at most MaxBodySize bytes, with no
// duplicate key at any level (a duplicate makes the payload ambiguous: which value would
// Bonbon mean?) and an "id" that is a JSON string holding more than white space. Unknown fields are kept in
// Fields; any field but id may be missing or null. email, first_name and last_name must be
// strings when present and not null; another type is ErrBadPayload rather than a silently
// empty value, since a mapping may depend on them. email_verified is true only for the
// literal true; any other value is false, not an error.
//
// Objects and arrays nest at most 32 levels deep, and a number's plain decimal form is at
// most 1024 characters; beyond either the payload is ErrBadPayload.
//
// Fields holds every non-null leaf under its dotted path; an array is one leaf holding its
// compact JSON text. Two paths that collide ({"a.b": 1, "a": {"b": 2}}) are ErrBadPayload.
// Every error wraps ErrBadPayload.
func DecodeUser(data []byte) (User, error) {
	u, err := decodeUser(data)
	if err != nil {
		return User{}, fmt.Errorf("decode user: %w: %w", ErrBadPayload, err)
	}
	return u, nil
}

func decodeUser(data []byte) (User, error) {
	// Check size and shape before building anything.
	if len(data) > MaxBodySize {
		return User{}, fmt.Errorf("body exceeds %d bytes", MaxBodySize)
	}
	// JSON text is UTF-8 (RFC 8259); encoding/json would quietly turn bad bytes into
	// U+FFFD, storing a name Bonbon never sent.
	if !utf8.Valid(data) {
		return User{}, errors.New("body is not valid UTF-8")
	}
	if err := checkDuplicates(data); err != nil {
		return User{}, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return User{}, errors.New("body is not a JSON object")
	}

	// The id is the one field the contract guarantees.
	id, err := stringField(top, "id")
	if err != nil {
		return User{}, err
	}
	if strings.TrimSpace(id) == "" {
		return User{}, errors.New(`"id" is missing, null or empty`)
	}

	// Typed fields, then every leaf under its path.
	u := User{ID: id, Fields: map[string]string{}}
	for name, dst := range map[string]*string{
		"email": &u.Email, "first_name": &u.FirstName, "last_name": &u.LastName,
	} {
		if *dst, err = stringField(top, name); err != nil {
			return User{}, err
		}
	}
	u.EmailVerified = bytes.Equal(bytes.TrimSpace(top["email_verified"]), []byte("true"))
	if err := flatten("", top, u.Fields); err != nil {
		return User{}, err
	}
	return u, nil
}

// stringField returns the string at name, "" when missing or null, and an error for any
// other JSON type.
func stringField(obj map[string]json.RawMessage, name string) (string, error) {
	raw, ok := obj[name]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q is not a string", name)
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// checkDuplicates walks the whole document token by token and fails on a duplicate key
// in any object, or on anything after the first value. encoding/json alone would keep
// the last duplicate silently.
func checkDuplicates(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkValue(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

func walkValue(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if depth >= maxDepth && (tok == json.Delim('{') || tok == json.Delim('[')) {
		return fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, depth+1)
	case json.Delim('['):
		for dec.More() {
			if err := walkValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // the closing bracket
		return err
	}
	return nil
}

func walkObject(dec *json.Decoder, depth int) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if err := walkValue(dec, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing brace
	return err
}

// flatten stores every non-null leaf of obj in out under prefix + its dotted path.
func flatten(prefix string, obj map[string]json.RawMessage, out map[string]string) error {
	for key, raw := range obj {
		path := prefix + key
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || isNull(raw) {
			continue
		}
		if raw[0] == '{' {
			var child map[string]json.RawMessage
			if err := json.Unmarshal(raw, &child); err != nil {
				return fmt.Errorf("%q: %w", path, err)
			}
			if err := flatten(path+".", child, out); err != nil {
				return err
			}
			continue
		}
		val, err := leafText(raw)
		if err != nil {
			return fmt.Errorf("%q: %w", path, err)
		}
		if _, dup := out[path]; dup {
			return fmt.Errorf("two fields map to the path %q", path)
		}
		out[path] = val
	}
	return nil
}

// leafText turns one JSON scalar or array into its canonical text.
func leafText(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case 't', 'f':
		return string(raw), nil
	case '[':
		var buf bytes.Buffer
		err := json.Compact(&buf, raw)
		return buf.String(), err
	}
	return canonicalNumber(string(raw))
}
