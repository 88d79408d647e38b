package bridge

import (
	_ "embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/bonbon-keycloak/bonbon-bridge/bridge/publisher"
)

// corsPolicy answers browsers on the publisher's configured origins, and only them.
type corsPolicy struct{ origins map[string]bool }

func newCORSPolicy(origins []string) corsPolicy {
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range origins {
		p.origins[o] = true
	}
	return p
}

// apply sets the CORS answer headers for an allowed origin; errOriginNotAllowed for any
// other. A request without Origin (a server, or a same-origin GET) needs no CORS.
func (p corsPolicy) apply(c *gin.Context) error {
	c.Writer.Header().Add("Vary", "Origin")
	origin := c.GetHeader("Origin")
	if origin == "" || sameOrigin(c.Request, origin) {
		return nil
	}
	if !p.origins[origin] {
		return errOriginNotAllowed
	}
	c.Header("Access-Control-Allow-Origin", origin)
	return nil
}

// sameOrigin: a page served by the bridge itself (the demo) may always call it.
func sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// preflight is OPTIONS /bonbon/id-token: a page on an allowed origin may send
// Authorization. No credentials are allowed: the endpoint reads no cookie.
func (f *idTokenFlow) preflight(c *gin.Context) error {
	if err := f.cors.apply(c); err != nil {
		return err
	}
	c.Header("Access-Control-Allow-Methods", "GET")
	c.Header("Access-Control-Allow-Headers", "Authorization")
	c.Header("Access-Control-Max-Age", "600")
	c.Status(http.StatusNoContent)
	return nil
}

//go:embed idtoken_signal.js
var signalJS []byte

// serveSignalJS is GET /bonbon/signal.js, the page-side half of Flow 3.
func serveSignalJS(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", signalJS)
}

// PublisherDemo configures the demo publisher page at GET /publisher/: Bonbon's Web Tags
// installed as the real snippet does, a Keycloak login (authorization code with PKCE,
// run by the page against a public client), then /bonbon/signal.js.
type PublisherDemo struct {
	// ClientID is the realm's public client the page logs in through; it must allow the
	// page's URL as redirect URI and web origin, and be one of IDTokenConfig.Clients.
	ClientID string
	// BonbonScript is the URL of Bonbon's bonbon.js (the simulator's in demos).
	BonbonScript string
	// BonbonClientID is the publisher's Bonbon client id (data-clientId).
	BonbonClientID string
}

func (d *PublisherDemo) validate() error {
	var errs []error
	if d.ClientID == "" {
		errs = append(errs, errors.New("demo page: a public client id is required"))
	}
	if err := checkURL(d.BonbonScript); err != nil {
		errs = append(errs, errors.New("demo page: bonbon.js URL: "+err.Error()))
	}
	if d.BonbonClientID == "" {
		errs = append(errs, errors.New("demo page: the Bonbon client id is required"))
	}
	return errors.Join(errs...)
}

// demoPage is what index.html is rendered with.
type demoPage struct {
	Issuer, ClientID, BonbonScript, BonbonClientID string
	// LinkScript includes /link/script.js: only when Flow 2 is on, since the page would
	// otherwise log a failed load.
	LinkScript bool
}

// demoHandler serves the demo page and its script.
func demoHandler(issuer string, d *PublisherDemo, link bool) func(*gin.Context) error {
	page := demoPage{Issuer: issuer, ClientID: d.ClientID, BonbonScript: d.BonbonScript,
		BonbonClientID: d.BonbonClientID, LinkScript: link}
	index := template.Must(template.ParseFS(publisher.Files, "index.html"))
	return func(c *gin.Context) error {
		switch c.Param("file") {
		case "/", "/index.html":
			c.Header("Content-Type", "text/html; charset=utf-8")
			c.Header("Cache-Control", "no-store")
			c.Status(http.StatusOK)
			return index.Execute(c.Writer, page)
		case "/publisher.js":
			js, err := publisher.Files.ReadFile("publisher.js")
			if err != nil {
				return err
			}
			c.Data(http.StatusOK, "text/javascript; charset=utf-8", js)
			return nil
		}
		return errNoRoute
	}
}
