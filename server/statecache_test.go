package server

import (
	"bytes"
	"testing"
	"time"
)

// stateFrame sends a state command with id and returns the raw state
// frame that answers it.
func (c *client) stateFrame(id string) []byte {
	c.t.Helper()
	c.send(`{"cmd":"state","id":"` + id + `"}`)
	var state []byte
	for {
		data := c.readRaw()
		switch {
		case bytes.HasPrefix(data, []byte(`{"type":"state","id":"`+id+`"`)):
			state = data
		case bytes.HasPrefix(data, []byte(`{"type":"done","id":"`+id+`"`)):
			if state == nil {
				c.t.Fatalf("state %s: done without a state frame", id)
			}
			return state
		case bytes.HasPrefix(data, []byte(`{"type":"error","id":"`+id+`"`)):
			c.t.Fatalf("state %s: %s", id, data)
		}
	}
}

// held waits until the session's memory count settles at a value for
// which ok holds (the count is taken after each command is answered), and
// returns it.
func held(t *testing.T, s *session, ok func(int64) bool) int64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := s.charged.Load()
		if ok(n) || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLearnerStateAskedAgainIsCopied: a learner's state command asked
// again while nothing has changed is answered with a copy of the frame
// encoded for the one before (the same bytes but the id), not a new encode
// (1.5 ms of CPU on spiral: 8 clients flooding state stole a core from
// everyone else, issue 18); the copy is counted in the session's memory
// and freed when the trainer changes, and a single ask, as a page's after
// resuming, keeps nothing.
func TestLearnerStateAskedAgainIsCopied(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "?lesson=spiral")
	c.read() // the lesson's state (dial has read hello)
	sess := ts.sessionsList()[0]
	bare := held(t, sess, func(int64) bool { return true })
	encodes := func() float64 { return ts.metricValue(t, "netstep_state_encodes_total") }
	body := func(frame []byte) []byte {
		i := bytes.Index(frame, []byte(`,"reason":`))
		if i < 0 {
			t.Fatalf("state frame without a reason: %.80s", frame)
		}
		return frame[i:]
	}

	e0 := encodes()
	first := c.stateFrame("a")
	if got := held(t, sess, func(n int64) bool { return n == bare }); got != bare {
		t.Errorf("after one state ask the session holds %d bytes, %d before: a page's ask after resuming keeps nothing", got, bare)
	}
	second := c.stateFrame("b")
	kept := held(t, sess, func(n int64) bool { return n > bare })
	if kept < bare+int64(len(body(second))) {
		t.Errorf("after a second ask the session holds %d bytes, %d before; want the %d-byte frame counted", kept, bare, len(second))
	}
	for _, id := range []string{"c", "d", "e"} {
		again := c.stateFrame(id)
		if !bytes.HasPrefix(again, []byte(`{"type":"state","id":"`+id+`","reason":"state"`)) {
			t.Errorf("ask %s answered %.60s", id, again)
		}
		if !bytes.Equal(body(again), body(first)) {
			t.Errorf("ask %s: the copy differs from the state encoded for the first ask", id)
		}
	}
	if got, want := encodes()-e0, 2.0; got != want {
		t.Errorf("5 state asks with nothing changed: %g encodes; want %g (the second kept, the rest copied)", got, want)
	}

	// A step changes the trainer: the copy is freed, and the next state
	// is encoded afresh and shows the step.
	c.mustDo(`{"cmd":"step","id":"s","granularity":"epoch"}`)
	if got := held(t, sess, func(n int64) bool { return n < kept }); got >= kept {
		t.Errorf("after a step the session still holds %d bytes (%d with the copy)", got, kept)
	}
	e1 := encodes()
	after := c.stateFrame("f")
	if encodes()-e1 != 1 || bytes.Equal(body(after), body(first)) {
		t.Errorf("the state after a step came from the copy taken before it")
	}
}
