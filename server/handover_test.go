package server

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/cluster/clustertest"
	"github.com/netstep/netstep/engine"
)

// instance is one netstep instance of a test, with its own connection to
// the shared NATS.
type instance struct {
	*testServer
	conn *cluster.Conn
}

func startInstance(t *testing.T, url string, lease time.Duration) *instance {
	t.Helper()
	c := openCluster(t, url)
	return &instance{newTestServer(t, Config{Cluster: c, OwnerLease: lease}), c}
}

// stopInstance stops an instance as SIGTERM does (kill false: its sessions
// are saved and handed back to the cluster) or as a crash does (kill true:
// its NATS connection goes first, so nothing more is written).
func stopInstance(t *testing.T, in *instance, kill bool) {
	t.Helper()
	if kill {
		in.conn.Kill()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	in.http.Close()
}

// mover is a learner's session that moves between instances, and the
// engine's own trainer taking the same steps, which never moves. It trains
// with Adam, so that the optimizer's state has to move too.
type mover struct {
	t     *testing.T
	ref   *engine.Trainer
	c     *client
	token string
	n     int
}

func newMover(t *testing.T, in *instance) *mover {
	t.Helper()
	ref, err := engine.NewTrainer(mustLesson(t, "xor"))
	if err != nil {
		t.Fatal(err)
	}
	c := in.dial(t, "?lesson=xor")
	c.read() // the state
	const set = `{"cmd":"set","id":"adam","optimizer":"adam","learningRate":0.05}`
	c.mustDo(set)
	p, err := engine.ParseTrainingPatch([]byte(set), "cmd", "id")
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Set(p); err != nil {
		t.Fatal(err)
	}
	return &mover{t: t, ref: ref, c: c, token: c.hello["resume"].(string)}
}

// step takes steps on the session and on the reference: the events must be
// the same, byte for byte.
func (m *mover) step(gs ...engine.Granularity) {
	m.t.Helper()
	for _, g := range gs {
		m.n++
		if got, want := m.c.socketStep(string(rune('a'+m.n%26))+g.String(), g.String()), traceStep(m.t, m.ref, g); !bytes.Equal(got, want) {
			m.t.Fatalf("step %d (%s) differs from a session that never moved:\n got %.300s\nwant %.300s", m.n, g, got, want)
		}
	}
}

func (m *mover) back() {
	m.t.Helper()
	m.c.mustDo(`{"cmd":"back","id":"back"}`)
	if err := m.ref.Back(); err != nil {
		m.t.Fatal(err)
	}
}

// resumeOn resumes the session on in: it must come back as it was (want,
// the state before it moved) and carry on.
func (m *mover) resumeOn(in *instance, want []byte) {
	m.t.Helper()
	m.c = in.dial(m.t, "", Credentials{Resume: m.token})
	if m.c.hello["resumed"] != true {
		m.t.Fatalf("resuming on another instance: hello %v", m.c.hello)
	}
	if s := m.c.read(); s["reason"] != "resume" || !bytes.Equal(stateOf(m.t, s), want) {
		m.t.Fatalf("the state after the move differs:\n got %.300v\nwant %.300s", s, want)
	}
}

// closeReason reads until the connection closes and returns its close.
func closeReason(t *testing.T, c *client) (int, string) {
	t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code, ce.Text
			}
			return websocket.CloseAbnormalClosure, err.Error()
		}
	}
}

