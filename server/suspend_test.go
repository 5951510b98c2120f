package server

import (
	"testing"
	"time"
)

// TestAbandonedRunWaitsForItsLearner: a learner's tab that was playing
// drops without a word; the session stops training (an abandoned tab must
// not burn a core for the whole resume window) and carries on playing when
// the learner resumes.
func TestAbandonedRunWaitsForItsLearner(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "")
	c.mustDo(`{"cmd":"load","id":1,"name":"circle-8-8"}`)
	c.mustDo(`{"cmd":"run","id":2,"stepsPerSecond":0,"granularity":"epoch"}`)
	for f := c.read(); f["type"] != "progress"; f = c.read() {
	}
	token := c.hello["resume"].(string)
	c.ws.UnderlyingConn().Close() // no close frame: the Wi-Fi dropped

	s := ts.Server.lookup(token)
	if s == nil {
		t.Fatal("the session is gone before its resume window")
	}
	position := func() (t int64, running bool) {
		s.do(func() { t, running = s.tr.Position().T, s.run.on })
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, running := position(); !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the session still trains 5 s after its only viewer left")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t1, _ := position()
	time.Sleep(200 * time.Millisecond)
	if t2, _ := position(); t2 != t1 {
		t.Fatalf("an abandoned session went on training: t %d, then %d", t1, t2)
	}

	c2 := ts.dial(t, "", Credentials{Resume: token})
	if c2.hello["resumed"] != true {
		t.Fatalf("resume hello = %v", c2.hello)
	}
	deadline = time.Now().Add(5 * time.Second)
	for f := c2.read(); f["type"] != "progress"; f = c2.read() {
		if time.Now().After(deadline) {
			t.Fatal("no progress frame after the learner came back")
		}
	}
	if t3, running := position(); !running || t3 <= t1 {
		t.Fatalf("after the resume: running %v, t %d (was %d)", running, t3, t1)
	}
	c2.mustDo(`{"cmd":"pause","id":3}`)
}
