package external

import (
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func mustProxies(t *testing.T, list ...string) Proxies {
	t.Helper()
	p, err := ParseProxies(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBase(t *testing.T) {
	tests := []struct {
		name          string
		tls           bool
		peer          string
		proto, fwHost string
		proxies       []string
		want          string
	}{
		{"plain", false, "", "", "", nil, "http://netstep.example:8080"},
		{"tls", true, "", "", "", nil, "https://netstep.example:8080"},
		{"proxy headers ignored without trust", false, "", "https", "course.example.org", nil, "http://netstep.example:8080"},
		{"proxy cannot downgrade without trust", true, "", "http", "", nil, "https://netstep.example:8080"},
		{"trusted proxy", false, "", "https", "course.example.org", []string{"10.0.0.0/8"}, "https://course.example.org"},
		{"headers from a peer that is not a trusted proxy ignored", false, "192.0.2.9:4000", "https", "course.example.org", []string{"10.0.0.0/8"}, "http://netstep.example:8080"},
		{"trusted proxy, first value", false, "", "https, http", "a.example, b.example", []string{"10.0.0.1"}, "https://a.example"},
		{"trusted proxy, odd scheme ignored", false, "", "gopher", "", []string{"10.0.0.0/8"}, "http://netstep.example:8080"},
		{"trusted proxy, host with a path ignored", false, "", "", "evil.example/x", []string{"10.0.0.0/8"}, "http://netstep.example:8080"},
		{"trusted proxy, host with a user ignored", false, "", "", "a@evil.example", []string{"10.0.0.0/8"}, "http://netstep.example:8080"},
		{"trusted proxy, IPv6", false, "", "", "[::1]:9000", []string{"10.0.0.0/8"}, "http://[::1]:9000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = "netstep.example:8080"
			r.RemoteAddr = "10.0.0.1:5000"
			if tt.peer != "" {
				r.RemoteAddr = tt.peer
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if tt.fwHost != "" {
				r.Header.Set("X-Forwarded-Host", tt.fwHost)
			}
			if got := Base(r, mustProxies(t, tt.proxies...)); got != tt.want {
				t.Errorf("Base = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClient(t *testing.T) {
	lb := []string{"10.0.0.0/8", "127.0.0.1", "fd00::/8"}
	long := strings.Repeat("203.0.113.66, ", 400) // 5,600 bytes a client sent
	tests := []struct {
		name    string
		peer    string
		xff     []string // header lines, in order
		proxies []string
		want    string
	}{
		{"no proxies: the peer", "192.0.2.1:1234", []string{"203.0.113.7"}, nil, "192.0.2.1"},
		{"peer is not a trusted proxy: header ignored", "192.0.2.1:1234", []string{"203.0.113.7"}, lb, "192.0.2.1"},
		{"one trusted proxy", "10.1.2.3:4444", []string{"203.0.113.7"}, lb, "203.0.113.7"},
		{"trusted proxy, no header: the proxy", "10.1.2.3:4444", nil, lb, "10.1.2.3"},
		{"spoofed leftmost entries skipped", "10.1.2.3:4444", []string{"1.1.1.1, 8.8.8.8, 203.0.113.7"}, lb, "203.0.113.7"},
		{"a chain of trusted proxies", "127.0.0.1:9", []string{"6.6.6.6, 203.0.113.7, 10.9.9.9, 10.0.0.5"}, lb, "203.0.113.7"},
		{"several header lines read as one list", "10.1.2.3:4444", []string{"6.6.6.6", "203.0.113.7, 10.2.2.2"}, lb, "203.0.113.7"},
		{"a spoofed trusted address on the left does not help", "10.1.2.3:4444", []string{"10.7.7.7, 203.0.113.7"}, lb, "203.0.113.7"},
		{"every entry a trusted proxy: the left-most", "10.1.2.3:4444", []string{"10.0.0.9, 10.0.0.8"}, lb, "10.0.0.9"},
		{"entry with a port", "10.1.2.3:4444", []string{"203.0.113.7:55123"}, lb, "203.0.113.7"},
		{"IPv6 entry in brackets with a port", "[fd00::1]:80", []string{"[2001:db8::5]:443"}, lb, "2001:db8::5"},
		{"IPv6 entry", "[fd00::1]:80", []string{"2001:db8::5"}, lb, "2001:db8::5"},
		{"IPv4-mapped IPv6 peer", "[::ffff:10.1.2.3]:80", []string{"203.0.113.7"}, lb, "203.0.113.7"},
		{"garbage entry: the trusted proxy to its right", "10.1.2.3:4444", []string{"203.0.113.7, unknown"}, lb, "10.1.2.3"},
		{"garbage entry behind two proxies", "10.1.2.3:4444", []string{"_hidden, 10.4.4.4"}, lb, "10.4.4.4"},
		{"empty entries skipped", "10.1.2.3:4444", []string{"203.0.113.7, ,"}, lb, "203.0.113.7"},
		{"a long spoofed header: only its end is read", "10.1.2.3:4444", []string{long + "203.0.113.7"}, lb, "203.0.113.7"},
		{"more trusted hops than are read: the last one read", "10.1.2.3:4444", []string{"203.0.113.7" + strings.Repeat(", 10.0.0.1", 20)}, lb, "10.0.0.1"},
		{"peer that is not an address", "pipe", []string{"203.0.113.7"}, lb, "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got, want := Client(r, mustProxies(t, tt.proxies...)), tt.want; got != want {
				t.Errorf("Client = %q, want %q", got, want)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	tests := []struct {
		in      []string
		want    string
		wantErr string
	}{
		{nil, "", ""},
		{[]string{"10.0.0.0/8,127.0.0.1"}, "10.0.0.0/8,127.0.0.1", ""},
		{[]string{" 10.0.0.0/8 ", "::1", "fd00::/8"}, "10.0.0.0/8,::1,fd00::/8", ""},
		{[]string{"10.1.2.3/8"}, "10.0.0.0/8", ""},
		{[]string{"::ffff:10.0.0.0/104"}, "10.0.0.0/8", ""},
		{[]string{"10.0.0.0/33"}, "", `"10.0.0.0/33"`},
		{[]string{"true"}, "", `"true"`},
		{[]string{"10.0.0.0/8,lb.example"}, "", `"lb.example"`},
		{[]string{"fe80::1%eth0"}, "", `"fe80::1%eth0"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ";"), func(t *testing.T) {
			p, err := ParseProxies(tt.in)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrProxy) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzClient: no header makes Client panic or answer something that is not
// the peer or an address from the header.
func FuzzClient(f *testing.F) {
	f.Add("1.1.1.1, 10.0.0.1", "10.0.0.2:1")
	f.Add("[::1]:80,,unknown", "[fd00::1]:2")
	p, _ := ParseProxies([]string{"10.0.0.0/8", "fd00::/8"})
	f.Fuzz(func(t *testing.T, xff, peer string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		got := Client(r, p)
		if got == "" && peer != "" {
			t.Errorf("Client(%q from %q) is empty", xff, peer)
		}
	})
}
