package server

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/netstep/netstep/engine"
)

// holdUntilQueued makes the session wait, the first time it is about to
// handle the command called name, until another message is queued behind
// it: the interruption then happens at the first look between pieces,
// whatever the machine's speed, instead of depending on when the message
// arrives.
func holdUntilQueued(t *testing.T, ts *testServer, name string) {
	t.Helper()
	sessions := ts.sessionsList()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions; want the test's one", len(sessions))
	}
	sess := sessions[0]
	held := false // read and written on the session's goroutine only
	hook := func(c *command) {
		if c.name != name || held {
			return
		}
		held = true
		for deadline := time.Now().Add(10 * time.Second); len(sess.in) == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	testHook.Store(&hook)
	t.Cleanup(func() { testHook.Store(nil) })
}

// numbers is what a state says about where training is and every number
// of the network: what must equal a reference's.
func numbers(t *testing.T, state []byte) string {
	t.Helper()
	var st map[string]json.RawMessage
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, k := range []string{"network", "position", "training", "canBack"} {
		if st[k] == nil {
			t.Fatalf("state without %s", k)
		}
		var v any // through a map: the same key order whoever encoded it
		if err := json.Unmarshal(st[k], &v); err != nil {
			t.Fatal(err)
		}
		norm, _ := json.Marshal(v)
		b.WriteString(k + "=")
		b.Write(norm)
		b.WriteByte('\n')
	}
	return b.String()
}

// referenceNumbers is numbers for a trainer of the same lesson, as the
// engine has it (a state frame's state is engine.State as JSON).
func referenceNumbers(t *testing.T, tr *engine.Trainer) string {
	t.Helper()
	b, err := json.Marshal(tr.State(false))
	if err != nil {
		t.Fatal(err)
	}
	return numbers(t, b)
}

// longBackSession is a learner on circle-8-8 with a memory budget so
// small that two checkpoints are kept: after a few epochs a Back replays a
// whole epoch, thousands of micro-steps, many pieces at the start. It returns
// the client and an engine trainer at the same place.
func longBackSession(t *testing.T) (*testServer, *client, *engine.Trainer) {
	t.Helper()
	ts := newTestServer(t, Config{SessionMemory: 1})
	c := ts.dial(t, "?lesson=circle-8-8")
	c.read()
	l, _ := ts.cfg.Lessons.Lookup("circle-8-8")
	ref, err := engine.NewTrainer(l)
	if err != nil {
		t.Fatal(err)
	}
	// With two checkpoints kept, after 4 epochs they are at 0 and 2 and 4:
	// the next Back (to 3) replays a whole epoch from 2, hundreds of pieces.
	for i := range 4 {
		c.mustDo(`{"cmd":"step","granularity":"epoch","id":"e` + string(rune('0'+i)) + `"}`)
		ref.Step(engine.StepEpoch, nil)
	}
	if got, want := numbers(t, c.askState("before")), referenceNumbers(t, ref); got != want {
		t.Fatalf("the session and the engine differ before the test begins:\n%s", firstDifference(got, want))
	}
	return ts, c, ref
}

// answers reads until both ids are answered and returns each one's last
// frame (done or error) and the frames of the second.
func answers(t *testing.T, c *client, first, second string) (map[string]any, map[string]any, []map[string]any) {
	t.Helper()
	var a, b map[string]any
	var frames []map[string]any
	for a == nil || b == nil {
		f := c.read()
		id := idString(f["id"])
		if id == second {
			frames = append(frames, f)
		}
		if f["type"] == "done" || f["type"] == "error" {
			switch id {
			case first:
				a = f
			case second:
				b = f
			}
		}
	}
	return a, b, frames
}

// TestPauseInterruptsALongBack: Pause sent during a long Back is answered
// without waiting for the replay; the Back is given up (error interrupted)
// and the session is exactly where it was before it: every number equal to
// an engine that never went back. A Back afterwards still works.
func TestPauseInterruptsALongBack(t *testing.T) {
	ts, c, ref := longBackSession(t)
	holdUntilQueued(t, ts, "back")
	start := time.Now()
	c.send(`{"cmd":"back","id":"b"}`)
	c.send(`{"cmd":"pause","id":"p"}`)
	back, pause, frames := answers(t, c, "b", "p")
	t.Logf("pause answered %v after the Back began", time.Since(start))
	if back["type"] != "error" || back["code"] != CodeInterrupted {
		t.Fatalf("the Back's answer: %v; want error %s", back, CodeInterrupted)
	}
	if pause["type"] != "done" || types(frames) != "state,done" {
		t.Fatalf("the pause's answer: %s", types(frames))
	}
	if got, want := numbers(t, stateOf(t, frames[0])), referenceNumbers(t, ref); got != want {
		t.Errorf("after an interrupted Back the pause's state is not where the session was:\n%.400s\nwant\n%.400s", got, want)
	}
	testHook.Store(nil)
	start = time.Now()
	c.mustDo(`{"cmd":"back","id":"b2"}`)
	t.Logf("the same Back, uninterrupted, took %v", time.Since(start))
	ref.Back()
	if got, want := numbers(t, c.askState("after")), referenceNumbers(t, ref); got != want {
		t.Errorf("a Back after the interrupted one differs from the engine's")
	}
}

