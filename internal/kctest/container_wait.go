package kctest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// healthWait waits until Keycloak's readiness endpoint answers 200, asking from the host
// (Testcontainers' HTTP strategy needs mapped ports, which host networking has none of).
// It gives up early when the container stops, so a crash does not wait out the deadline.
type healthWait struct {
	url string
}

// WaitUntilReady implements wait.Strategy.
func (h *healthWait) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last error
	for {
		state, err := target.State(ctx)
		if err == nil && !state.Running {
			return fmt.Errorf("%w: container stopped (exit code %d)", ErrNotReady,
				state.ExitCode)
		}
		err = h.probe(ctx, hc)
		if err == nil {
			return nil
		}
		if ctx.Err() == nil {
			// Keep the reason of the last probe made in time, not the deadline's own.
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s after the startup timeout: %v", ErrNotReady, h.url, last)
		case <-tick.C:
		}
	}
}

func (h *healthWait) probe(ctx context.Context, hc *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// terminate removes the container with a fresh deadline, since the caller's context
// may be the one that just expired.
func terminate(ctr *testcontainers.DockerContainer) error {
	if ctr == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := ctr.Terminate(ctx); err != nil {
		return fmt.Errorf("terminate container %s: %w", ctr.GetContainerID(), err)
	}
	return nil
}

// containerLogTail returns the end of the container's log, to explain a failed start.
func containerLogTail(ctr *testcontainers.DockerContainer) string {
	if ctr == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
	}
	if len(b) == 0 {
		return ""
	}
	return "\ncontainer log (end):\n" + string(b)
}
