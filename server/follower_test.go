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

// TestResyncIsEncodedOnce: followers that fall behind at the same moment
// are owed one state, encoded once and shared: the same frame, prepared for
// all of them, and a follower that kept up gets nothing.
func TestResyncIsEncodedOnce(t *testing.T) {
	sess := memSession(t, testLesson(t, "testdata/circle-8-8.json"))
	for range 4 {
		sess.viewers = append(sess.viewers, newViewer(roleFollower, 1<<20, func() {}, func(int) {}))
	}
	for _, v := range sess.viewers[:3] {
		v.resync = true
	}
	sess.resyncLagging()
	first := sess.viewers[0].queue
	if len(first) != 1 || first[0].kind != kindState || first[0].pm == nil {
		t.Fatalf("a lagging follower has %d frames, want one prepared state", len(first))
	}
	for i, v := range sess.viewers[1:3] {
		if len(v.queue) != 1 || v.queue[0] != first[0] {
			t.Errorf("lagging follower %d did not get the shared frame", i+1)
		}
	}
	if n := len(sess.viewers[3].queue); n != 0 {
		t.Errorf("a follower that kept up got %d frames", n)
	}
	if !strings.Contains(string(first[0].data), `"reason":"resync"`) {
		t.Errorf("the state's reason is not resync: %.120s", first[0].data)
	}
}
