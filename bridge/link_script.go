package bridge

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed static/link.js
var linkJS string

// check is POST /link/check, called by the page script (fetch, a CORS simple request)
// on bonbon::login: {"link_required": true} when the step-up login would link an account.
// Refusals (unverified email, linked elsewhere...) are error answers like any other.
func (f *linkFlow) check(c *gin.Context) error {
	origin, err := f.origin(c)
	if err != nil {
		return err
	}
	c.Header("Access-Control-Allow-Origin", origin)
	c.Header("Vary", "Origin")
	token, err := earnTokenOf(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), f.s.cfg.WebhookTimeout)
	defer cancel()
	p, err := f.plan(ctx, token)
	if err != nil && !errors.Is(err, errNoAccountToLink) {
		return err
	}
	required := err == nil && !p.alreadyLinked
	f.log.Debug("link check", "bonbon_id", p.bonbonID, "link_required", required)
	c.JSON(http.StatusOK, gin.H{"link_required": required})
	return nil
}

// script is GET /link/script.js, with the bridge's public URL filled in.
func (f *linkFlow) script(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", []byte(f.scriptText()))
}

func (f *linkFlow) scriptText() string {
	u, _ := json.Marshal(f.cfg.PublicURL)
	return strings.Replace(linkJS, "__BRIDGE_URL__", string(u), 1)
}

var examplePage = template.Must(template.New("example").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bonbon link: page snippet</title></head>
<body style="font:15px sans-serif;max-width:46em;margin:2em auto">
<h1>Linking existing accounts to Bonbon</h1>
<p>Add this tag to the pages that load Bonbon's Web Tags, on one of the origins the bridge
allows ({{range $i, $o := .Origins}}{{if $i}}, {{end}}<code>{{$o}}</code>{{end}}):</p>
<pre>&lt;script src="{{.ScriptURL}}" async&gt;&lt;/script&gt;</pre>
<p>When a Bonbon user signs in whose email belongs to an account on your site that is not
linked yet, the script offers a button. The user logs in to that account once; the bridge
then links it and returns to <code>{{.ReturnURL}}</code>.</p>
<p>The script, to copy or host yourself:</p>
<pre>{{.Script}}</pre>
</body></html>`))

// example is GET /link/example: the snippet a publisher copies, and the script itself.
func (f *linkFlow) example(c *gin.Context) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusOK)
	_ = examplePage.Execute(c.Writer, map[string]any{
		"Origins": f.cfg.AllowedOrigins, "ScriptURL": f.cfg.PublicURL + "/link/script.js",
		"ReturnURL": f.cfg.ReturnURL, "Script": f.scriptText(),
	})
}
