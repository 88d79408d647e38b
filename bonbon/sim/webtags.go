package sim

import (
	"embed"
	"net/http"
)

//go:embed static/bonbon.js static/console.html
var static embed.FS

// bonbonJS is GET /bonbon.js: the Web Tags stand-in. Its API calls go back to the origin
// it was loaded from, so a page only changes the script's src to point at another
// simulator.
func (s *Server) bonbonJS(w http.ResponseWriter, _ *http.Request) {
	data, err := static.ReadFile("static/bonbon.js")
	if err != nil {
		http.Error(w, "bonbon.js missing from the build", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(data)
}
