package browsertest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrMissing reports that chromium or chromedriver is not installed.
var ErrMissing = errors.New("run scripts/browser-deps.sh to install chromium and chromium-driver")

// Options changes how the browser starts. The zero value is a 1280×900 window and 15 s
// for page loads and scripts.
type Options struct {
	// Width and Height are the window size in pixels (default 1280×900).
	Width, Height int
	// Timeout bounds page loads and async scripts (default 15 s).
	Timeout time.Duration
	// Args are extra Chromium switches, appended to the package's own.
	Args []string
}

func (o *Options) defaults() {
	if o.Width == 0 {
		o.Width = 1280
	}
	if o.Height == 0 {
		o.Height = 900
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
}

// Browser is one headless Chromium session. Its methods are safe for concurrent use,
// but the browser does one thing at a time: commands are served in turn.
type Browser struct {
	t       testing.TB
	opts    Options
	base    string // chromedriver's session URL: http://127.0.0.1:port/session/<id>
	http    *http.Client
	driver  *exec.Cmd
	exited  chan struct{} // closed when chromedriver has exited
	logFile string

	mu     sync.Mutex
	closed bool
}

// Start launches chromedriver and a headless Chromium with a fresh profile, and registers
// their shutdown with t.Cleanup. It fails the test when either cannot start.
func Start(t testing.TB, opts Options) *Browser {
	t.Helper()
	b, err := start(t, opts)
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	return b
}

func start(t testing.TB, opts Options) (*Browser, error) {
	opts.defaults()
	chromium, driverBin, err := binaries()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	b := &Browser{t: t, opts: opts, http: &http.Client{Timeout: opts.Timeout + 30*time.Second},
		logFile: filepath.Join(dir, "chromedriver.log")}

	// Start chromedriver in its own process group: Cleanup ends the group, Chromium too.
	t.Cleanup(b.cleanup)
	driverURL, err := b.launchDriver(driverBin)
	if err != nil {
		return nil, err
	}

	// Open the session: this launches Chromium.
	id, err := b.newSession(driverURL, chromium, filepath.Join(dir, "profile"))
	if err != nil {
		return nil, err
	}
	b.base = driverURL + "/session/" + id
	return b, b.setTimeouts()
}

// binaries finds Chromium and chromedriver, or explains how to install them.
func binaries() (chromium, driver string, err error) {
	find := func(env string, names ...string) string {
		if p := os.Getenv(env); p != "" {
			return p
		}
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	chromium = find("CHROMIUM", "chromium", "chromium-browser")
	driver = find("CHROMEDRIVER", "chromedriver")
	switch {
	case chromium == "" && driver == "":
		return "", "", fmt.Errorf("chromium and chromedriver not found: %w", ErrMissing)
	case chromium == "":
		return "", "", fmt.Errorf("chromium not found: %w", ErrMissing)
	case driver == "":
		return "", "", fmt.Errorf("chromedriver not found: %w", ErrMissing)
	}
	return chromium, driver, nil
}

// freePort asks the kernel for a free loopback port. Another process could take it before
// chromedriver binds it; startDriver then fails and says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// launchDriver starts chromedriver on a free port and waits until it is ready. A port
// taken between freePort and chromedriver's bind makes it exit: it tries another.
func (b *Browser) launchDriver(bin string) (string, error) {
	var err error
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			return "", err
		}
		if err = b.startDriver(bin, port); err != nil {
			return "", err
		}
		driverURL := "http://127.0.0.1:" + strconv.Itoa(port)
		if err = b.waitReady(driverURL, 20*time.Second); err == nil {
			return driverURL, nil
		}
		b.stopDriver()
	}
	return "", err
}

func (b *Browser) startDriver(bin string, port int) error {
	cmd := exec.Command(bin, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1",
		"--log-path="+b.logFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = new(bytes.Buffer), new(bytes.Buffer)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start chromedriver: %w", err)
	}
	b.driver, b.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(b.exited)
	return nil
}

