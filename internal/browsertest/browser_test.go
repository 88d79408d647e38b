package browsertest

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const testPage = `<!doctype html>
<html><head><title>harness page</title></head><body>
<form id="f" action="/submitted" method="get">
  <input id="name" name="name">
  <button id="go" type="submit">Go</button>
</form>
<button id="later" onclick="setTimeout(function () {
  var p = document.createElement('p'); p.id = 'late'; p.textContent = 'arrived';
  document.body.appendChild(p); }, 300)">Later</button>
<script>console.error("harness-console-line");</script>
</body></html>`

func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s-123", HttpOnly: true, Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(testPage))
	})
	mux.HandleFunc("/submitted", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<p id="hello">hello ` + r.URL.Query().Get("name") + `</p>`))
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs
}

// TestBrowser drives one browser through everything the flows use; one browser keeps
// the test under a few seconds.
func TestBrowser(t *testing.T) {
	hs := testServer(t)
	b := Start(t, Options{Timeout: 10 * time.Second})
	must(t, b.Navigate(hs.URL+"/"))

	t.Run("title and source", func(t *testing.T) {
		title, err := b.Title()
		if err != nil || title != "harness page" {
			t.Errorf("Title() = %q, %v", title, err)
		}
		src, err := b.PageSource()
		if err != nil || !strings.Contains(src, `id="later"`) {
			t.Errorf("PageSource() lacks the page: %v", err)
		}
	})
	t.Run("cookies include HttpOnly", func(t *testing.T) {
		cs, err := b.Cookies()
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Name != "sid" || cs[0].Value != "s-123" || !cs[0].HTTPOnly {
			t.Errorf("Cookies() = %+v", cs)
		}
	})
	t.Run("console", func(t *testing.T) {
		logs, err := b.ConsoleLogs()
		if err != nil {
			t.Fatal(err)
		}
		if !containsLog(logs, "harness-console-line") {
			t.Errorf("ConsoleLogs() = %+v", logs)
		}
	})
	t.Run("scripts", func(t *testing.T) {
		var sum int
		must(t, b.ExecuteScript("return arguments[0] + arguments[1];", &sum, 2, 3))
		if sum != 5 {
			t.Errorf("sync script = %d, want 5", sum)
		}
		var got string
		must(t, b.ExecuteAsyncScript(
			"var done = arguments[arguments.length-1];"+
				"setTimeout(function(){ done('later'); }, 50);",
			&got))
		if got != "later" {
			t.Errorf("async script = %q", got)
		}
		if err := b.ExecuteScript("throw new Error('boom')", nil); err == nil {
			t.Error("a throwing script reported no error")
		}
	})
	t.Run("missing element", func(t *testing.T) {
		_, err := b.FindElement("#nope")
		if !errors.Is(err, ErrNoSuchElement) {
			t.Errorf("FindElement(#nope) error = %v, want ErrNoSuchElement", err)
		}
		_, err = b.WaitFor("#nope", 300*time.Millisecond)
		if !errors.Is(err, ErrNoSuchElement) || !strings.Contains(err.Error(), hs.URL) {
			t.Errorf("WaitFor(#nope) error = %v", err)
		}
	})
	t.Run("wait for late element", func(t *testing.T) {
		must(t, b.Click("#later"))
		el, err := b.WaitFor("#late", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if txt, err := el.Text(); err != nil || txt != "arrived" {
			t.Errorf("Text() = %q, %v", txt, err)
		}
		must(t, b.WaitUntil("document.getElementById('late') !== null", time.Second))
	})
	t.Run("type, submit, navigate", func(t *testing.T) {
		must(t, b.Type("#name", "alyssa"))
		must(t, b.Click("#go"))
		el, err := b.WaitFor("#hello", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if txt, _ := el.Text(); txt != "hello alyssa" {
			t.Errorf("after submit: %q", txt)
		}
		u, err := b.CurrentURL()
		if err != nil || u != hs.URL+"/submitted?name=alyssa" {
			t.Errorf("CurrentURL() = %q, %v", u, err)
		}
	})
	t.Run("screenshot", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shots", "page.png")
		must(t, b.Screenshot(path))
		png, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("screenshot is not a PNG: %v", err)
		}
	})
	t.Run("close", func(t *testing.T) {
		must(t, b.Close())
		must(t, b.Close())
		if err := b.Navigate(hs.URL); err == nil {
			t.Error("Navigate after Close succeeded")
		}
	})
}

func containsLog(logs []LogEntry, s string) bool {
	for _, l := range logs {
		if strings.Contains(l.Message, s) {
			return true
		}
	}
	return false
}

func TestMissingBinaries(t *testing.T) {
	tests := []struct {
		name          string
		chromium, drv string
		wantInMessage string
	}{
		{"both", "", "", "chromium and chromedriver not found"},
		{"driver", "/usr/bin/true", "", "chromedriver not found"},
		{"chromium", "", "/usr/bin/true", "chromium not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv("CHROMIUM", tt.chromium)
			t.Setenv("CHROMEDRIVER", tt.drv)
			_, _, err := binaries()
			if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), tt.wantInMessage) ||
				!strings.Contains(err.Error(), "scripts/browser-deps.sh") {
				t.Errorf("binaries() error = %v", err)
			}
		})
	}
}

// TestNoStrayProcesses checks that Cleanup ends chromedriver and Chromium.
func TestNoStrayProcesses(t *testing.T) {
	var pgid int
	t.Run("browser", func(t *testing.T) {
		b := Start(t, Options{})
		pgid = b.driver.Process.Pid
	})
	if alive := groupAlive(pgid); alive {
		t.Errorf("process group %d still has processes after Cleanup", pgid)
	}
}

// groupAlive reports whether any process of the group is left after a short grace period.
func groupAlive(pgid int) bool {
	for range 20 {
		if syscall.Kill(-pgid, 0) != nil {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
