// Package external says what the server is called from outside: the scheme
// and host a browser used to reach it, for the absolute links the server
// hands out (oEmbed answers, embed snippets, a room's join and presenter
// links, the join QR code).
//
// There is one rule. The connection decides: https when it came over TLS,
// and the Host the browser asked for. A reverse proxy's X-Forwarded-Proto
// and X-Forwarded-Host headers count only when the operator said a proxy
// sets them on every request (netstep serve --trust-proxy); without that,
// anyone could send them and have the server print links to another site.
package external

import (
	"net/http"
	"strings"
)

// Base returns scheme://host of the server as the request's client reached
// it, by the rule in the package comment. When trustProxy is set, the first
// value of each header wins (a proxy appends its own after the client's
// only when the client already sent one; the proxy in front is trusted to
// overwrite them); a value that is not http/https or not a plain host is
// ignored.
func Base(r *http.Request, trustProxy bool) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if trustProxy {
		if p := strings.ToLower(first(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
		if h := first(r.Header.Get("X-Forwarded-Host")); plainHost(h) {
			host = h
		}
	}
	return scheme + "://" + host
}

// Host returns the host[:port] of Base.
func Host(r *http.Request, trustProxy bool) string {
	b := Base(r, trustProxy)
	return b[strings.Index(b, "://")+3:]
}

// first is the first of a header's comma-separated values, trimmed.
func first(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// plainHost reports whether h is a host name, IPv4 or bracketed IPv6
// address, with an optional port, and nothing else (no path, user or
// spaces) that could change what a link built on it points to.
func plainHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}
