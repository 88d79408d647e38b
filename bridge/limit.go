package bridge

import (
	"errors"
	"log/slog"

	"github.com/gin-gonic/gin"
)

// DefaultMaxInFlight is Config.MaxInFlight's default.
const DefaultMaxInFlight = 64

// errOverloaded: the bridge is already working on MaxInFlight webhooks.
var errOverloaded = errors.New("too many webhooks in progress; retry later")

// limitInFlight admits at most cap(slots) requests at once and answers the rest 503 with
// Retry-After at once, without queueing. Why: when Keycloak or Bonbon slows down, each
// webhook holds a goroutine, a Keycloak connection and memory for up to WebhookTimeout;
// without a bound a burst of retries from Bonbon would pile up until the process falls
// over, and an answer that says "later" is what makes Bonbon's own backoff work.
func (s *Server) limitInFlight(slots chan struct{}) gin.HandlerFunc {
	return func(c *gin.Context) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			c.Next()
		default:
			s.writeError(c, errOverloaded)
			c.Abort()
		}
	}
}

// classifyLoad answers the bridge's own overload.
func (s *Server) classifyLoad(err error) (answer, bool) {
	if errors.Is(err, errOverloaded) {
		return answer{503, "overloaded", errOverloaded.Error(), s.cfg.RetryAfter,
			slog.LevelWarn}, true
	}
	return answer{}, false
}
