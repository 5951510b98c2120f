package server

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/engine"
)

// stateOf returns the state member of a state frame, as sent.
func stateOf(t testing.TB, f map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(f["state"])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// askState sends a state command and returns the state it gets.
func (c *client) askState(id string) []byte {
	c.t.Helper()
	for _, f := range c.do(`{"cmd":"state","id":"` + id + `"}`) {
		if f["type"] == "state" {
			return stateOf(c.t, f)
		}
	}
	c.t.Fatal("no state frame")
	return nil
}

// TestRestartKeepsClasses: an instance with an embedded NATS node on disk,
// stopped (as on SIGTERM) and then cut off without a chance to save (as on
// SIGKILL), comes back with its room under the same code (presenter token
// and state kept) and its learner's session where it was: position,
// optimizer state and Back history, stepping on exactly as a session that
// never stopped.
func TestRestartKeepsClasses(t *testing.T) {
	dir := t.TempDir()
	open := func() *cluster.Conn { return diskCluster(t, dir) }
	stop := func(ts *testServer) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ts.Shutdown(ctx)
		ts.http.Close()
	}
	ref, err := engine.NewTrainer(mustLesson(t, "xor"))
	if err != nil {
		t.Fatal(err)
	}

	c1 := open()
	ts := newTestServer(t, Config{Cluster: c1, OwnerLease: time.Second})
	rm := ts.openRoom(t, "circle-8-8")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	p.mustDo(`{"cmd":"step","id":"1","granularity":"sample"}`)
	p.mustDo(`{"cmd":"view","id":"v","math":true}`)
	roomState := p.askState("rs")

	l := ts.dial(t, "?lesson=xor")
	token := l.hello["resume"].(string)
	l.read() // the state
	for i, g := range []engine.Granularity{engine.StepSample, engine.StepSample, engine.StepBatch} {
		if got, want := l.socketStep(string(rune('a'+i)), g.String()), traceStep(t, ref, g); !bytes.Equal(got, want) {
			t.Fatalf("step %d before the restart differs from the engine's", i)
		}
	}
	l.mustDo(`{"cmd":"back","id":"back"}`)
	if err := ref.Back(); err != nil {
		t.Fatal(err)
	}
	learnerState := l.askState("ls")

	// SIGTERM: a clean stop.
	stop(ts)
	c1.Close()

	c2 := open()
	ts = newTestServer(t, Config{Cluster: c2, OwnerLease: time.Second})
	if ts.Rooms() != 1 {
		t.Fatalf("%d rooms after the restart, want 1", ts.Rooms())
	}
	f, first := ts.joinRoom(t, rm, "?room="+rm.Code)
	if got := stateOf(t, first[0]); !bytes.Equal(got, roomState) {
		t.Errorf("the room's state after the restart differs:\n got %.200s\nwant %.200s", got, roomState)
	}
	if v := f.read(); v["type"] != "view" || v["math"] != true {
		t.Errorf("after the room frame: %v, want the presenter's view", v)
	}
	p = ts.dial(t, "?room="+rm.Code, rm.presenter())
	p.mustDo(`{"cmd":"step","id":"2","granularity":"sample"}`)

	l = ts.dial(t, "", Credentials{Resume: token})
	if l.hello["resumed"] != true {
		t.Fatalf("resuming after the restart: hello %v", l.hello)
	}
	if s := l.read(); s["reason"] != "resume" || !bytes.Equal(stateOf(t, s), learnerState) {
		t.Fatalf("the learner's state after the restart differs: %.300v", s)
	}
	if got, want := l.socketStep("d", "sample"), traceStep(t, ref, engine.StepSample); !bytes.Equal(got, want) {
		t.Fatalf("the revived session steps differently from one that never stopped:\n got %.300s\nwant %.300s", got, want)
	}
	l.mustDo(`{"cmd":"back","id":"back2"}`)
	l.mustDo(`{"cmd":"back","id":"back3"}`)
	if err := ref.Back(); err != nil {
		t.Fatal(err)
	}
	if err := ref.Back(); err != nil {
		t.Fatal(err)
	}
	if got, want := l.socketStep("e", "epoch"), traceStep(t, ref, engine.StepEpoch); !bytes.Equal(got, want) {
		t.Fatal("after Back across the restart, the session steps differently from one that never stopped")
	}
	learnerState = l.askState("ls2")
	roomState = p.askState("rs2")

	// SIGKILL: NATS goes first, so nothing is saved at the stop.
	c2.Kill()
	stop(ts)

	c3 := open()
	t.Cleanup(c3.Close)
	ts = newTestServer(t, Config{Cluster: c3, OwnerLease: time.Second})
	f, first = ts.joinRoom(t, rm, "?room="+rm.Code)
	if got := stateOf(t, first[0]); !bytes.Equal(got, roomState) {
		t.Errorf("the room's state after a kill differs:\n got %.200s\nwant %.200s", got, roomState)
	}
	l = ts.dial(t, "", Credentials{Resume: token})
	if s := l.read(); s["reason"] != "resume" || !bytes.Equal(stateOf(t, s), learnerState) {
		t.Fatalf("the learner's state after a kill differs: %.300v", s)
	}

	// A room ended for good does not come back.
	p = ts.dial(t, "?room="+rm.Code, rm.presenter())
	p.do(`{"cmd":"endRoom","id":"end"}`)
	waitFor(t, "the room to end", func() bool { return ts.Rooms() == 0 })
	stop(ts)
	c3.Close()
	c4 := open()
	t.Cleanup(c4.Close)
	ts = newTestServer(t, Config{Cluster: c4})
	if ts.Rooms() != 0 {
		t.Errorf("%d rooms after an ended room's server restarted, want 0", ts.Rooms())
	}
}

func mustLesson(t testing.TB, name string) *engine.Lesson {
	t.Helper()
	l, ok := engine.Builtin().Lookup(name)
	if !ok {
		t.Fatalf("no lesson %s", name)
	}
	return l
}
