package server

// Credentials: how a client proves who it is at the handshake without
// putting a secret in the websocket URL, which reverse proxies and access
// logs keep. They travel as websocket subprotocols (Sec-WebSocket-Protocol),
// a header that access logs do not record, and that browsers let a page set
// (new WebSocket(url, protocols)); the server picks Subprotocol back.

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
)

// Subprotocol is the subprotocol the server picks: a client that offers
// credentials offers it too (a browser fails a handshake whose answer names
// none of the subprotocols it offered).
const Subprotocol = "netstep.v1"

// Credentials are the secrets a connection may present: at most one of
// each, base64url, as the server or the room gave them out.
type Credentials struct {
	Resume string // the resume token of the session to continue (hello.resume)
	Token  string // a classroom room's presenter token
	Seat   string // a follower's seat (its last room frame), to keep its vote
}

// The longest value of each credential, and of the whole header: a
// 32-character token with room to spare, a seat, and a few subprotocols
// besides ours. Longer ones are refused before anything reads them.
const (
	maxCredentialChars   = 64
	maxSubprotocolHeader = 1024
)

// credentialNames maps each subprotocol prefix to its credential.
var credentialNames = []struct {
	prefix string
	max    int
	field  func(*Credentials) *string
}{
	{"netstep.resume.", maxCredentialChars, func(c *Credentials) *string { return &c.Resume }},
	{"netstep.token.", maxCredentialChars, func(c *Credentials) *string { return &c.Token }},
	{"netstep.seat.", maxSeatChars, func(c *Credentials) *string { return &c.Seat }},
}

// Subprotocols returns what a client offers as Sec-WebSocket-Protocol to
// present these credentials: Subprotocol, then netstep.resume.TOKEN,
// netstep.token.TOKEN and netstep.seat.SEAT for those that are set. The
// page's static/js/socket.js does the same.
func (c Credentials) Subprotocols() []string {
	out := []string{Subprotocol}
	for _, n := range credentialNames {
		if v := *n.field(&c); v != "" {
			out = append(out, n.prefix+v)
		}
	}
	return out
}

// credentialsOf reads a handshake's credentials from its
// Sec-WebSocket-Protocol header. It is the one place that reads them. A
// problem is said in a sentence naming the field; subprotocols that are not
// netstep's are left alone.
func credentialsOf(r *http.Request) (Credentials, string) {
	var c Credentials
	size := 0
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		size += len(h)
	}
	if size > maxSubprotocolHeader {
		return c, fmt.Sprintf("Sec-WebSocket-Protocol: at most %d bytes, got %d.", maxSubprotocolHeader, size)
	}
	ours, any := false, false
	for _, p := range websocket.Subprotocols(r) {
		if p == Subprotocol {
			ours = true
			continue
		}
		if !strings.HasPrefix(p, "netstep.") {
			continue
		}
		known := false
		for _, n := range credentialNames {
			v, ok := strings.CutPrefix(p, n.prefix)
			if !ok {
				continue
			}
			known = true
			name := strings.TrimSuffix(n.prefix, ".")
			dst := n.field(&c)
			switch {
			case *dst != "":
				return c, name + ": give it once."
			case v == "":
				return c, name + ": empty; give the value after the dot, as " + n.prefix + "VALUE."
			case len(v) > n.max:
				return c, fmt.Sprintf("%s: at most %d characters, got %d.", name, n.max, len(v))
			case !base64url(v):
				return c, name + ": want the letters, digits, - and _ the server gave out."
			}
			*dst = v
			any = true
		}
		if !known {
			return c, fmt.Sprintf("Sec-WebSocket-Protocol: %.40q is not one of netstep's; they are %s, netstep.resume.TOKEN, netstep.token.TOKEN and netstep.seat.SEAT.", p, Subprotocol)
		}
	}
	if any && !ours {
		return c, "Sec-WebSocket-Protocol: offer " + Subprotocol + " with the credentials, for the server to pick."
	}
	return c, ""
}

// base64url reports whether s has only base64url's letters, digits, - and
// _, which are also valid in a subprotocol's name.
func base64url(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
