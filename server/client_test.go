package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/engine"
)

// testServer is a Server behind httptest, shut down when the test ends.
type testServer struct {
	*Server
	http *httptest.Server
	url  string // ws://…/ws
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	return newTestServerBehind(t, cfg, nil)
}

// newTestServerBehind is newTestServer with the handler wrapped by front
// (a middleware, as a reverse proxy in front of the server would be).
func newTestServerBehind(t testing.TB, cfg Config, front func(http.Handler) http.Handler) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.Lessons == nil {
		cat, err := engine.Builtin().With(os.DirFS("testdata"), ".")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Lessons = cat
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.HandleFunc("/healthz", srv.Healthz)
	mux.Handle("/metrics", srv.Metrics())
	mux.HandleFunc("/api/rooms", srv.CreateRoom)
	var h http.Handler = mux
	if front != nil {
		h = front(mux)
	}
	hs := httptest.NewServer(h)
	ts := &testServer{Server: srv, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
	})
	return ts
}

// client is a test's websocket client.
type client struct {
	t     testing.TB
	ws    *websocket.Conn
	hello map[string]any
}

// dial connects to the server (with query, e.g. "?lesson=xor", and the
// credentials given, as subprotocols) and reads hello.
func (ts *testServer) dial(t testing.TB, query string, creds ...Credentials) *client {
	t.Helper()
	c, resp, err := ts.tryDial(query, nil, creds...)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", query, err, status)
	}
	cl := &client{t: t, ws: c}
	t.Cleanup(func() { c.Close() })
	h := cl.read()
	if h["type"] != "hello" {
		t.Fatalf("first frame = %v, want hello", h)
	}
	cl.hello = h
	return cl
}

// dialAtOnce opens n websockets with query at the same moment, as a class
// behind one address does; each one refused fails the test. It closes them
// and returns how long they took.
func (ts *testServer) dialAtOnce(t *testing.T, n int, query string) time.Duration {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, _, err := ts.tryDial(query, nil)
			if err != nil {
				errs <- err
				return
			}
			ws.Close()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return took
}

// tryDial connects with query and header, offering the credentials given
// as subprotocols, as the page does.
func (ts *testServer) tryDial(query string, header http.Header, creds ...Credentials) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	for _, c := range creds {
		d.Subprotocols = c.Subprotocols()
	}
	return d.Dial(ts.url+query, header)
}

// send writes a command given as a JSON string.
func (c *client) send(cmd string) {
	c.t.Helper()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		c.t.Fatalf("send %s: %v", cmd, err)
	}
}

// readRaw reads one frame's bytes.
func (c *client) readRaw() []byte {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return data
}

// read reads one frame as a map.
func (c *client) read() map[string]any {
	c.t.Helper()
	data := c.readRaw()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("frame %q is not a JSON object: %v", data, err)
	}
	return m
}

// until reads frames up to and including the done or error that answers
// the command with id, and returns them all.
func (c *client) until(id string) []map[string]any {
	c.t.Helper()
	var frames []map[string]any
	for {
		f := c.read()
		frames = append(frames, f)
		if (f["type"] == "done" || f["type"] == "error") && idString(f["id"]) == id {
			return frames
		}
	}
}

// do sends a command with an id and returns the frames that answer it; the
// last is done or error.
func (c *client) do(cmd string) []map[string]any {
	c.t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(cmd), &m); err != nil {
		c.t.Fatalf("test command %s: %v", cmd, err)
	}
	id, ok := m["id"]
	if !ok {
		c.t.Fatalf("test command %s has no id", cmd)
	}
	c.send(cmd)
	return c.until(idString(id))
}

// mustDo is do, failing the test unless the answer ends with done.
func (c *client) mustDo(cmd string) []map[string]any {
	c.t.Helper()
	frames := c.do(cmd)
	if last := frames[len(frames)-1]; last["type"] != "done" {
		c.t.Fatalf("%s answered %v", cmd, last)
	}
	return frames
}

// closeCode reads until the connection ends and returns the close code
// (1006 if it ended without a close frame).
func (c *client) closeCode() int {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ws.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code
			}
			return websocket.CloseAbnormalClosure
		}
	}
}

func idString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return ""
}

func ofType(frames []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, f := range frames {
		if f["type"] == typ {
			out = append(out, f)
		}
	}
	return out
}

func types(frames []map[string]any) string {
	var s []string
	for _, f := range frames {
		s = append(s, f["type"].(string))
	}
	return strings.Join(s, ",")
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
