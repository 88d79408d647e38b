// Package kcdist runs the Keycloak server distribution on this machine, in dev mode with an
// in-memory database, for the demo and the integration tests. It is not for production.
package kcdist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// Options says which distribution to start and how. Zero values get defaults in Start.
type Options struct {
	// Home is the unpacked distribution (holds bin/kc.sh). Required.
	Home string
	// Version is the distribution's Keycloak version; default: read from its version.txt.
	// It decides the start options (keycloak.CapabilitiesOf), e.g. no management port on 24.
	Version string
	// JavaHome overrides the JDK; default: a JDK the version supports (JavaHomeFor), else
	// whatever `java` is on the PATH.
	JavaHome string
	// HTTPPort and ManagementPort default to free loopback ports. ManagementPort is unused
	// on Keycloak 24, which serves health on HTTPPort.
	HTTPPort, ManagementPort int
	// AdminUser and AdminPassword bootstrap the master realm's admin (default admin/admin).
	AdminUser, AdminPassword string
	// LogFile receives Keycloak's output; default a file beside the distribution.
	LogFile string
	// Progress, when set, is told every few seconds how long Keycloak has been starting.
	Progress func(elapsed time.Duration)
	// StartupTimeout bounds the wait for /health/ready (default 4 minutes).
	StartupTimeout time.Duration
	// DataDir, when set, keeps the database in an H2 file under this directory instead of
	// in memory, so a Keycloak stopped and started again with the same DataDir and ports
	// keeps its realms, users and signing keys (the restart tests need that). The
	// directory must exist. Default "": in memory, lost on Stop.
	DataDir string
}

// Server is a running distribution. Stop it when done.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:18080 (also the hostname Keycloak uses in
	// issuers, so tokens carry the same issuer whichever client asks).
	URL string
	// ManagementURL is the management interface (25+); on 24 it is URL, which serves health.
	ManagementURL string
	// Version is the Keycloak version started; JavaHome the JDK it runs on ("" = PATH).
	Version, JavaHome string
	AdminUser         string
	AdminPassword     string
	LogFile           string
	StartupElapsed    time.Duration

	cmd      *exec.Cmd
	done     chan struct{}
	stopOnce sync.Once
	waitErr  error
}

// Start launches Keycloak and waits until it reports ready. On any failure it stops what it
// started and returns an error that includes the end of Keycloak's log.
func Start(ctx context.Context, o Options) (*Server, error) {
	caps, err := o.defaults()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(o.LogFile)
	if err != nil {
		return nil, fmt.Errorf("create keycloak log: %w", err)
	}
	defer logf.Close()

	s := &Server{
		URL:           "http://127.0.0.1:" + strconv.Itoa(o.HTTPPort),
		AdminUser:     o.AdminUser,
		AdminPassword: o.AdminPassword,
		LogFile:       o.LogFile,
		Version:       o.Version,
		JavaHome:      o.JavaHome,
		done:          make(chan struct{}),
	}
	launch := LaunchFor(caps, "127.0.0.1", o.HTTPPort, o.ManagementPort, s.URL,
		o.AdminUser, o.AdminPassword)
	s.ManagementURL = strings.TrimSuffix(launch.HealthURL, "/health/ready")
	args := append([]string{"start-dev", "--db=dev-mem"}, launch.Args...)
	args = append(args, dbFile(o.DataDir)...)
	s.cmd = exec.Command(filepath.Join(o.Home, "bin", "kc.sh"), args...)
	s.cmd.Env = os.Environ()
	for k, v := range launch.Env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	if o.JavaHome != "" {
		s.cmd.Env = append(s.cmd.Env, "JAVA_HOME="+o.JavaHome)
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group, so Stop reaches the JVM that kc.sh launches.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start keycloak: %w", err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.done) }()

	began := time.Now()
	if err := s.waitReady(ctx, o); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("%w\n--- end of %s ---\n%s", err, o.LogFile, tail(o.LogFile, 30))
	}
	s.StartupElapsed = time.Since(began)
	return s, nil
}

