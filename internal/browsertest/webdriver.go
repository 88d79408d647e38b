package browsertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrNoSuchElement reports that no element matched a selector (WebDriver "no such
// element"). Errors from FindElement and WaitFor match it with errors.Is.
var ErrNoSuchElement = errors.New("no such element")

// Error is an error answer of the WebDriver server.
type Error struct {
	Status  int    // HTTP status of the answer
	Code    string // WebDriver error code, e.g. "no such element", "javascript error"
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("webdriver %d %s: %s", e.Status, e.Code, e.Message)
}

// Is makes a "no such element" answer match ErrNoSuchElement.
func (e *Error) Is(target error) bool {
	return target == ErrNoSuchElement && e.Code == "no such element"
}

// cmd sends a command to the session: path is relative to /session/<id>.
func (b *Browser) cmd(method, path string, in, out any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("browsertest: browser is closed")
	}
	return b.callLocked(method, b.base+path, in, out)
}

// call sends a request outside any session (status, new session).
func (b *Browser) call(method, url string, in, out any) error {
	return b.callLocked(method, url, in, out)
}

// callLocked does one WebDriver round trip: JSON in, the answer's "value" decoded into out.
func (b *Browser) callLocked(method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, url, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("webdriver %s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read webdriver answer: %w", err)
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("webdriver answer %d is not JSON: %.200s", resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		return decodeError(resp.StatusCode, env.Value)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Value, out); err != nil {
		return fmt.Errorf("decode webdriver value: %w", err)
	}
	return nil
}

func decodeError(status int, value json.RawMessage) error {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(value, &e)
	return &Error{Status: status, Code: e.Error, Message: e.Message}
}
