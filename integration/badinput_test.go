package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/internal/fuzzseed"
	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// badCase is one entry of testdata/badinput/cases.json; the file's "about" explains it.
type badCase struct {
	Name    string          `json:"name"`
	Request *badRequest     `json:"request"`
	SimID   string          `json:"sim_id"`
	Payload json.RawMessage `json:"payload"`
	Text    *string         `json:"payload_text"`
	// RawBytes turns payload_text's U+0080..U+00FF into single bytes, for invalid UTF-8.
	RawBytes bool    `json:"raw_bytes"`
	Want     badWant `json:"want"`
}

type badRequest struct {
	Path        string `json:"path"`
	Origin      string `json:"origin"`
	Cookie      string `json:"cookie"`
	Form        string `json:"form"`
	Accept      string `json:"accept"`
	Method      string `json:"method"`
	Auth        string `json:"auth"`
	Auth2       string `json:"auth2"`
	Body        string `json:"body"`
	BodyBytes   int    `json:"body_bytes"`
	Chunked     bool   `json:"chunked"`
	HeaderBytes int    `json:"header_bytes"`
}

type badWant struct {
	Status int       `json:"status"`
	Code   string    `json:"code"`
	User   *wantUser `json:"user"`
}

// wantUser is what Keycloak must hold after a 2xx; nil fields are not checked.
type wantUser struct {
	ID            string            `json:"id"`
	Email         *string           `json:"email"`
	EmailVerified *bool             `json:"emailVerified"`
	FirstName     *string           `json:"firstName"`
	LastName      *string           `json:"lastName"`
	Attributes    map[string]string `json:"attributes"`
	Absent        []string          `json:"absent"`
}

// loadBadCases reads the corpus with every {{repeat}} expanded.
func loadBadCases(t *testing.T) []badCase {
	t.Helper()
	data, err := os.ReadFile("../testdata/badinput/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []badCase `json:"cases"`
	}
	if err := json.Unmarshal([]byte(fuzzseed.Expand(string(data))), &file); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	return file.Cases
}

// payloadBytes is what the simulator serves for c.
func (c badCase) payloadBytes() []byte {
	if c.Text == nil {
		return c.Payload
	}
	if !c.RawBytes {
		return []byte(*c.Text)
	}
	var b []byte
	for _, r := range *c.Text {
		b = append(b, byte(r))
	}
	return b
}

// badFigures counts what the corpus did, for the issue's note.
var badFigures struct{ tried, ok2xx, refused int }

func TestBadInputCorpus(t *testing.T) {
	// Every flow on: the webhook, the step-up link and the ID-token exchange.
	rig := newLinkRig(t, map[string]string{"BRIDGE_IDTOKEN_CLIENTS": "bonbon-bridge"})
	r, st := rig.R, rig.St
	for _, c := range loadBadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			badFigures.tried++
			status, code, header := st.sendBad(t, c, rig.Publisher.URL)
			if status == http.StatusInternalServerError {
				t.Errorf("answered 500 %q: every bad input must get a deliberate answer", code)
			}
			if status != c.Want.Status || code != c.Want.Code && c.Want.Code != "" {
				t.Errorf("answered %d %q, want %d %q", status, code, c.Want.Status, c.Want.Code)
			}
			if status == 503 && header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			if status >= 200 && status < 300 {
				badFigures.ok2xx++
				st.checkBadUser(t, r, c)
			} else {
				badFigures.refused++
			}
		})
	}
	t.Logf("FIGURES bad input: tried=%d answered_2xx=%d refused=%d",
		badFigures.tried, badFigures.ok2xx, badFigures.refused)
}

