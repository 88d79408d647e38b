package browsertest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// elementKey is the W3C WebDriver key that identifies an element reference in JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// pollEvery is how often WaitFor and WaitUntil look again.
const pollEvery = 100 * time.Millisecond

// Element is a reference to an element of the current page. It goes stale when the page
// navigates away.
type Element struct {
	b        *Browser
	id       string
	selector string
}

// Navigate loads url and waits for the page's load event (Options.Timeout at most).
func (b *Browser) Navigate(url string) error {
	if err := b.cmd(http.MethodPost, "/url", map[string]string{"url": url}, nil); err != nil {
		return fmt.Errorf("navigate to %s: %w", url, err)
	}
	return nil
}

// CurrentURL is the address of the page shown.
func (b *Browser) CurrentURL() (string, error) {
	var u string
	if err := b.cmd(http.MethodGet, "/url", nil, &u); err != nil {
		return "", fmt.Errorf("current url: %w", err)
	}
	return u, nil
}

// Title is the document's title.
func (b *Browser) Title() (string, error) {
	var s string
	if err := b.cmd(http.MethodGet, "/title", nil, &s); err != nil {
		return "", fmt.Errorf("title: %w", err)
	}
	return s, nil
}

// PageSource is the current DOM serialized as HTML.
func (b *Browser) PageSource() (string, error) {
	var s string
	if err := b.cmd(http.MethodGet, "/source", nil, &s); err != nil {
		return "", fmt.Errorf("page source: %w", err)
	}
	return s, nil
}

// FindElement returns the first element matching the CSS selector, at once; the error
// matches ErrNoSuchElement when there is none.
func (b *Browser) FindElement(css string) (*Element, error) {
	var ref map[string]string
	err := b.cmd(http.MethodPost, "/element",
		map[string]string{"using": "css selector", "value": css}, &ref)
	if err != nil {
		return nil, fmt.Errorf("find %q: %w", css, err)
	}
	id := ref[elementKey]
	if id == "" {
		return nil, fmt.Errorf("find %q: answer has no element reference", css)
	}
	return &Element{b: b, id: id, selector: css}, nil
}

// WaitFor waits up to timeout for an element matching the CSS selector to exist. On time-out
// the error names the page the browser was on.
func (b *Browser) WaitFor(css string, timeout time.Duration) (*Element, error) {
	deadline := time.Now().Add(timeout)
	for {
		el, err := b.FindElement(css)
		if err == nil || !errors.Is(err, ErrNoSuchElement) {
			return el, err
		}
		if time.Now().After(deadline) {
			u, _ := b.CurrentURL()
			return nil, fmt.Errorf("wait %s for %q on %s: %w", timeout, css, u, err)
		}
		time.Sleep(pollEvery)
	}
}

// WaitUntil evaluates the JavaScript expression until it is truthy, up to timeout.
// Example: b.WaitUntil("window.signals.length > 0", 5*time.Second).
func (b *Browser) WaitUntil(expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := b.ExecuteScript("return !!("+expr+");", &ok)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			u, _ := b.CurrentURL()
			if err == nil {
				err = errors.New("still false")
			}
			return fmt.Errorf("wait %s for %s on %s: %w", timeout, expr, u, err)
		}
		time.Sleep(pollEvery)
	}
}

// Click finds the element matching the CSS selector and clicks it.
func (b *Browser) Click(css string) error {
	el, err := b.FindElement(css)
	if err != nil {
		return err
	}
	return el.Click()
}

// Type finds the element matching the CSS selector and types text into it.
func (b *Browser) Type(css, text string) error {
	el, err := b.FindElement(css)
	if err != nil {
		return err
	}
	return el.SendKeys(text)
}

// Click clicks the element's centre, as a user would (it must be visible).
func (e *Element) Click() error {
	if err := e.b.cmd(http.MethodPost, "/element/"+e.id+"/click", struct{}{}, nil); err != nil {
		return fmt.Errorf("click %q: %w", e.selector, err)
	}
	return nil
}

// SendKeys types text into the element, appending to what it holds.
func (e *Element) SendKeys(text string) error {
	err := e.b.cmd(http.MethodPost, "/element/"+e.id+"/value", map[string]string{"text": text}, nil)
	if err != nil {
		return fmt.Errorf("type into %q: %w", e.selector, err)
	}
	return nil
}

// Text is the element's rendered text.
func (e *Element) Text() (string, error) {
	var s string
	if err := e.b.cmd(http.MethodGet, "/element/"+e.id+"/text", nil, &s); err != nil {
		return "", fmt.Errorf("text of %q: %w", e.selector, err)
	}
	return s, nil
}

// ExecuteScript runs a function body in the page (use `return` to answer; arguments are
// `arguments[i]`) and decodes its result into out, which may be nil.
func (b *Browser) ExecuteScript(script string, out any, args ...any) error {
	return b.execute("/execute/sync", script, out, args)
}

// ExecuteAsyncScript runs a function body whose last argument is a callback; the value
// passed to the callback is decoded into out. Options.Timeout bounds the wait.
func (b *Browser) ExecuteAsyncScript(script string, out any, args ...any) error {
	return b.execute("/execute/async", script, out, args)
}

func (b *Browser) execute(path, script string, out any, args []any) error {
	if args == nil {
		args = []any{}
	}
	var raw json.RawMessage
	err := b.cmd(http.MethodPost, path, map[string]any{"script": script, "args": args}, &raw)
	if err != nil {
		return fmt.Errorf("script: %w", err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode script result %.200s: %w", raw, err)
	}
	return nil
}

// Screenshot saves the viewport as a PNG file at path, creating its directory.
func (b *Browser) Screenshot(path string) error {
	var b64 string
	if err := b.cmd(http.MethodGet, "/screenshot", nil, &b64); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return fmt.Errorf("decode screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return os.WriteFile(path, png, 0o644)
}

// Cookie is a cookie the browser holds for the current page's origin.
type Cookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path"`
	Domain   string `json:"domain"`
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"httpOnly"`
	SameSite string `json:"sameSite"`
	Expiry   int64  `json:"expiry,omitempty"`
}

// Cookies are the cookies visible to the current page, HttpOnly ones included.
func (b *Browser) Cookies() ([]Cookie, error) {
	var cs []Cookie
	if err := b.cmd(http.MethodGet, "/cookie", nil, &cs); err != nil {
		return nil, fmt.Errorf("cookies: %w", err)
	}
	return cs, nil
}

// LogEntry is one line of the browser's console (console.log, uncaught errors, failed
// loads).
type LogEntry struct {
	Level   string `json:"level"` // SEVERE, WARNING, INFO, DEBUG
	Message string `json:"message"`
	Source  string `json:"source"`
}

// ConsoleLogs returns the console lines logged since the previous call (chromedriver's
// log endpoint drains them).
func (b *Browser) ConsoleLogs() ([]LogEntry, error) {
	var ls []LogEntry
	err := b.cmd(http.MethodPost, "/se/log", map[string]string{"type": "browser"}, &ls)
	if err != nil {
		return nil, fmt.Errorf("console logs: %w", err)
	}
	return ls, nil
}
