package bridge

import (
	"time"

	"github.com/gin-gonic/gin"
)

// Metrics receives what the bridge counts for monitoring; internal/metrics implements it
// for Prometheus. Methods run on every request, so they must be fast and safe for
// concurrent use.
type Metrics interface {
	// RequestStarted and RequestDone bracket every request. route is the matched route
	// pattern (e.g. "/webhooks/bonbon"), or "unmatched", so its values are bounded.
	RequestStarted(route string)
	RequestDone(route, method string, status int, elapsed time.Duration)
	// WebhookDone counts one webhook by outcome: a Status* value, or the error code of
	// the answer (e.g. "keycloak_unavailable").
	WebhookDone(outcome string)
	// IDTokenCacheLookup counts one lookup in Flow 3's token cache: hit when a cached
	// token was served, miss when one had to be minted (or waited for).
	IDTokenCacheLookup(hit bool)
}

// NopMetrics counts nothing; it is Config.Metrics' default.
type NopMetrics struct{}

// RequestStarted implements Metrics.
func (NopMetrics) RequestStarted(string) {}

// RequestDone implements Metrics.
func (NopMetrics) RequestDone(string, string, int, time.Duration) {}

// WebhookDone implements Metrics.
func (NopMetrics) WebhookDone(string) {}

// IDTokenCacheLookup implements Metrics.
func (NopMetrics) IDTokenCacheLookup(bool) {}

// outcomeKey holds, in the gin context, the outcome of a request for the metrics: the
// upsert's status, or the error code writeError answered.
const outcomeKey = "bridge.outcome"

const webhookRoute = "/webhooks/bonbon"

// observe reports every request to Config.Metrics; it is the outermost middleware, so
// the time includes recovery, logging and error answers.
func (s *Server) observe() gin.HandlerFunc {
	m := s.cfg.Metrics
	return func(c *gin.Context) {
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		began := time.Now()
		m.RequestStarted(route)
		// Deferred, so an aborted handler (a panic passed on) still leaves the in-flight count.
		defer func() {
			m.RequestDone(route, c.Request.Method, c.Writer.Status(), time.Since(began))
			if route == webhookRoute {
				m.WebhookDone(outcomeOf(c))
			}
		}()
		c.Next()
	}
}

func outcomeOf(c *gin.Context) string {
	if o := c.GetString(outcomeKey); o != "" {
		return o
	}
	return "unknown"
}
