package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestQRCachedAndLimited: a room's QR code is drawn once per link (asked 50
// more times it is served from the cache even though the drawing allowance
// is 20, and a revalidation is a 304), and a flood of new links (one a Host header) is
// refused with 429 once the server-wide drawing allowance is spent.
func TestQRCachedAndLimited(t *testing.T) {
	h := newStaticHandler(t, nil)
	qr := func(host string, header ...string) (*http.Response, []byte) {
		req := httptest.NewRequest(http.MethodGet, "/api/rooms/ABCDEF/qr", nil)
		req.Host = host
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result(), rec.Body.Bytes()
	}
	res, first := qr("class.example")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(first, []byte("\x89PNG")) {
		t.Fatalf("first QR: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for range 50 {
		if _, again := qr("class.example"); !bytes.Equal(again, first) {
			t.Fatal("the same link drew a different QR code")
		}
	}
	if res, body := qr("class.example", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("revalidating the QR code: %d, %d bytes; want 304", res.StatusCode, len(body))
	}
	refused, start := 0, time.Now()
	for i := range 100 {
		res, _ := qr("flood" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".example")
		if res.StatusCode == http.StatusTooManyRequests {
			refused++
			if res.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	// The allowance: a burst of 20, then 10 a second.
	allowed := 20 + int(10*time.Since(start).Seconds()) + 1
	if drawn := 100 - refused; drawn > allowed {
		t.Errorf("100 new links in %v: %d drawn, want at most %d", time.Since(start), drawn, allowed)
	}
	// The kept one is still served during the flood.
	if res, again := qr("class.example"); res.StatusCode != 200 || !bytes.Equal(again, first) {
		t.Errorf("the kept QR code during a flood: %d", res.StatusCode)
	}
}
