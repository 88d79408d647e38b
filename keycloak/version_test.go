package keycloak

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{in: "26.7.3", want: Version{26, 7, 3, "26.7.3"}},
		{in: "Keycloak - Version 24.0.5\n", want: Version{24, 0, 5, "24.0.5"}},
		{in: "25.0.6.redhat-00001", want: Version{25, 0, 6, "25.0.6"}},
		{in: "999.0.0-SNAPSHOT", want: Version{999, 0, 0, "999.0.0"}},
		{in: "latest", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersion(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrUnsupportedVersion) {
				t.Errorf("err = %v, want ErrUnsupportedVersion", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestCapabilitiesOf pins every known difference between the supported majors.
func TestCapabilitiesOf(t *testing.T) {
	tests := []struct {
		version     string
		wantErr     bool
		mgmtPort    bool
		hostnameOpt string
		adminEnv    string
		jdks        []int
	}{
		{version: "23.0.7", wantErr: true},
		{version: "24.0.5", hostnameOpt: "--hostname-url", adminEnv: "KEYCLOAK_ADMIN",
			jdks: []int{21, 17}},
		{version: "25.0.6", mgmtPort: true, hostnameOpt: "--hostname",
			adminEnv: "KEYCLOAK_ADMIN", jdks: []int{21, 17}},
		{version: "26.0.0", mgmtPort: true, hostnameOpt: "--hostname",
			adminEnv: "KC_BOOTSTRAP_ADMIN_USERNAME", jdks: []int{21, 17}},
		{version: "26.7.3", mgmtPort: true, hostnameOpt: "--hostname",
			adminEnv: "KC_BOOTSTRAP_ADMIN_USERNAME", jdks: []int{25, 21, 17}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			v, err := ParseVersion(tt.version)
			if err != nil {
				t.Fatal(err)
			}
			c, err := CapabilitiesOf(v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrUnsupportedVersion) {
					t.Errorf("err = %v, want ErrUnsupportedVersion", err)
				}
				return
			}
			if c.ManagementPort != tt.mgmtPort || c.HostnameURLOption != tt.hostnameOpt ||
				c.AdminUserEnv != tt.adminEnv || !slices.Equal(c.JDKs, tt.jdks) {
				t.Errorf("got %+v", c)
			}
		})
	}
}

// TestServerCapabilities reads serverinfo as each version answers the bridge's account.
func TestServerCapabilities(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantMajor int
		wantErr   error
	}{
		{name: "24 shows systemInfo", status: 200,
			body: `{"systemInfo":{"version":"24.0.5","uptime":"1s"},"themes":{}}`, wantMajor: 24},
		{name: "25 shows systemInfo", status: 200,
			body: `{"systemInfo":{"version":"25.0.6"}}`, wantMajor: 25},
		{name: "26 hides systemInfo", status: 200,
			body: `{"profileInfo":{"name":"default"},"themes":{}}`, wantMajor: 26},
		{name: "23 is refused", status: 200,
			body: `{"systemInfo":{"version":"23.0.7"}}`, wantErr: ErrUnsupportedVersion},
		{name: "forbidden", status: 403, body: `{"error":"unknown_error"}`,
			wantErr: ErrUnauthorized},
		{name: "not JSON", status: 200, body: `<html>`, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc := serverInfoClient(t, tt.status, tt.body)
			c, err := kc.ServerCapabilities(context.Background())
			if tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != nil {
				if err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if c.Version.Major != tt.wantMajor {
				t.Errorf("major = %d (%s), want %d", c.Version.Major, c.Version, tt.wantMajor)
			}
		})
	}
}

// errAny marks a case that must fail, whatever the error.
var errAny = errors.New("any error")

// serverInfoClient is a Client whose Keycloak issues a token and answers serverinfo with
// status and body.
func serverInfoClient(t *testing.T, status int, body string) *Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /realms/r/protocol/openid-connect/token",
		func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":300}`))
		})
	mux.HandleFunc("GET /admin/serverinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	kc, err := New(Config{URL: srv.URL, Realm: "r", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// TestFoundUsersAsDeclared checks that a user found by search is read again by id only
// where the search shows undeclared attributes (24, 25) or the version is unknown.
func TestFoundUsersAsDeclared(t *testing.T) {
	tests := []struct {
		name       string
		serverinfo string
		wantReRead bool
	}{
		{"24 reads again by id", `{"systemInfo":{"version":"24.0.5"}}`, true},
		{"25 reads again by id", `{"systemInfo":{"version":"25.0.6"}}`, true},
		{"26 trusts the search", `{"themes":{}}`, false},
		{"unknown version reads again", ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byID := 0
			mux := http.NewServeMux()
			mux.HandleFunc("POST /realms/r/protocol/openid-connect/token",
				func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"access_token":"t","expires_in":300}`))
				})
			mux.HandleFunc("GET /admin/serverinfo", func(w http.ResponseWriter, _ *http.Request) {
				if tt.serverinfo == "" {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				_, _ = w.Write([]byte(tt.serverinfo))
			})
			mux.HandleFunc("GET /admin/realms/r/users", func(w http.ResponseWriter,
				_ *http.Request) {
				_, _ = w.Write([]byte(`[{"id":"u1","email":"a@b.test",` +
					`"attributes":{"old":["x"],"kept":["y"]}}]`))
			})
			mux.HandleFunc("GET /admin/realms/r/users/u1", func(w http.ResponseWriter,
				_ *http.Request) {
				byID++
				_, _ = w.Write([]byte(`{"id":"u1","email":"a@b.test","attributes":{"kept":["y"]}}`))
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			kc, err := New(Config{URL: srv.URL, Realm: "r", ClientSecret: "s"})
			if err != nil {
				t.Fatal(err)
			}
			u, err := kc.FindByEmail(context.Background(), "a@b.test")
			if err != nil {
				t.Fatal(err)
			}
			_, hasOld := u.Attributes["old"]
			if reRead := byID == 1; reRead != tt.wantReRead || hasOld == tt.wantReRead {
				t.Errorf("read by id %d times, attributes %v; want re-read %v", byID,
					u.Attributes, tt.wantReRead)
			}
		})
	}
}
