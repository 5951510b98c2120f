package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/netstep/netstep/internal/servetest"
)

// TestCredentialsInSubprotocol: a presenter token, a resume token and a
// seat work as subprotocols, and the server picks netstep.v1 back (a
// browser fails a handshake that picks none of those it offered).
func TestCredentialsInSubprotocol(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "xor")
	p, first := ts.joinRoom(t, rm, "?room="+rm.Code, rm.presenter())
	if got := p.ws.Subprotocol(); got != Subprotocol {
		t.Errorf("the server picked subprotocol %q, want %q", got, Subprotocol)
	}
	if room := first[len(first)-1]; room["role"] != "presenter" {
		t.Errorf("with the token as a subprotocol: room frame %v, want role presenter", room)
	}
	f, first := ts.joinRoom(t, rm, "?room="+rm.Code)
	if room := first[len(first)-1]; room["role"] != "follower" {
		t.Errorf("without credentials: room frame %v, want role follower", room)
	}
	if got := f.ws.Subprotocol(); got != "" {
		t.Errorf("a client that offered no subprotocol got %q", got)
	}

	l := ts.dial(t, "?lesson=xor")
	l.read() // state
	l.mustDo(`{"cmd":"step","granularity":"sample","id":1}`)
	l.ws.Close()
	token := l.hello["resume"].(string)
	back := ts.dial(t, "", Credentials{Resume: token})
	if back.hello["resumed"] != true || back.hello["session"] != l.hello["session"] {
		t.Errorf("resume as a subprotocol: hello %v, want session %v resumed", back.hello, l.hello["session"])
	}
	if s := back.read(); s["type"] != "state" || s["reason"] != "resume" {
		t.Errorf("after a resume: %v, want the state with reason resume", s)
	}
}

// TestCredentialsRefused: a bad Sec-WebSocket-Protocol is refused before the
// upgrade with a 400 whose message names the field; a presenter token in the
// query is refused; a resume token in the query is ignored and said so.
func TestCredentialsRefused(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "xor")
	for _, tt := range []struct {
		name, header, want string
	}{
		{"empty token", "netstep.v1, netstep.token.", "netstep.token: empty"},
		{"long token", "netstep.v1, netstep.token." + strings.Repeat("A", 65), "netstep.token: at most 64 characters, got 65."},
		{"long seat", "netstep.v1, netstep.seat." + strings.Repeat("A", 33), "netstep.seat: at most 32 characters, got 33."},
		{"two tokens", "netstep.v1, netstep.token.abc, netstep.token.def", "netstep.token: give it once."},
		{"bad characters", "netstep.v1, netstep.resume.a+b", "netstep.resume: want the letters, digits, - and _"},
		{"unknown", "netstep.v1, netstep.password.x", `"netstep.password.x" is not one of netstep's`},
		{"without netstep.v1", "netstep.token." + rm.PresenterToken, "offer netstep.v1 with the credentials"},
		{"huge header", "netstep.v1, " + strings.Repeat("x", 2000), "Sec-WebSocket-Protocol: at most 1024 bytes, got 2012."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Sec-WebSocket-Protocol": {tt.header}}
			ws, resp, err := ts.tryDial("?room="+rm.Code, h)
			if err == nil {
				ws.Close()
				t.Fatal("connected; want 400")
			}
			if resp == nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("got %v %v, want 400", resp, err)
			}
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), tt.want) {
				t.Errorf("message %q, want it to say %q", body, tt.want)
			}
			if bytes.Contains(body, []byte(rm.PresenterToken)) {
				t.Errorf("the message echoes the token: %q", body)
			}
		})
	}
	// Other subprotocols than netstep's are left alone.
	ws, _, err := ts.tryDial("?room="+rm.Code, http.Header{"Sec-WebSocket-Protocol": {"chat, netstep.v1"}})
	if err != nil {
		t.Fatalf("a foreign subprotocol beside netstep.v1: %v", err)
	}
	ws.Close()

	t.Run("token in the query", func(t *testing.T) {
		ws, resp, err := ts.tryDial("?room="+rm.Code+"&token="+rm.PresenterToken, nil)
		if err == nil {
			ws.Close()
			t.Fatal("connected with the token in the query; want 400")
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), "token: ") || !strings.Contains(string(body), "netstep.token.TOKEN") {
			t.Errorf("got %d %q, want 400 naming token and the subprotocol", resp.StatusCode, body)
		}
	})
	t.Run("resume in the query", func(t *testing.T) {
		l := ts.dial(t, "?lesson=xor")
		l.read()
		l.ws.Close()
		c := ts.dial(t, "?resume="+l.hello["resume"].(string))
		if c.hello["resumed"] != false || c.hello["session"] == l.hello["session"] {
			t.Errorf("resume token in the query: hello %v, want a fresh session", c.hello)
		}
		f := c.read()
		if f["code"] != CodeResumeExpired || !strings.HasPrefix(f["message"].(string), "resume: ") {
			t.Errorf("after hello: %v, want resume_expired naming resume", f)
		}
	})
}

// TestAccessLogHasNoCredentials: what a reverse proxy's access log keeps
// of every handshake (method, address with query, protocol, referrer,
// user agent), and everything the server logs itself at debug level,
// carries no presenter token, resume token or seat.
func TestAccessLogHasNoCredentials(t *testing.T) {
	var log servetest.Log
	front := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(&log, "%s %q %s %q %q\n", r.RemoteAddr, r.Method+" "+r.RequestURI+" "+r.Proto, r.Host, r.Referer(), r.UserAgent())
			next.ServeHTTP(w, r)
		})
	}
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := newTestServerBehind(t, Config{Logger: logger}, front)
	rm := ts.openRoom(t, "xor")
	p, _ := ts.joinRoom(t, rm, "?room="+rm.Code, rm.presenter())
	f, first := ts.joinRoom(t, rm, "?room="+rm.Code)
	seat, _ := first[len(first)-1]["seat"].(string)
	if seat == "" {
		t.Fatalf("a follower's room frame has no seat: %v", first[len(first)-1])
	}
	f.ws.Close()
	ts.joinRoom(t, rm, "?room="+rm.Code, Credentials{Seat: seat})
	p.mustDo(`{"cmd":"step","granularity":"sample","id":1}`)

	l := ts.dial(t, "?lesson=xor&events=compact")
	resume := l.hello["resume"].(string)
	l.ws.Close()
	ts.dial(t, "", Credentials{Resume: resume})

	got := log.String()
	if strings.Count(got, `"GET /ws`) < 5 {
		t.Fatalf("the access log did not see the handshakes:\n%s", got)
	}
	for name, secret := range map[string]string{"presenter token": rm.PresenterToken, "resume token": resume, "seat": seat} {
		if strings.Contains(got, secret) {
			t.Errorf("the log holds the %s %q:\n%s", name, secret, got)
		}
	}
}
