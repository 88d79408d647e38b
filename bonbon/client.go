package bonbon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry policy constants; see Config.MaxAttempts.
const (
	backoffBase   = 100 * time.Millisecond
	maxRetryAfter = 2 * time.Second
	// maxErrorBody bounds how much of an error answer is read.
	maxErrorBody = 64 << 10
)

// Client calls Bonbon's API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient validates cfg, applies its defaults and returns a Client.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()

	// A shallow copy lets us refuse redirects without changing the caller's client: a
	// redirect to another host would otherwise carry x-bonbon-api-key along.
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{cfg: cfg, http: hc}, nil
}

// request is one logical call, sent up to MaxAttempts times.
type request struct {
	method, path, bearer string
	body                 []byte
}

// do sends r with retries and returns the body of the 2xx answer.
func (c *Client) do(ctx context.Context, r request) ([]byte, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		body, retryAfter, err := c.attempt(ctx, r)
		if err == nil {
			return body, nil
		}
		lastErr = err
		if attempt >= c.cfg.MaxAttempts || !retryable(err) || ctx.Err() != nil {
			return nil, lastErr
		}

		// Wait before the next attempt, unless the wait would outlive the caller.
		wait, ok := c.delay(ctx, attempt, retryAfter)
		if !ok {
			return nil, lastErr
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w (last: %w)", ErrUnavailable, ctx.Err(), lastErr)
		case <-time.After(wait):
		}
	}
}

// delay returns the wait before attempt+1, and false when no retry should happen: Bonbon
// asked for more than maxRetryAfter, or the context's deadline comes first.
func (c *Client) delay(ctx context.Context, attempt int, retryAfter time.Duration) (
	time.Duration, bool,
) {
	if retryAfter > maxRetryAfter {
		return 0, false
	}
	wait := retryAfter
	if wait == 0 {
		// Exponential backoff with jitter, so many bridges do not retry in step.
		d := backoffBase << (attempt - 1)
		wait = d/2 + rand.N(d/2+1)
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		return 0, false
	}
	return wait, true
}

func retryable(err error) bool {
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status == http.StatusTooManyRequests || apiErr.Status >= 500
	}
	return false
}

// attempt sends r once, bounded by the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, r request) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s %s: %w", ErrUnavailable, r.method, r.path, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := readAPIError(resp)
		return nil, apiErr.RetryAfter, apiErr
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodySize+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: read %s: %w", ErrUnavailable, r.path, err)
	}
	if len(body) > MaxBodySize {
		return nil, 0, fmt.Errorf("%w: %s answer exceeds %d bytes",
			ErrBadPayload, r.path, MaxBodySize)
	}
	return body, 0, nil
}

func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.cfg.BaseURL+r.path, body)
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "bonbon-bridge")
	req.Header.Set("x-bonbon-clientid", c.cfg.ClientID)
	req.Header.Set("x-bonbon-api-key", c.cfg.APIKey)
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// readAPIError turns a non-2xx answer into an APIError, reading a bounded prefix of the
// body; an error body of another shape leaves Code and Message empty.
func readAPIError(resp *http.Response) *APIError {
	e := &APIError{
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After")),
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error   any `json:"error"`
		Message any `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.Code = truncate(asString(body.Error), 64)
		e.Message = truncate(asString(body.Message), maxErrorMessage)
	}
	return e
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// parseRetryAfter reads delay-seconds or an HTTP date; anything else is zero.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(min(secs, 24*3600)) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0)
	}
	return 0
}