// waitReady polls chromedriver's /status until it accepts sessions.
func (b *Browser) waitReady(driverURL string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var st struct {
			Ready bool `json:"ready"`
		}
		if err := b.call(http.MethodGet, driverURL+"/status", nil, &st); err == nil && st.Ready {
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("chromedriver exited at start (log: %s)", b.logFile)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("chromedriver did not become ready within %s (log: %s)", limit, b.logFile)
}

// chromiumArgs are the switches every session gets. The network ones keep Chromium's own
// services (updates, safe browsing, metrics) from reaching any host: tests talk to
// loopback servers only.
func (b *Browser) chromiumArgs(profile string) []string {
	args := []string{
		"--headless=new",
		"--user-data-dir=" + profile,
		"--window-size=" + strconv.Itoa(b.opts.Width) + "," + strconv.Itoa(b.opts.Height),
		"--disable-gpu",
		"--disable-dev-shm-usage",
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-default-apps",
		"--disable-sync",
		"--disable-domain-reliability",
		"--disable-client-side-phishing-detection",
		"--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
		"--metrics-recording-only",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, " +
			"EXCLUDE [::1]",
		"--password-store=basic",
	}
	// Chromium refuses its sandbox as root (CI runs as root); elsewhere keep it.
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox")
	}
	return append(args, b.opts.Args...)
}

func (b *Browser) newSession(driverURL, chromium, profile string) (string, error) {
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":      "chrome",
		"pageLoadStrategy": "normal",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			"args":   b.chromiumArgs(profile),
		},
		"goog:loggingPrefs": map[string]string{"browser": "ALL"},
	}}}
	var out struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(http.MethodPost, driverURL+"/session", caps, &out); err != nil {
		return "", fmt.Errorf("start chromium: %w (log: %s)", err, b.logFile)
	}
	return out.SessionID, nil
}

func (b *Browser) setTimeouts() error {
	ms := b.opts.Timeout.Milliseconds()
	return b.cmd(http.MethodPost, "/timeouts",
		map[string]int64{"pageLoad": ms, "script": ms, "implicit": 0}, nil)
}

// Close ends the session (Chromium exits) and stops chromedriver. Cleanup calls it; a
// second call does nothing.
func (b *Browser) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var err error
	if b.base != "" && b.driver != nil {
		err = b.callLocked(http.MethodDelete, b.base, nil, nil)
	}
	b.stopDriver()
	return err
}

// stopDriver ends chromedriver's process group: SIGTERM, then SIGKILL after a grace period.
func (b *Browser) stopDriver() {
	if b.driver == nil || b.driver.Process == nil {
		return
	}
	pgid := b.driver.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-b.exited
	}
	// Chromium's helpers may outlive chromedriver for a moment; they are in the group,
	// whose id stays reserved while any of them lives.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	b.driver = nil // stopped once: the group id may be reused later
}

func (b *Browser) cleanup() {
	if b.t.Failed() && b.base != "" {
		b.saveEvidence()
	}
	if err := b.Close(); err != nil {
		b.t.Logf("browsertest: close: %v", err)
	}
}

// saveEvidence keeps what the browser showed when the test failed.
func (b *Browser) saveEvidence() {
	dir := artifactDir(b.t)
	if dir == "" {
		return
	}
	shot := filepath.Join(dir, "browser-failure.png")
	if err := b.Screenshot(shot); err == nil {
		b.t.Logf("browsertest: screenshot at failure: %s", shot)
	}
	if src, err := b.PageSource(); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "browser-failure.html"), []byte(src), 0o644)
	}
	if logs, err := b.ConsoleLogs(); err == nil {
		var buf bytes.Buffer
		for _, l := range logs {
			fmt.Fprintf(&buf, "%s %s\n", l.Level, l.Message)
		}
		_ = os.WriteFile(filepath.Join(dir, "browser-console.txt"), buf.Bytes(), 0o644)
	}
}

// artifactDir is t.ArtifactDir() when t has one (a *testing.T or *testing.B).
func artifactDir(t testing.TB) string {
	if a, ok := t.(interface{ ArtifactDir() string }); ok {
		return a.ArtifactDir()
	}
	return ""
}
