package bridge

import "testing"

// BenchmarkBearer is the webhook's first step: the shape check before any outbound call.
func BenchmarkBearer(b *testing.B) {
	header := "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIxMjM0NSIsImV4cCI6MTc" +
		"wMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVzLWZvci10aGUtYmVuY2htYXJrLW9ubHk"
	for b.Loop() {
		if _, err := bearer(header); err != nil {
			b.Fatal(err)
		}
	}
}
