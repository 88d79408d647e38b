package bridge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bonbon-keycloak/bonbon-bridge/bonbon"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge"
	"github.com/bonbon-keycloak/bonbon-bridge/bridge/storetest"
)

// blockingBonbon holds every EarnUser call until release is closed.
type blockingBonbon struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingBonbon) EarnUser(ctx context.Context, _ string) (bonbon.User, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return bonbon.User{}, ctx.Err()
	}
	return bonbon.User{ID: "limit-1", Fields: map[string]string{}}, nil
}

func TestWebhookInFlightLimit(t *testing.T) {
	const limit = 3
	bb := &blockingBonbon{entered: make(chan struct{}, 10), release: make(chan struct{})}
	srv, err := bridge.New(bridge.Config{
		Users: storetest.NewFake(), Bonbon: bb, MaxInFlight: limit,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), RetryAfter: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/bonbon", nil)
		req.Header.Set("Authorization", "Bearer "+sampleToken)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}

	// Fill every slot with a webhook that waits on Bonbon.
	var wg sync.WaitGroup
	held := make([]*httptest.ResponseRecorder, limit)
	for i := range limit {
		wg.Go(func() { held[i] = post() })
		<-bb.entered
	}

	// One more is refused at once, without reaching Bonbon.
	began := time.Now()
	rec := post()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("over the limit: %d Retry-After %q, want 503 and 2",
			rec.Code, rec.Header().Get("Retry-After"))
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("refusal took %s, want immediate", d)
	}
	select {
	case <-bb.entered:
		t.Error("the refused webhook reached Bonbon")
	default:
	}

	// Once the held ones finish, slots are free again.
	close(bb.release)
	wg.Wait()
	for i, r := range held {
		if r.Code != http.StatusOK {
			t.Errorf("held webhook %d answered %d", i, r.Code)
		}
	}
	if rec := post(); rec.Code != http.StatusOK {
		t.Errorf("after release: %d, want 200", rec.Code)
	}
}
