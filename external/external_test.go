package external

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestBase(t *testing.T) {
	tests := []struct {
		name          string
		tls           bool
		proto, fwHost string
		trust         bool
		want          string
	}{
		{"plain", false, "", "", false, "http://netstep.example:8080"},
		{"tls", true, "", "", false, "https://netstep.example:8080"},
		{"proxy headers ignored without trust", false, "https", "course.example.org", false, "http://netstep.example:8080"},
		{"proxy cannot downgrade without trust", true, "http", "", false, "https://netstep.example:8080"},
		{"trusted proxy", false, "https", "course.example.org", true, "https://course.example.org"},
		{"trusted proxy, first value", false, "https, http", "a.example, b.example", true, "https://a.example"},
		{"trusted proxy, odd scheme ignored", false, "gopher", "", true, "http://netstep.example:8080"},
		{"trusted proxy, host with a path ignored", false, "", "evil.example/x", true, "http://netstep.example:8080"},
		{"trusted proxy, host with a user ignored", false, "", "a@evil.example", true, "http://netstep.example:8080"},
		{"trusted proxy, IPv6", false, "", "[::1]:9000", true, "http://[::1]:9000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = "netstep.example:8080"
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if tt.fwHost != "" {
				r.Header.Set("X-Forwarded-Host", tt.fwHost)
			}
			if got := Base(r, tt.trust); got != tt.want {
				t.Errorf("Base = %q, want %q", got, tt.want)
			}
		})
	}
}