// dbFile points the database at a file under dataDir; nothing for the in-memory default.
//
// Why --db-url and not --db=dev-file: db is a build-time option, so switching it makes
// kc.sh re-augment the shared distribution (rewriting lib/quarkus) under every other
// Keycloak started from the same Home; db-url is a runtime option over the same H2 driver.
func dbFile(dataDir string) []string {
	if dataDir == "" {
		return nil
	}
	return []string{"--db-url=jdbc:h2:file:" + filepath.Join(dataDir, "keycloakdb") +
		";NON_KEYWORDS=VALUE"}
}

func (s *Server) waitReady(ctx context.Context, o Options) error {
	ctx, cancel := context.WithTimeout(ctx, o.StartupTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	began := time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastReport := began
	for {
		if ready(ctx, client, s.ManagementURL+"/health/ready") {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("keycloak exited during start-up: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("keycloak not ready after %s: %w",
				time.Since(began).Round(time.Second), ctx.Err())
		case now := <-tick.C:
			if o.Progress != nil && now.Sub(lastReport) >= 5*time.Second {
				lastReport = now
				o.Progress(now.Sub(began))
			}
		}
	}
}

func ready(ctx context.Context, c *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends Keycloak (SIGTERM to its process group, SIGKILL after 20 s). Safe to call twice.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
	})
	return nil
}

func (o *Options) defaults() (keycloak.Capabilities, error) {
	var none keycloak.Capabilities
	if o.Home == "" {
		return none, errors.New("kcdist: Options.Home is required")
	}
	if _, err := os.Stat(filepath.Join(o.Home, "bin", "kc.sh")); err != nil {
		return none, fmt.Errorf("kcdist: no Keycloak distribution at %s "+
			"(run scripts/keycloak-dist.sh): %w", o.Home, err)
	}
	caps, err := o.capabilities()
	if err != nil {
		return none, err
	}
	for _, p := range []*int{&o.HTTPPort, &o.ManagementPort} {
		if *p == 0 {
			if *p, err = FreePort(); err != nil {
				return none, err
			}
		}
	}
	if o.AdminUser == "" {
		o.AdminUser, o.AdminPassword = "admin", "admin"
	}
	if o.JavaHome == "" {
		o.JavaHome = JavaHomeFor(caps.JDKs)
	}
	if o.LogFile == "" {
		o.LogFile = filepath.Join(filepath.Dir(o.Home), "keycloak-"+strconv.Itoa(o.HTTPPort)+".log")
	}
	if o.StartupTimeout == 0 {
		o.StartupTimeout = 4 * time.Minute
	}
	return caps, nil
}

// capabilities fills in Version from the distribution and returns what it can do.
func (o *Options) capabilities() (keycloak.Capabilities, error) {
	var v keycloak.Version
	var err error
	if o.Version == "" {
		v, err = DistVersion(o.Home)
	} else {
		v, err = keycloak.ParseVersion(o.Version)
	}
	if err != nil {
		return keycloak.Capabilities{}, fmt.Errorf("kcdist: %w", err)
	}
	o.Version = v.String()
	caps, err := keycloak.CapabilitiesOf(v)
	if err != nil {
		return caps, fmt.Errorf("kcdist: %w", err)
	}
	return caps, nil
}

// JavaHome picks the JDK for the pinned Keycloak 26: $JAVA_HOME, else the newest 25 or 21
// under /usr/lib/jvm (Keycloak 26 deprecates 17), else "" meaning the `java` on the PATH.
// Start chooses per version with JavaHomeFor instead.
func JavaHome() string {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		return h
	}
	for _, pattern := range []string{"/usr/lib/jvm/*-25-*", "/usr/lib/jvm/*-21-*"} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			if _, err := os.Stat(filepath.Join(m, "bin", "java")); err == nil {
				return m
			}
		}
	}
	return ""
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	parts := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return string(bytes.Join(parts, []byte("\n")))
}
