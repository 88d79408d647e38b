package sim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultTokenTTL        = 10 * time.Minute
	DefaultOTPTTL          = 10 * time.Minute
	DefaultWebhookAttempts = 4
	DefaultWebhookBackoff  = 200 * time.Millisecond
	// IDTokenTTL is the lifetime of a BONBON_ID_TOKEN from POST /jwt.
	IDTokenTTL = time.Hour
	// Issuer is the iss claim of every token the simulator signs.
	Issuer = "bonbon-sim"
)

// Config configures a Server. Zero values mean the defaults noted on each field.
type Config struct {
	// ClientID and APIKey are the credentials the API expects in x-bonbon-clientid and
	// x-bonbon-api-key. APIKey is never logged.
	ClientID, APIKey string
	// Users are the initial users: JSON objects with a string "id".
	Users []json.RawMessage
	// TokenTTL is the earn token lifetime; default DefaultTokenTTL.
	TokenTTL time.Duration
	// Key signs every token (RS256); default a fresh 2048-bit key.
	Key *rsa.PrivateKey
	// Now is the clock for token issue and expiry; default time.Now.
	Now func() time.Time
	// HTTPClient sends webhook deliveries and fetches the JWKS; default a client of the
	// simulator's own with a 10s timeout.
	HTTPClient *http.Client
	// Logger receives one line per notable event; default discards.
	Logger *slog.Logger

	// WebhookURL is the publisher's webhook; when set, an OTP login and a preference
	// change made through the console are delivered to it. Empty: no automatic deliveries.
	WebhookURL string
	// WebhookAttempts bounds the attempts per automatic delivery; default
	// DefaultWebhookAttempts.
	WebhookAttempts int
	// WebhookBackoff is the wait before the first retry, doubled each time; default
	// DefaultWebhookBackoff.
	WebhookBackoff time.Duration

	// OTPTTL is how long a one-time code stays valid; default DefaultOTPTTL.
	OTPTTL time.Duration

	// JWKSURL, Issuer and Audience configure POST /earn/oidc: the publisher's ID tokens
	// must be signed by a key from JWKSURL, carry iss == Issuer and have Audience in aud.
	// Empty JWKSURL: the exchange answers 501.
	JWKSURL, Issuer, Audience string
}

// String describes c with the API key left out.
func (c Config) String() string {
	return fmt.Sprintf(
		"sim.Config{ClientID:%q APIKey:[redacted] Users:%d TokenTTL:%s WebhookURL:%q}",
		c.ClientID, len(c.Users), c.TokenTTL, c.WebhookURL)
}

// LogValue logs c with the API key left out.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", c.ClientID),
		slog.Int("users", len(c.Users)),
		slog.Duration("token_ttl", c.TokenTTL),
		slog.String("webhook_url", c.WebhookURL),
		slog.String("jwks_url", c.JWKSURL),
	)
}

// Validate reports every problem with c at once; it changes nothing.
func (c Config) Validate() error {
	var errs []error
	if c.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	}
	if c.APIKey == "" {
		errs = append(errs, errors.New("api key is required"))
	}
	if c.TokenTTL < 0 || c.OTPTTL < 0 || c.WebhookBackoff < 0 || c.WebhookAttempts < 0 {
		errs = append(errs, errors.New("durations and counts must not be negative"))
	}
	if c.JWKSURL != "" && (c.Issuer == "" || c.Audience == "") {
		errs = append(errs, errors.New("jwks url needs an issuer and an audience"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sim config: %w", err)
	}
	return nil
}

func (c Config) withDefaults() (Config, error) {
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.OTPTTL == 0 {
		c.OTPTTL = DefaultOTPTTL
	}
	if c.WebhookAttempts == 0 {
		c.WebhookAttempts = DefaultWebhookAttempts
	}
	if c.WebhookBackoff == 0 {
		c.WebhookBackoff = DefaultWebhookBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Key == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return c, fmt.Errorf("generate key: %w", err)
		}
		c.Key = key
	}
	return c, nil
}

// Server is the simulator. All its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler
	jwks    *jwksCache

	loginMu    sync.Mutex // serialises account creation
	mu         sync.Mutex
	users      map[string]json.RawMessage
	hits       map[string]int
	faults     map[string]*fault
	otps       map[string]otpCode
	signals    []Signal
	deliveries []Delivery
	// lastDelivery is the id of the newest delivery; ids are never reused.
	lastDelivery int

	// Background webhook deliveries stop when Close cancels ctx.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New validates cfg, applies its defaults, loads cfg.Users and returns a Server. Call
// Close to stop background webhook deliveries.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "bonbon-sim"),
		users:  map[string]json.RawMessage{},
		hits:   map[string]int{},
		faults: map[string]*fault{},
		otps:   map[string]otpCode{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.JWKSURL != "" {
		s.jwks = newJWKSCache(cfg.JWKSURL, cfg.HTTPClient, cfg.Now)
	}
	for i, raw := range cfg.Users {
		if err := s.PutUser(raw); err != nil {
			return nil, fmt.Errorf("user %d: %w", i, err)
		}
	}
	s.handler = s.routes()
	s.log.Info("simulator ready", "config", cfg) // Config.LogValue leaves the secret out
	return s, nil
}

// Close stops retrying background webhook deliveries and waits for them to end.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// Handler returns the simulator's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// LoadUsers reads a JSON array of user objects, each kept verbatim.
func LoadUsers(path string) ([]json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	var users []json.RawMessage
	if err := json.Unmarshal(data, &users); err != nil {
		return nil, fmt.Errorf("load users %s: %w", path, err)
	}
	return users, nil
}
