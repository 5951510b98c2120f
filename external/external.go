// Package external says who is on the other end of a request and what the
// server is called from outside: the client's address, which per-address
// limits count, and the scheme and host a browser used to reach the
// server, for the absolute links the server hands out (oEmbed answers,
// embed snippets, a room's join and presenter links, the join QR code).
//
// There is one rule. The connection decides: its peer's address, https
// when it came over TLS, and the Host the browser asked for. A reverse
// proxy's headers (X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host)
// count only when the connection's peer is one of the proxies the operator
// named (netstep serve --trust-proxy 10.0.0.0/8,...); from anyone else they
// are ignored, since anyone can send them: a client could otherwise spread
// itself over made-up addresses past every per-address limit, or have the
// server print links to another site.
package external

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies is the set of reverse proxies whose forwarding headers count.
// The zero value trusts none.
type Proxies struct {
	nets []netip.Prefix
}

// ErrProxy marks the error ParseProxies returns for an entry that is not
// an address or a CIDR.
var ErrProxy = errors.New("not an IP address or CIDR")

// ParseProxies reads the proxies' addresses: single IPv4 or IPv6
// addresses (10.0.0.7, ::1) and CIDR blocks (10.0.0.0/8, fd00::/8), each
// entry also possibly a comma-separated list. An error names the entry.
func ParseProxies(list []string) (Proxies, error) {
	var p Proxies
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if pre, err := netip.ParsePrefix(s); err == nil {
				if pre.Addr().Zone() != "" {
					return Proxies{}, fmt.Errorf("%q: %w (an address with a zone cannot be a proxy's)", s, ErrProxy)
				}
				p.nets = append(p.nets, netip.PrefixFrom(pre.Addr().Unmap(), prefixBits(pre)).Masked())
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return Proxies{}, fmt.Errorf("%q: %w, such as 10.0.0.7, 10.0.0.0/8 or fd00::/8", s, ErrProxy)
			}
			a = a.Unmap()
			p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return p, nil
}

// prefixBits is pre's length, less 96 when an IPv4-mapped IPv6 prefix is
// read as the IPv4 one it maps (::ffff:10.0.0.0/104 is 10.0.0.0/8).
func prefixBits(pre netip.Prefix) int {
	if a := pre.Addr(); a.Is4In6() {
		return max(0, pre.Bits()-96)
	}
	return pre.Bits()
}

// Any reports whether any proxy is trusted.
func (p Proxies) Any() bool { return len(p.nets) > 0 }

// String lists the proxies, comma-separated.
func (p Proxies) String() string {
	s := make([]string, len(p.nets))
	for i, n := range p.nets {
		if n.IsSingleIP() {
			s[i] = n.Addr().String()
		} else {
			s[i] = n.String()
		}
	}
	return strings.Join(s, ",")
}

func (p Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// peer is the address of the connection's other end, if r.RemoteAddr is
// one.
func peer(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap(), err == nil
}

// viaProxy reports whether r came straight from a trusted proxy.
func (p Proxies) viaProxy(r *http.Request) bool {
	if !p.Any() {
		return false
	}
	a, ok := peer(r)
	return ok && p.trusts(a)
}

// Limits on reading X-Forwarded-For: a client may send any header it likes
// to the proxy, which appends to it, so only the end is read.
const (
	maxForwardedBytes = 2048 // of the header's end, over all its lines
	maxForwardedHops  = 16   // entries read from the right
)

// Client returns the address of the client that made r, as a string
// (an IP address without port or zone, or RemoteAddr itself when it is not
// an address). When r came straight from a trusted proxy, it is the
// right-most X-Forwarded-For entry that is not itself a trusted proxy: the
// entries to its left were written by the client or by proxies nobody
// vouches for, so a client cannot choose its address by sending the header
// itself. If every entry read is a trusted proxy, it is the left-most one
// read; if an entry is not an address (a proxy that obfuscates), the
// trusted proxy to its right is the client as far as anyone can tell.
func Client(r *http.Request, p Proxies) string {
	a, ok := peer(r)
	if !ok {
		return r.RemoteAddr
	}
	if !p.Any() || !p.trusts(a) {
		return a.WithZone("").String()
	}
	client := a
	budget, hops := maxForwardedBytes, 0
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for v != "" {
			if budget <= 0 || hops >= maxForwardedHops {
				return client.String()
			}
			entry := v
			if c := strings.LastIndexByte(v, ','); c >= 0 {
				entry, v = v[c+1:], v[:c]
			} else {
				v = ""
			}
			budget -= len(entry) + 1
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			hops++
			hop, ok := forwardedAddr(entry)
			if !ok {
				return client.String()
			}
			client = hop
			if !p.trusts(hop) {
				return hop.String()
			}
		}
	}
	return client.String()
}

// forwardedAddr reads one X-Forwarded-For entry: an address, possibly with
// a port (1.2.3.4:5678, [2001:db8::1]:443) or in brackets.
func forwardedAddr(s string) (netip.Addr, bool) {
	if len(s) > 64 {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// Base returns scheme://host of the server as the request's client reached
// it, by the rule in the package comment. When r came straight from a
// trusted proxy, the first value of each of X-Forwarded-Proto and
// X-Forwarded-Host wins (the proxy in front is trusted to set them,
// overwriting what a client sent); a value that is not http/https or not a
// plain host is ignored.
func Base(r *http.Request, p Proxies) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if p.viaProxy(r) {
		if v := strings.ToLower(first(r.Header.Get("X-Forwarded-Proto"))); v == "http" || v == "https" {
			scheme = v
		}
		if h := first(r.Header.Get("X-Forwarded-Host")); plainHost(h) {
			host = h
		}
	}
	return scheme + "://" + host
}

// Host returns the host[:port] of Base.
func Host(r *http.Request, p Proxies) string {
	b := Base(r, p)
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
