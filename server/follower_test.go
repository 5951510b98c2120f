package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// followServer serves /ws as a follower of sess: the seam classroom rooms
// use (server/room.go will do this for ?room=CODE).
func followServer(t *testing.T, ts *testServer, sess *session) string {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := ts.upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := ts.newConn(ws, sess)
		c.v.role = roleFollower
		if sess.do(func() { sess.attach(c.v, false, false) }) {
			c.serve()
		}
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func TestFollowersSeeEveryFrame(t *testing.T) {
	ts := newTestServer(t, Config{})
	presenter := ts.dial(t, "?lesson=circle-8-8")
	presenter.read()
	ts.mu.Lock()
	sess := ts.sessions[presenter.hello["session"].(string)]
	ts.mu.Unlock()

	url := followServer(t, ts, sess)
	var followers []*client
	for range 3 {
		f := &client{t: t}
		ws, _, err := (&testServer{url: url}).tryDial("", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		f.ws = ws
		if h := f.read(); h["type"] != "hello" {
			t.Fatalf("follower got %v first", h)
		}
		if st := f.read(); st["type"] != "state" {
			t.Fatalf("a late joiner got %v, want the state at once", st)
		}
		followers = append(followers, f)
	}

	want := presenter.socketStep("p1", "sample")
	for i, f := range followers {
		// Followers get the events (not the presenter's done).
		got := f.readRaw()
		if !strings.Contains(string(got), `"type":"events"`) || !strings.Contains(string(got), string(want)) {
			t.Fatalf("follower %d got %.200s", i, got)
		}
	}
	// A follower cannot drive; it may ask for the state.
	f := followers[0]
	if fr := f.do(`{"cmd":"step","id":"f1"}`); fr[len(fr)-1]["code"] != "not_presenter" {
		t.Errorf("follower step answered %v", fr[len(fr)-1])
	}
	if fr := f.mustDo(`{"cmd":"state","id":"f2"}`); len(ofType(fr, "state")) != 1 {
		t.Errorf("follower state answered %s", types(fr))
	}
	// The presenter saw none of that.
	if got := types(presenter.mustDo(`{"cmd":"pause","id":"p2"}`)); got != "state,done" {
		t.Errorf("presenter's pause answered %s", got)
	}
}
