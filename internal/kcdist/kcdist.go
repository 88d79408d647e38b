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
	"sync"
	"syscall"
	"time"
)

// Options says which distribution to start and how. Zero values get defaults in Start.
type Options struct {
	// Home is the unpacked distribution (holds bin/kc.sh). Required.
	Home string
	// JavaHome overrides the JDK; default: $JAVA_HOME, else the newest JDK 21+ under
	// /usr/lib/jvm, else whatever `java` is on the PATH.
	JavaHome string
	// HTTPPort and ManagementPort default to free loopback ports.
	HTTPPort, ManagementPort int
	// AdminUser and AdminPassword bootstrap the master realm's admin (default admin/admin).
	AdminUser, AdminPassword string
	// LogFile receives Keycloak's output; default a file beside the distribution.
	LogFile string
	// Progress, when set, is told every few seconds how long Keycloak has been starting.
	Progress func(elapsed time.Duration)
	// StartupTimeout bounds the wait for /health/ready (default 4 minutes).
	StartupTimeout time.Duration
}

// Server is a running distribution. Stop it when done.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:18080 (also the hostname Keycloak uses in
	// issuers, so tokens carry the same issuer whichever client asks).
	URL            string
	ManagementURL  string
	AdminUser      string
	AdminPassword  string
	LogFile        string
	StartupElapsed time.Duration

	cmd      *exec.Cmd
	done     chan struct{}
	stopOnce sync.Once
	waitErr  error
}

// Start launches Keycloak and waits until it reports ready. On any failure it stops what it
// started and returns an error that includes the end of Keycloak's log.
func Start(ctx context.Context, o Options) (*Server, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	logf, err := os.Create(o.LogFile)
	if err != nil {
		return nil, fmt.Errorf("create keycloak log: %w", err)
	}
	defer logf.Close()

	s := &Server{
		URL:           "http://127.0.0.1:" + strconv.Itoa(o.HTTPPort),
		ManagementURL: "http://127.0.0.1:" + strconv.Itoa(o.ManagementPort),
		AdminUser:     o.AdminUser,
		AdminPassword: o.AdminPassword,
		LogFile:       o.LogFile,
		done:          make(chan struct{}),
	}
	s.cmd = exec.Command(filepath.Join(o.Home, "bin", "kc.sh"), "start-dev",
		"--db=dev-mem",
		"--http-host=127.0.0.1",
		"--http-port="+strconv.Itoa(o.HTTPPort),
		"--http-management-port="+strconv.Itoa(o.ManagementPort),
		"--hostname="+s.URL,
		"--health-enabled=true",
	)
	s.cmd.Env = append(os.Environ(),
		"KC_BOOTSTRAP_ADMIN_USERNAME="+o.AdminUser,
		"KC_BOOTSTRAP_ADMIN_PASSWORD="+o.AdminPassword,
	)
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

func (o *Options) defaults() error {
	if o.Home == "" {
		return errors.New("kcdist: Options.Home is required")
	}
	if _, err := os.Stat(filepath.Join(o.Home, "bin", "kc.sh")); err != nil {
		return fmt.Errorf("kcdist: no Keycloak distribution at %s (run scripts/keycloak-dist.sh): %w",
			o.Home, err)
	}
	var err error
	if o.HTTPPort == 0 {
		if o.HTTPPort, err = FreePort(); err != nil {
			return err
		}
	}
	if o.ManagementPort == 0 {
		if o.ManagementPort, err = FreePort(); err != nil {
			return err
		}
	}
	if o.AdminUser == "" {
		o.AdminUser, o.AdminPassword = "admin", "admin"
	}
	if o.JavaHome == "" {
		o.JavaHome = JavaHome()
	}
	if o.LogFile == "" {
		o.LogFile = filepath.Join(filepath.Dir(o.Home), "keycloak-"+strconv.Itoa(o.HTTPPort)+".log")
	}
	if o.StartupTimeout == 0 {
		o.StartupTimeout = 4 * time.Minute
	}
	return nil
}

// JavaHome picks the JDK: $JAVA_HOME, else the newest 25 or 21 under /usr/lib/jvm (Keycloak
// 26 deprecates 17), else "" meaning the `java` on the PATH.
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
