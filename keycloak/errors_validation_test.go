package keycloak

import "testing"

func TestIsValidationError(t *testing.T) {
	tests := []struct {
		name, body string
		want       bool
	}{
		{"one field", `{"field":"firstName","errorMessage":"error-person-name-invalid-character",` +
			`"params":["firstName"]}`, true},
		{"several fields",
			`{"errors":[{"field":"email","errorMessage":"error-invalid-email"}]}`, true},
		{"shutting down, on a GET", `{"error":"invalid_request",` +
			`"error_description":"Cannot parse the JSON"}`, false},
		{"aborted create", `{"errorMessage":"Could not create user"}`, false},
		{"not JSON", `<html>`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isValidationError([]byte(tt.body)); got != tt.want {
				t.Errorf("isValidationError(%s) = %v, want %v", tt.body, got, tt.want)
			}
		})
	}
}