// TestNewCommandInterruptsALongBack: a step sent during a long Back gives
// the Back up and is taken from where the session was.
func TestNewCommandInterruptsALongBack(t *testing.T) {
	ts, c, ref := longBackSession(t)
	holdUntilQueued(t, ts, "back")
	c.send(`{"cmd":"back","id":"b"}`)
	c.send(`{"cmd":"step","granularity":"sample","id":"s"}`)
	back, step, _ := answers(t, c, "b", "s")
	if back["code"] != CodeInterrupted || step["type"] != "done" {
		t.Fatalf("back answered %v, the step %v; want interrupted, done", back, step)
	}
	ref.Step(engine.StepSample, nil)
	if got, want := numbers(t, c.askState("after")), referenceNumbers(t, ref); got != want {
		t.Errorf("the step after an interrupted Back differs from the engine's step without it")
	}
	// A driver's view or state waits instead (it leaves the numbers
	// alone), and so do a follower's messages.
	owner := &viewer{role: roleOwner}
	if interrupting(message{v: owner, cmd: command{name: "view"}}, "back") || !interrupting(message{v: owner, cmd: command{name: "pause"}}, "back") {
		t.Error("view interrupts a Back, or pause does not")
	}
	if interrupting(message{v: &viewer{role: roleFollower}, cmd: command{name: "pause"}}, "back") {
		t.Error("a follower's message interrupts its presenter's Back")
	}
}

// TestBackTwiceGoesBackTwice: Back pressed again during a long Back does
// not give the first up (it asks for more of the same): both are done, in
// order, and the session is two steps back.
func TestBackTwiceGoesBackTwice(t *testing.T) {
	ts, c, ref := longBackSession(t)
	holdUntilQueued(t, ts, "back")
	c.send(`{"cmd":"back","id":"b1"}`)
	c.send(`{"cmd":"back","id":"b2"}`)
	first, second, _ := answers(t, c, "b1", "b2")
	if first["type"] != "done" || second["type"] != "done" {
		t.Fatalf("two Backs answered %v and %v; want both done", first, second)
	}
	ref.Back()
	ref.Back()
	if got, want := numbers(t, c.askState("after")), referenceNumbers(t, ref); got != want {
		t.Errorf("after two Backs the session differs from the engine's:\n%s", firstDifference(got, want))
	}
}

// TestPauseInterruptsALongStep: Pause sent during a big step (an epoch of
// big-2d, taken in pieces) stops it where it got to: the step is answered
// interrupted, its events end with that position, and every number equals
// an engine's taken to the same micro-step. Back then undoes the part taken.
func TestPauseInterruptsALongStep(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "?lesson=big-2d")
	start := c.askState("start")
	holdUntilQueued(t, ts, "step")
	c.send(`{"cmd":"step","granularity":"epoch","id":"s"}`)
	c.send(`{"cmd":"pause","id":"p"}`)
	var step map[string]any
	var end map[string]any // the last events frame of the step
	for step == nil {
		f := c.read()
		if f["type"] == "events" && idString(f["id"]) == "s" {
			end = f
		}
		if (f["type"] == "done" || f["type"] == "error") && idString(f["id"]) == "s" {
			step = f
		}
	}
	if step["code"] != CodeInterrupted {
		t.Fatalf("the step's answer: %v; want error %s", step, CodeInterrupted)
	}
	frames := c.until("p")
	if types(frames) != "state,done" {
		t.Fatalf("the pause's answer: %s", types(frames))
	}
	var pos struct{ T, Epoch int64 }
	raw, _ := json.Marshal(end["position"])
	if err := json.Unmarshal(raw, &pos); err != nil || pos.T == 0 || pos.Epoch != 0 {
		t.Fatalf("the step's last events frame ends at %s (%v); want a position inside the first epoch", raw, err)
	}
	l, _ := ts.cfg.Lessons.Lookup("big-2d")
	ref, err := engine.NewTrainer(l)
	if err != nil {
		t.Fatal(err)
	}
	for ref.Position().T < pos.T {
		ref.Step(engine.StepMicro, nil)
	}
	got := numbers(t, stateOf(t, frames[0]))
	want := referenceNumbers(t, ref)
	// The engine took micro-steps, each one undoable; the session one step.
	// Everything else must be the same.
	if trimCanBack(got) != trimCanBack(want) {
		t.Errorf("after an interrupted step the numbers differ from the engine's at micro-step %d:\n%s", pos.T, firstDifference(got, want))
	}
	testHook.Store(nil)
	c.mustDo(`{"cmd":"back","id":"b"}`)
	if got, want := numbers(t, c.askState("back")), numbers(t, start); got != want {
		t.Errorf("Back after an interrupted step does not return to the start")
	}
}

// firstDifference shows where two texts part.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-80)
	return "got  …" + got[from:min(len(got), i+80)] + "\nwant …" + want[from:min(len(want), i+80)]
}

func trimCanBack(s string) string {
	i := bytes.Index([]byte(s), []byte("canBack="))
	return s[:i]
}
