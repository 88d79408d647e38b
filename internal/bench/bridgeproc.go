package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/kcdist"
	"github.com/bonbon-keycloak/bonbon-bridge/internal/metrics"
)

// bridgeProc is `bonbon-bridge serve` running as its own process, so its memory is its
// own and the load generator's CPU is not counted as the bridge's.
type bridgeProc struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	http *http.Client
}

// startBridge runs bin with env (added to a clean environment) and waits until /readyz
// answers 200: the bridge then holds its admin token.
func startBridge(ctx context.Context, bin string, env map[string]string, log io.Writer,
) (*bridgeProc, error) {
	port, err := kcdist.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "BRIDGE_ADDR=" + addr}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bridge: %w", err)
	}
	p := &bridgeProc{URL: "http://" + addr, cmd: cmd, done: make(chan struct{}),
		http: &http.Client{Timeout: 10 * time.Second}}
	go func() { _ = cmd.Wait(); close(p.done) }()
	if err := p.waitReady(ctx); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *bridgeProc) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/readyz", nil)
		if resp, err := p.http.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return errors.New("bridge exited during start-up; see its log")
		case <-ctx.Done():
			return fmt.Errorf("bridge not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// scrape reads the bridge's /metrics.
func (p *bridgeProc) scrape(ctx context.Context) (metrics.Scrape, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/metrics", nil)
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape bridge: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape bridge: status %d", resp.StatusCode)
	}
	return metrics.ParseText(resp.Body)
}

// peakRSS is the process' high-water resident set (VmHWM), in bytes.
func (p *bridgeProc) peakRSS() (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return vmHWM(f)
}

// vmHWM reads the VmHWM line of a /proc/<pid>/status file.
func vmHWM(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmHWM line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		return kb << 10, err
	}
	return 0, errors.New("no VmHWM in process status")
}

// stop sends SIGTERM (graceful shutdown) and SIGKILL after 10 s.
func (p *bridgeProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