// TestSessionMovesBetweenInstances: a learner's resume token works on any
// instance, and the session it finds there steps on exactly (byte for
// byte) as a session that never moved, Back history included: handed over
// by a live owner, rebuilt from its last save when its owner was killed,
// handed back when its owner drains on SIGTERM; a Play going on when it
// moved goes on where it arrives; and an owner cut off from
// the cluster can never write it again once another instance has it.
func TestSessionMovesBetweenInstances(t *testing.T) {
	url := clustertest.Node(t).ClientURL()

	t.Run("handed over by a live owner", func(t *testing.T) {
		// A long lease: only a handover can move the session at once.
		a, b := startInstance(t, url, time.Minute), startInstance(t, url, time.Minute)
		m := newMover(t, a)
		m.step(engine.StepSample, engine.StepSample, engine.StepBatch)
		m.back()
		want := m.c.askState("s1")
		old := m.c
		start := time.Now()
		m.resumeOn(b, want)
		t.Logf("handed over in %v", time.Since(start))
		if code, text := closeReason(t, old); code != websocket.CloseGoingAway || text != movedText {
			t.Errorf("the old instance closed the learner's connection with %d %q, want 1001 %q", code, text, movedText)
		}
		waitFor(t, "the old instance to let the session go", func() bool { return a.Sessions() == 0 })
		m.step(engine.StepSample, engine.StepEpoch)
		m.back()
		m.back()
		m.step(engine.StepBatch)

		// And back again.
		want = m.c.askState("s2")
		m.resumeOn(a, want)
		m.step(engine.StepEpoch)
	})

	t.Run("rebuilt when its owner was killed", func(t *testing.T) {
		lease := time.Second
		a, b := startInstance(t, url, lease), startInstance(t, url, lease)
		m := newMover(t, a)
		m.step(engine.StepSample, engine.StepBatch, engine.StepSample)
		m.back()
		want := m.c.askState("s1")
		start := time.Now()
		stopInstance(t, a, true)
		m.resumeOn(b, want)
		took := time.Since(start)
		t.Logf("taken over %v after the kill (lease %v)", took, lease)
		if took < lease/2 {
			t.Errorf("taken over %v after the kill: before the dead owner's %v lease could run out", took, lease)
		}
		m.step(engine.StepSample, engine.StepEpoch)
		m.back()
		m.step(engine.StepMicro, engine.StepPhase, engine.StepBatch)
	})

	t.Run("drained on SIGTERM", func(t *testing.T) {
		a, b := startInstance(t, url, time.Minute), startInstance(t, url, time.Minute)
		m := newMover(t, a)
		m.step(engine.StepBatch, engine.StepSample)
		m.back()
		m.step(engine.StepSample)
		want := m.c.askState("s1")
		old := m.c
		stopInstance(t, a, false)
		if code, text := closeReason(t, old); code != websocket.CloseGoingAway || text == "" {
			t.Errorf("a draining instance closed the learner's connection with %d %q, want 1001 and a reason", code, text)
		}
		start := time.Now()
		m.resumeOn(b, want) // within a minute's lease: the claim was released
		t.Logf("resumed %v after the drain", time.Since(start))
		m.step(engine.StepEpoch, engine.StepSample)
		m.back()
		m.step(engine.StepBatch)
	})

	t.Run("a Play carries on", func(t *testing.T) {
		a, b := startInstance(t, url, time.Minute), startInstance(t, url, time.Minute)
		m := newMover(t, a)
		m.c.mustDo(`{"cmd":"run","id":"r","stepsPerSecond":50,"granularity":"sample"}`)
		for m.c.read()["type"] != "progress" {
		}
		c := b.dial(t, "", Credentials{Resume: m.token})
		if c.hello["resumed"] != true {
			t.Fatalf("resuming a playing session on another instance: hello %v", c.hello)
		}
		s := c.read()
		if s["reason"] != "resume" {
			t.Fatalf("after hello: %v, want the state", s)
		}
		from := s["state"].(map[string]any)["position"].(map[string]any)["t"].(float64)
		for {
			f := c.read()
			if f["type"] != "progress" {
				continue
			}
			if t := f["position"].(map[string]any)["t"].(float64); t > from {
				break
			}
		}
		c.mustDo(`{"cmd":"pause","id":"p"}`)
	})

	t.Run("a cut-off owner is fenced out", func(t *testing.T) {
		a, b := startInstance(t, url, time.Minute), startInstance(t, url, time.Minute)
		m := newMover(t, a)
		m.step(engine.StepSample)
		want := m.c.askState("s1")
		key := tokenKey(m.token)
		// A is cut off from the cluster long enough for its claim to run
		// out (here: its owner record deleted, as the lease's expiry
		// does), and the learner reaches B, which takes the session
		// without asking A.
		ctx := context.Background()
		if err := b.store.kv.Delete(ctx, "own."+key); err != nil {
			t.Fatal(err)
		}
		onA := m.c
		m.resumeOn(b, want)
		m.step(engine.StepBatch)
		moved := m.c.askState("s2")
		saved, err := b.store.kv.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		// A, which never noticed, still has a connection from the learner
		// (another tab) and steps there: its save is refused, and it lets
		// the session go.
		onA.send(`{"cmd":"step","id":"late","granularity":"epoch"}`)
		if code, text := closeReason(t, onA); code != websocket.CloseGoingAway || text != movedText {
			t.Errorf("the cut-off owner closed the learner's connection with %d %q, want 1001 %q", code, text, movedText)
		}
		waitFor(t, "the cut-off owner to let the session go", func() bool { return a.Sessions() == 0 })
		now, err := b.store.kv.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if now.Revision() != saved.Revision() || !bytes.Equal(now.Value(), saved.Value()) {
			t.Fatalf("the cut-off owner wrote the session: revision %d, want %d", now.Revision(), saved.Revision())
		}
		if got := m.c.askState("s3"); !bytes.Equal(got, moved) {
			t.Error("the session on its new instance changed when the cut-off owner stepped")
		}
		m.step(engine.StepSample)
	})
}
