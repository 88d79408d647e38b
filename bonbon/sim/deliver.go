package sim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// maxDeliveries bounds the delivery log, so a load test making many deliveries does not
// grow the simulator without limit; the oldest entries are dropped.
const maxDeliveries = 10_000

// Delivery is one webhook delivery, with every attempt and its answer.
type Delivery struct {
	ID       int       `json:"id"`
	BonbonID string    `json:"bonbonId"`
	URL      string    `json:"url"`
	Reason   string    `json:"reason"` // "login", "preferences", "profile" or "manual"
	Attempts []Attempt `json:"attempts"`
	// Done is true once no further attempt will be made; OK once one answered 2xx.
	Done bool `json:"done"`
	OK   bool `json:"ok"`
}

// Attempt is one POST of a delivery: the status answered, or the transport error.
type Attempt struct {
	At     time.Time `json:"at"`
	Status int       `json:"status,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// Deliver makes one webhook POST to webhookURL for bonbonID, as Bonbon's servers do: a
// fresh earn token as bearer and an empty body. It returns the status answered and logs
// the delivery; it does not retry.
func (s *Server) Deliver(ctx context.Context, webhookURL, bonbonID string) (int, error) {
	id := s.startDelivery(webhookURL, bonbonID, "manual")
	status, err := s.post(ctx, webhookURL, bonbonID)
	s.recordAttempt(id, status, err, true)
	return status, err
}

// Deliveries returns a copy of the delivery log, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		d.Attempts = slices.Clone(d.Attempts)
		out[i] = d
	}
	return out
}

// notify delivers to Config.WebhookURL in the background, retrying with doubling backoff
// until a 2xx answer, WebhookAttempts attempts, or Close.
func (s *Server) notify(bonbonID, reason string) {
	url := s.cfg.WebhookURL
	if url == "" {
		return
	}
	id := s.startDelivery(url, bonbonID, reason)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		wait := s.cfg.WebhookBackoff
		for attempt := 1; ; attempt++ {
			status, err := s.post(s.ctx, url, bonbonID)
			last := attempt >= s.cfg.WebhookAttempts || s.ctx.Err() != nil
			if s.recordAttempt(id, status, err, last) || last {
				return
			}
			select {
			case <-s.ctx.Done():
				s.finishDelivery(id)
				return
			case <-time.After(wait):
			}
			wait *= 2
		}
	}()
}

// post sends one webhook request and returns the status.
func (s *Server) post(ctx context.Context, url, bonbonID string) (int, error) {
	tok, err := s.IssueEarnToken(bonbonID)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, http.NoBody)
	if err != nil {
		return 0, fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", "bonbon-sim-webhook")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

func (s *Server) startDelivery(url, bonbonID, reason string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastDelivery++
	id := s.lastDelivery
	s.deliveries = append(s.deliveries,
		Delivery{ID: id, BonbonID: bonbonID, URL: url, Reason: reason})
	if len(s.deliveries) > maxDeliveries {
		s.deliveries = slices.Delete(s.deliveries, 0, len(s.deliveries)-maxDeliveries)
	}
	return id
}

// delivery returns the log entry for id, or nil once it was dropped. s.mu must be held.
func (s *Server) delivery(id int) *Delivery {
	i := len(s.deliveries) - 1 - (s.lastDelivery - id)
	if i < 0 || i >= len(s.deliveries) {
		return nil
	}
	return &s.deliveries[i]
}

// recordAttempt logs one attempt and reports whether it succeeded; last marks the
// delivery done either way.
func (s *Server) recordAttempt(id, status int, err error, last bool) bool {
	a := Attempt{At: s.cfg.Now(), Status: status}
	if err != nil {
		a.Error = err.Error()
	}
	ok := err == nil && status >= 200 && status <= 299
	s.mu.Lock()
	var bonbonID string
	var n int
	if d := s.delivery(id); d != nil {
		d.Attempts = append(d.Attempts, a)
		d.OK = ok
		d.Done = ok || last
		bonbonID, n = d.BonbonID, len(d.Attempts)
	}
	s.mu.Unlock()
	s.log.Info("webhook delivery", "delivery", id, "bonbon_id", bonbonID,
		"attempt", n, "status", status, "err", a.Error)
	return ok
}

func (s *Server) finishDelivery(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.delivery(id); d != nil {
		d.Done = true
	}
}
