package main

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// options is the command line, after environment fallbacks.
type options struct {
	addr, usersPath, clientID, apiKey string
	tokenTTL                          time.Duration
	webhookURL                        string
	jwksURL, issuer, audience         string
}

// parseFlags reads flags; a flag not given takes its environment variable, then its
// default.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bonbon-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, name, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" (env "+env+")")
	}
	str(&o.addr, "addr", "BONBON_SIM_ADDR", "127.0.0.1:8090", "listen address")
	str(&o.usersPath, "users", "BONBON_SIM_USERS", "", "path to a JSON array of initial users")
	str(&o.clientID, "client-id", "BONBON_SIM_CLIENT_ID", "",
		"expected x-bonbon-clientid (required)")
	// The default shown by -help is the flag's default, so the env value must not
	// become it: that would print the secret.
	fs.StringVar(&o.apiKey, "api-key", "",
		"expected x-bonbon-api-key (env BONBON_SIM_API_KEY; required)")
	ttl := fs.String("token-ttl", "", "earn token lifetime, e.g. 10m (env BONBON_SIM_TOKEN_TTL)")
	str(&o.webhookURL, "webhook-url", "BONBON_SIM_WEBHOOK_URL", "",
		"publisher webhook for deliveries")
	str(&o.jwksURL, "jwks-url", "BONBON_SIM_JWKS_URL", "", "publisher JWKS URL for /earn/oidc")
	str(&o.issuer, "oidc-issuer", "BONBON_SIM_OIDC_ISSUER", "",
		"expected iss of publisher ID tokens")
	str(&o.audience, "oidc-audience", "BONBON_SIM_OIDC_AUDIENCE", "",
		"expected aud of publisher ID tokens")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.apiKey == "" {
		o.apiKey = getenv("BONBON_SIM_API_KEY")
	}
	return o, o.resolveTTL(*ttl, getenv("BONBON_SIM_TOKEN_TTL"))
}

func (o *options) resolveTTL(flagValue, envValue string) error {
	v := flagValue
	if v == "" {
		v = envValue
	}
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("token ttl %q: want a positive duration", v)
	}
	o.tokenTTL = d
	return nil
}
