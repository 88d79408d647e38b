package bonbon

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is Bonbon's production API. Tests and demos always point BaseURL at the
// simulator on loopback instead.
const DefaultBaseURL = "https://api.bonbon.tech/v1"

// Defaults applied by NewClient to zero fields of Config.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMaxAttempts = 3
)

// Config configures a Client. The zero value of every field but ClientID and APIKey
// means "use the default".
type Config struct {
	// BaseURL is the API root, without a trailing slash; default DefaultBaseURL.
	BaseURL string
	// ClientID is sent as x-bonbon-clientid.
	ClientID string
	// APIKey is the Client Secret, sent as x-bonbon-api-key. It is a secret: String,
	// GoString and LogValue redact it.
	APIKey string
	// HTTPClient sends the requests; default a client of the package's own. Redirects are
	// never followed, whichever client is given, so the secret cannot travel elsewhere.
	HTTPClient *http.Client
	// Timeout bounds each attempt; default DefaultTimeout.
	Timeout time.Duration
	// MaxAttempts bounds the attempts per call, retries included; default
	// DefaultMaxAttempts. Only 429, 5xx and transport errors are retried, after an
	// exponential backoff from 100ms with jitter, or after Retry-After when Bonbon sends
	// one of at most 2s. A longer Retry-After ends the retries at once: the APIError
	// carries it so that the caller can pass it on. No wait outlives the context's
	// deadline; the call returns the last error instead.
	MaxAttempts int
}

// Validate reports every problem with c at once, joined; it changes nothing. Zero values
// that NewClient replaces with defaults are valid.
func (c Config) Validate() error {
	var errs []error
	if err := validateBaseURL(c.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	} else if !validHeaderValue(c.ClientID) {
		errs = append(errs, errors.New("client id holds characters a header cannot carry"))
	}
	if c.APIKey == "" {
		errs = append(errs, errors.New("api key is required"))
	} else if !validHeaderValue(c.APIKey) {
		// The value itself is not quoted: it is a secret.
		errs = append(errs, errors.New("api key holds characters a header cannot carry"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", c.Timeout))
	}
	if c.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("max attempts %d is negative", c.MaxAttempts))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bonbon config: %w", err)
	}
	return nil
}

func validateBaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("base url does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("base url scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("base url has no host")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("base url must not hold user info, query or fragment")
	}
	return nil
}

// validHeaderValue rejects control characters, which net/http would refuse at send time
// and which would otherwise look like a transport failure worth retrying.
func validHeaderValue(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	return c
}

const redacted = "[redacted]"

func (c Config) safeAPIKey() string {
	if c.APIKey == "" {
		return ""
	}
	return redacted
}

// String describes c with the API key redacted.
func (c Config) String() string {
	return fmt.Sprintf("bonbon.Config{BaseURL:%q ClientID:%q APIKey:%s Timeout:%s MaxAttempts:%d}",
		c.BaseURL, c.ClientID, c.safeAPIKey(), c.Timeout, c.MaxAttempts)
}

// GoString is String, so that %#v does not print the API key either.
func (c Config) GoString() string { return c.String() }

// LogValue logs c with the API key redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("client_id", c.ClientID),
		slog.String("api_key", c.safeAPIKey()),
		slog.Duration("timeout", c.Timeout),
		slog.Int("max_attempts", c.MaxAttempts),
	)
}
