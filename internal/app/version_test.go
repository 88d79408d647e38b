package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/keycloak"
)

// fakeVersion answers ServerCapabilities with a fixed version or error.
type fakeVersion struct {
	version string
	err     error
}

func (f fakeVersion) ServerCapabilities(context.Context) (keycloak.Capabilities, error) {
	if f.err != nil {
		return keycloak.Capabilities{}, f.err
	}
	v, err := keycloak.ParseVersion(f.version)
	if err != nil {
		return keycloak.Capabilities{}, err
	}
	return keycloak.CapabilitiesOf(v)
}

func TestCheckKeycloakVersion(t *testing.T) {
	tests := []struct {
		name    string
		kc      fakeVersion
		wantErr string
		wantLog string
	}{
		{name: "supported is logged", kc: fakeVersion{version: "24.0.5"},
			wantLog: `"msg":"keycloak version","version":"24.0.5","major":24`},
		{name: "unsupported refuses to start", kc: fakeVersion{version: "23.0.7"},
			wantErr: "refusing to start: keycloak: unsupported version: Keycloak 23.0.7; " +
				"the bridge supports 24 and later; upgrade Keycloak to 24 or later"},
		{name: "unreachable starts anyway",
			kc:      fakeVersion{err: fmt.Errorf("read: %w", keycloak.ErrUnavailable)},
			wantLog: `"level":"WARN","msg":"could not read Keycloak's version; starting anyway"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, nil))
			err := checkKeycloakVersion(tt.kc, time.Second, log)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil ||
				err.Error() != tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(buf.String(), tt.wantLog) {
				t.Errorf("log %s lacks %s", buf.String(), tt.wantLog)
			}
		})
	}
}
