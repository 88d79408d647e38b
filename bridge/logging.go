package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// accessLog logs one line per request: method, route, status, duration. Never headers or
// query strings, which may carry tokens.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		began := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.log.Info("http request", "method", c.Request.Method, "route", route,
			"status", c.Writer.Status(), "duration_ms", time.Since(began).Milliseconds())
	}
}

// recoverer turns a panic into a 500 answer without echoing the panic to the client.
func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.writeError(c, fmt.Errorf("panic: %v", r))
			}
		}()
		c.Next()
	}
}

// limitBody bounds every request body; reading past the limit fails with errBodyTooBig.
func (s *Server) limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > s.cfg.MaxBodyBytes {
			s.writeError(c, errBodyTooBig)
			return
		}
		c.Request.Body = &limitedBody{
			rc: http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes),
		}
		c.Next()
	}
}

// limitedBody reports the limit as errBodyTooBig, so the error mapping needs no special case.
type limitedBody struct {
	rc interface {
		Read([]byte) (int, error)
		Close() error
	}
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return n, errBodyTooBig
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// maskEmail keeps enough of an address to tell users apart in logs without exposing it:
// "alyssa.p.hacker@bonbon.tech" becomes "a***@bonbon.tech".
func maskEmail(email string) string {
	if email == "" {
		return ""
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(local)
	return string(first) + "***@" + domain
}

// Email is an address that logs itself masked, so a careless log line still redacts.
type Email string

// LogValue implements slog.LogValuer.
func (e Email) LogValue() slog.Value { return slog.StringValue(maskEmail(string(e))) }