// sendBad sends the case to the bridge and returns the status, the answer's code (error,
// or status on success; "" when the body is not the bridge's JSON) and the headers.
func (st *stack) sendBad(t *testing.T, c badCase, origin string) (int, string, http.Header) {
	t.Helper()
	rq := c.Request
	if rq == nil { // a payload case: Bonbon serves it for a fresh token of its id
		st.Sim.PutUserAs(c.SimID, c.payloadBytes())
		rq = &badRequest{Auth: "{{sample}}"}
	}
	auth := st.fillToken(t, rq.Auth, c.SimID)
	var body io.Reader = http.NoBody
	switch {
	case rq.BodyBytes > 0 && rq.Chunked:
		body = io.LimitReader(neverEnding('x'), int64(rq.BodyBytes)) // unknown length
	case rq.BodyBytes > 0:
		body = bytes.NewReader(bytes.Repeat([]byte("x"), rq.BodyBytes))
	case rq.Body != "":
		body = strings.NewReader(rq.Body)
	case rq.Form != "":
		body = strings.NewReader(strings.ReplaceAll(rq.Form, "{{earn}}",
			strings.TrimPrefix(st.fillToken(t, "{{sample}}", ""), "Bearer ")))
	}
	path := rq.Path
	if path == "" {
		path = "/webhooks/bonbon"
	}
	method := rq.Method
	if method == "" {
		method = http.MethodPost
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, st.BridgeURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rq.Auth2 != "" {
		req.Header.Add("Authorization", st.fillToken(t, rq.Auth2, c.SimID))
	}
	if rq.Form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.Origin != "" {
		req.Header.Set("Origin", strings.ReplaceAll(rq.Origin, "{{origin}}", origin))
	}
	if rq.Cookie != "" {
		req.Header.Set("Cookie", rq.Cookie)
	}
	if rq.Accept != "" {
		req.Header.Set("Accept", rq.Accept)
	}
	if rq.HeaderBytes > 0 {
		req.Header.Set("X-Padding", strings.Repeat("p", rq.HeaderBytes))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var ans struct{ Error, Status string }
	if json.Unmarshal(data, &ans) != nil {
		return resp.StatusCode, "", resp.Header
	}
	return resp.StatusCode, ans.Error + ans.Status, resp.Header
}

// fillToken turns "{{sample}}" into a fresh bearer for id (the sample user when empty).
func (st *stack) fillToken(t *testing.T, auth, id string) string {
	t.Helper()
	if auth != "{{sample}}" {
		return auth
	}
	if id == "" {
		id = "12345"
	}
	tok, err := st.Sim.IssueEarnToken(id)
	if err != nil {
		t.Fatalf("issue earn token for %q: %v", id, err)
	}
	return "Bearer " + tok
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// checkBadUser reads the case's user back by its link and compares what the case names.
func (st *stack) checkBadUser(t *testing.T, r *realm, c badCase) {
	t.Helper()
	w := c.Want.User
	if w == nil {
		w = &wantUser{}
	}
	id := w.ID
	if id == "" {
		id = c.SimID
	}
	if id == "" {
		id = "12345"
	}
	u := r.userByLink(t, id)
	if u == nil {
		t.Fatalf("no Keycloak user linked to %q after a 2xx", id)
	}
	if got, want := gocloak.PString(u.Username), mapping.Username(id); got != want {
		t.Errorf("username %q, want %q", got, want)
	}
	checkStr := func(what string, got string, want *string) {
		if want != nil && got != *want {
			t.Errorf("%s = %q, want %q", what, short(got), short(*want))
		}
	}
	checkStr("email", gocloak.PString(u.Email), w.Email)
	checkStr("firstName", gocloak.PString(u.FirstName), w.FirstName)
	checkStr("lastName", gocloak.PString(u.LastName), w.LastName)
	if w.EmailVerified != nil && gocloak.PBool(u.EmailVerified) != *w.EmailVerified {
		t.Errorf("emailVerified = %v, want %v", gocloak.PBool(u.EmailVerified), *w.EmailVerified)
	}
	attrs := map[string][]string{}
	if u.Attributes != nil {
		attrs = *u.Attributes
	}
	for name, want := range w.Attributes {
		if got := attrs[name]; len(got) != 1 || got[0] != want {
			t.Errorf("attribute %s = %q, want [%s]", name, got, short(want))
		}
	}
	for _, name := range w.Absent {
		if got, ok := attrs[name]; ok {
			t.Errorf("attribute %s = %q, want none", name, got)
		}
	}
}

func short(s string) string {
	if len(s) > 40 {
		return s[:20] + "…(" + strconv.Itoa(len(s)) + " bytes)"
	}
	return s
}

// userByLink returns the realm's user linked to bonbonID, nil when none; more than one
// fails the test (the bridge must never let that happen).
func (r *realm) userByLink(t *testing.T, bonbonID string) *gocloak.User {
	t.Helper()
	us, err := r.Admin.GetUsers(context.Background(), r.token(t), r.Name, gocloak.GetUsersParams{
		IDPAlias: gocloak.StringP("bonbon"), IDPUserID: gocloak.StringP(bonbonID),
		BriefRepresentation: gocloak.BoolP(false),
	})
	if err != nil {
		t.Fatalf("find by link %q: %v", short(bonbonID), err)
	}
	switch len(us) {
	case 0:
		return nil
	case 1:
		return us[0]
	}
	t.Fatalf("%d users linked to %q", len(us), short(bonbonID))
	return nil
}
