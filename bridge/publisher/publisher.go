// Package publisher holds the bridge's demo publisher page: a news site that installs
// Bonbon's Web Tags, logs its readers in through Keycloak and signals them to Bonbon with
// the bridge's /bonbon/signal.js. bridge serves it at /publisher/ when the demo is on.
package publisher

import "embed"

// Files are index.html (an html/template) and publisher.js.
//
//go:embed index.html publisher.js
var Files embed.FS
