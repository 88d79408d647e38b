package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of run and reads of the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunServesAndStops(t *testing.T) {
	env := map[string]string{"BONBON_SIM_API_KEY": "very-secret", "BONBON_SIM_CLIENT_ID": "c1"}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		args := []string{"-addr", "127.0.0.1:0", "-users", "../../testdata/bonbon/users.json",
			"-token-ttl", "1m"}
		done <- run(ctx, args, func(k string) string { return env[k] }, pw, &stderr)
		pw.Close()
	}()

	// The first stdout line names the URL.
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "bonbon-sim listening on "))
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	resp, err := http.Get(url + "/_sim/users")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "12345") {
		t.Errorf("users = %s", body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no shutdown")
	}
	if strings.Contains(stderr.String(), "very-secret") {
		t.Error("api key logged")
	}
	if !strings.Contains(stderr.String(), `"msg":"simulator ready"`) {
		t.Errorf("stderr = %s", stderr.String())
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    options
		wantErr bool
	}{
		{name: "defaults and env", env: map[string]string{"BONBON_SIM_API_KEY": "k",
			"BONBON_SIM_CLIENT_ID": "c", "BONBON_SIM_TOKEN_TTL": "2m"},
			want: options{addr: "127.0.0.1:8090", clientID: "c", apiKey: "k",
				tokenTTL: 2 * time.Minute}},
		{name: "flags win", args: []string{"-addr", ":1", "-api-key", "f", "-token-ttl", "5s"},
			env:  map[string]string{"BONBON_SIM_API_KEY": "k", "BONBON_SIM_ADDR": "x"},
			want: options{addr: ":1", apiKey: "f", tokenTTL: 5 * time.Second}},
		{name: "bad ttl", args: []string{"-token-ttl", "soon"}, wantErr: true},
		{name: "negative ttl", args: []string{"-token-ttl", "-1m"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMissingCredentialsRefused(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0"},
		func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "api key is required") {
		t.Fatalf("err = %v", err)
	}
}
