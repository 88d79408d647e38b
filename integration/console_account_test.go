package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/bonbon-keycloak/bonbon-bridge/mapping"
)

// accountAPI calls the realm's account REST API (what the account console shows) as the
// user whose access token it holds.
type accountAPI struct {
	url, token string
}

// accountRep is the account API's view of the user, with the user-profile metadata that
// tells the account console which fields to show and which are read-only.
type accountRep struct {
	Attributes          map[string][]string `json:"attributes"`
	UserProfileMetadata struct {
		Attributes []struct {
			Name     string `json:"name"`
			ReadOnly bool   `json:"readOnly"`
			Group    string `json:"group"`
		} `json:"attributes"`
	} `json:"userProfileMetadata"`
}

func (a accountAPI) do(t *testing.T, method string, body any) (int, []byte) {
	t.Helper()
	req := gocloak.NewClient(server.URL).GetRequestWithBearerAuth(context.Background(), a.token).
		SetHeader("Accept", "application/json")
	if body != nil {
		req.SetBody(body)
	}
	resp, err := req.Execute(method, a.url+"?userProfileMetadata=true")
	if err != nil {
		t.Fatalf("%s account: %v", method, err)
	}
	return resp.StatusCode(), resp.Body()
}

// TestConsoleAccountShowsBonbonDataReadOnly checks the permissions provisioning declares,
// as the user meets them: the Bonbon attributes are visible and read-only, the
// pending-link marker is not visible at all.
func TestConsoleAccountShowsBonbonDataReadOnly(t *testing.T) {
	r := newRealm(t)
	st := newStack(t, r, stackOptions{})
	a := st.deliver(t, "12345")
	if a.Body["status"] != "created" {
		t.Fatalf("webhook = %v", a.Body)
	}

	// The admin sets a marker value (to see that the user cannot) and a password, and the
	// user logs in (a password grant through accountLoginClient: its tokens are for the
	// account API on every version).
	ctx, id := context.Background(), a.Body["user_id"].(string)
	u := onlyUser(t, r)
	(*u.Attributes)[mapping.PendingLinkAttribute] = []string{"secret-claim"}
	if err := r.Admin.UpdateUser(ctx, r.token(t), r.Name, *u); err != nil {
		t.Fatal(err)
	}
	if v := (*onlyUser(t, r).Attributes)[mapping.PendingLinkAttribute]; len(v) != 1 {
		t.Fatalf("the admin could not set the marker: %v", v)
	}
	password := "pw-" + randomHex(8)
	if err := r.Admin.SetPassword(ctx, r.token(t), id, r.Name, password, false); err != nil {
		t.Fatal(err)
	}
	jwt, err := r.Admin.Login(ctx, accountLoginClient(t, r), "", r.Name, "bonbon-12345",
		password)
	if err != nil {
		t.Fatalf("user login: %v", err)
	}
	acct := accountAPI{url: server.URL + "/realms/" + r.Name + "/account/", token: jwt.AccessToken}

	// What the account console gets: the values, read-only, in the Bonbon group.
	status, body := acct.do(t, http.MethodGet, nil)
	var rep accountRep
	if status != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("GET account = %d %s", status, body)
	}
	for name, v := range sampleAttributes {
		if !slices.Equal(rep.Attributes[name], []string{v}) {
			t.Errorf("the user sees %s = %v, want [%s]", name, rep.Attributes[name], v)
		}
	}
	for _, m := range rep.UserProfileMetadata.Attributes {
		_, bonbonAttr := sampleAttributes[m.Name]
		if bonbonAttr && (!m.ReadOnly || m.Group != "bonbon") {
			t.Errorf("account console field %+v, want read-only in group bonbon", m)
		}
		if m.Name == mapping.PendingLinkAttribute {
			t.Errorf("the user sees the pending-link marker's field")
		}
	}
	if _, seen := rep.Attributes[mapping.PendingLinkAttribute]; seen {
		t.Errorf("the user sees the pending-link marker: %v", rep.Attributes)
	}

	// The user cannot change Bonbon's data.
	edit := map[string]any{"username": "bonbon-12345", "email": "alyssa.p.hacker@bonbon.tech",
		"firstName": "Alyssa", "lastName": "P. Hacker",
		"attributes": map[string][]string{"bonbon_bonbons": {"99999"}}}
	status, body = acct.do(t, http.MethodPost, edit)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "read-only") {
		t.Errorf("the user's edit of the balance = %d %s, want 400 read-only", status, body)
	}
	assertAttrs(t, onlyUser(t, r), sampleAttributes)
}
