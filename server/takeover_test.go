package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/netstep/netstep/cluster/clustertest"
	"github.com/netstep/netstep/engine"
)

// classOf is three instances, A, B and C, with a room opened on A, its
// presenter on A and two followers each on B and C; ref is a trainer of
// the room's lesson that takes the same steps, to check every step
// against.
type classOf struct {
	a, b, c   *testServer
	rm        testRoom
	p         *client
	followers []*client
	ref       *engine.Trainer
	want      [][]byte // every events frame the presenter got, in order
	checked   int      // how many of them the followers have been checked for
	steps     int
}

func newClass(t *testing.T, urls [3]string, replicas int) *classOf {
	t.Helper()
	var inst [3]*testServer
	for i, u := range urls {
		inst[i] = newTestServer(t, Config{Cluster: openClusterReplicas(t, u, replicas)})
	}
	cl := &classOf{a: inst[0], b: inst[1], c: inst[2]}
	cl.rm = cl.a.openRoom(t, "circle-8-8")
	cl.ref = testTrainer(t, "testdata/circle-8-8.json")
	cl.p = cl.a.dial(t, "?room="+cl.rm.Code, cl.rm.presenter())
	for cl.p.read()["type"] != "room" {
	}
	for _, ts := range []*testServer{cl.b, cl.b, cl.c, cl.c} {
		f, _ := ts.joinRoom(t, cl.rm, "?room="+cl.rm.Code)
		cl.followers = append(cl.followers, f)
	}
	return cl
}

// step has the presenter p take n steps, each checked against the
// reference trainer: a step lost or taken twice in a takeover shows as a
// difference.
func (cl *classOf) step(t *testing.T, p *client, n int) {
	t.Helper()
	for range n {
		g := []engine.Granularity{engine.StepMicro, engine.StepPhase, engine.StepSample, engine.StepBatch}[cl.steps%4]
		id := fmt.Sprint(cl.steps + 1)
		cl.steps++
		want := traceStep(t, cl.ref, g)
		p.send(fmt.Sprintf(`{"cmd":"step","id":%q,"granularity":%q}`, id, g))
		var got []byte
		for {
			raw := p.readRaw()
			if bytes.HasPrefix(raw, []byte(`{"type":"events"`)) {
				cl.want = append(cl.want, raw)
				i := bytes.Index(raw, []byte(`"events":[`)) + len(`"events":[`)
				if len(got) > 0 {
					got = append(got, ',')
				}
				got = append(got, raw[i:bytes.LastIndexByte(raw, ']')]...)
			}
			if bytes.HasPrefix(raw, []byte(`{"type":"done","id":"`+id+`"`)) {
				break
			}
			if bytes.HasPrefix(raw, []byte(`{"type":"error"`)) {
				t.Fatalf("step %s: %s", id, raw)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("step %s (%s) differs from the reference:\n got %.300s\nwant %.300s", id, g, got, want)
		}
	}
}

// check reads every follower's events frames since the last check: each
// must get every events frame the presenter got, byte for byte and in
// order, with none missing and none twice.
func (cl *classOf) check(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	for i, f := range cl.followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := f.readEventsRaw(len(cl.want) - cl.checked)
			for k := range got {
				if want := cl.want[cl.checked+k]; !bytes.Equal(got[k], want) {
					t.Errorf("follower %d, events frame %d of %d:\n got %.200s\nwant %.200s", i, cl.checked+k, len(cl.want), got[k], want)
					return
				}
			}
		}()
	}
	wg.Wait()
	cl.checked = len(cl.want)
}

// kill cuts an instance off as a SIGKILL would: its NATS connection and
// its websockets go at once, and nothing is saved.
func kill(ts *testServer) {
	ts.dir.c.Kill()
	ts.http.CloseClientConnections()
}

// reconnectPresenter connects the presenter to ts and reads up to its
// room frame, as the page does after its connection dropped.
func (cl *classOf) reconnectPresenter(t *testing.T, ts *testServer) *client {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws, resp, err := ts.tryDial("?room="+cl.rm.Code, nil, cl.rm.presenter())
		if err == nil {
			p := &client{t: t, ws: ws}
			t.Cleanup(func() { ws.Close() })
			for p.read()["type"] != "room" {
			}
			return p
		}
		if resp == nil || resp.StatusCode != 503 || time.Now().After(deadline) {
			t.Fatalf("the presenter reconnecting: %v", err)
		}
		time.Sleep(250 * time.Millisecond) // the page's first backoff
	}
}

// TestRoomSurvivesItsOwner: the instance holding a room is killed (nothing
// saved, its connections cut) in the middle of a class whose followers are
// on two other instances. They stay connected; the presenter reconnects to
// B, which takes the room over from its last durable step; every step
// before and after is the reference's, and every follower gets every
// events frame in order.
func TestRoomSurvivesItsOwner(t *testing.T) {
	run := func(t *testing.T, urls [3]string, replicas int) {
		cl := newClass(t, urls, replicas)
		cl.step(t, cl.p, 9)
		cl.check(t)
		start := time.Now()
		kill(cl.a)
		p := cl.reconnectPresenter(t, cl.b)
		took := time.Since(start)
		cl.step(t, p, 9)
		cl.check(t)
		t.Logf("owner killed: the presenter was back on another instance, the room rebuilt, in %v", took.Round(time.Millisecond))
		if n := cl.b.Rooms(); n != 1 {
			t.Errorf("B serves %d rooms after the takeover, want 1", n)
		}
	}
	clustertest.ForEachTopology(t, run)
}

// TestRoomDrain: the instance holding a room shuts down (SIGTERM) in the
// middle of a class: it hands the room over; its own follower is closed
// with 1001 and a reason; the presenter reconnects to another instance
// and the class carries on with every step, followers on B and C getting
// every events frame in order.
func TestRoomDrain(t *testing.T) {
	clustertest.ForEachTopology(t, drain)
}

func drain(t *testing.T, urls [3]string, replicas int) {
	cl := newClass(t, urls, replicas)
	local, _ := cl.a.joinRoom(t, cl.rm, "?room="+cl.rm.Code)
	cl.step(t, cl.p, 5)
	cl.check(t)

	// The presenter's page reconnects as soon as its connection closes,
	// as the page does (its first wait, 0.25 s, left out).
	start := time.Now()
	drained := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		drained <- cl.a.Shutdown(ctx)
	}()
	if code := cl.p.closeCode(); code != websocket.CloseGoingAway {
		t.Errorf("the presenter on the draining instance closed with %d, want 1001", code)
	}
	p := cl.reconnectPresenter(t, cl.c)
	cl.step(t, p, 1)
	pause := time.Since(start)
	cl.step(t, p, 4)
	cl.check(t)
	t.Logf("drained: the presenter's first step on another instance %v after the shutdown began", pause.Round(time.Millisecond))
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	local.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := local.ws.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok || ce.Code != websocket.CloseGoingAway || ce.Text == "" {
			t.Errorf("a follower on the draining instance: %v, want 1001 with a reason", err)
		}
		break
	}
	if cl.b.Rooms()+cl.c.Rooms() != 1 {
		t.Errorf("B and C serve %d and %d rooms, want one between them", cl.b.Rooms(), cl.c.Rooms())
	}
}

// TestRoomOldOwnerFenced: an owner cut off from the others (alive, but
// another instance took its room over) can neither write the room's log
// nor broadcast: its presenter's next step is refused by the fence, its
// connections close with 1012, and the followers elsewhere get nothing
// from it (not even a frame published under its old term).
func TestRoomOldOwnerFenced(t *testing.T) {
	url := clustertest.Node(t).ClientURL()
	cl := newClass(t, [3]string{url, url, url}, 1)
	cl.step(t, cl.p, 3)
	cl.check(t)

	// B decides A has gone and takes the room over at A's record.
	ctx := context.Background()
	_, rev, err := cl.b.roomData.owners.Holder(ctx, claimName(cl.rm.Code))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.b.takeOverRoom(cl.rm.Code, rev); err != nil {
		t.Fatal(err)
	}
	snap, err := cl.b.roomData.kv.Get(ctx, snapKey(cl.rm.Code))
	if err != nil {
		t.Fatal(err)
	}
	oldTerm := cl.a.lookupRoom(cl.rm.Code).relay.term

	// A's presenter steps: A cannot write, so nothing goes out.
	cl.p.ws.WriteMessage(websocket.TextMessage, []byte(`{"cmd":"step","id":"zombie","granularity":"sample"}`)) // A may have closed it already
	cl.p.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, raw, err := cl.p.ws.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.CloseServiceRestart {
				t.Errorf("the fenced owner's presenter: %v, want a close with 1012", err)
			}
			break
		}
		if bytes.HasPrefix(raw, []byte(`{"type":"events"`)) || bytes.HasPrefix(raw, []byte(`{"type":"state"`)) {
			t.Errorf("the fenced owner sent its presenter %.100s", raw)
		}
	}
	waitFor(t, "A to stop serving the room", func() bool { return cl.a.Rooms() == 0 })
	if e, err := cl.b.roomData.kv.Get(ctx, snapKey(cl.rm.Code)); err != nil || e.Revision() != snap.Revision() {
		t.Errorf("the room's snapshot after the fenced owner's step: %v, revision %d, want %d", err, e.Revision(), snap.Revision())
	}

	// A frame under the old term (a zombie's) reaches no follower.
	zombie := []byte{byte(kindOrdered)}
	zombie = binary.BigEndian.AppendUint64(zombie, oldTerm)
	zombie = binary.BigEndian.AppendUint64(zombie, 1000)
	zombie = append(zombie, `{"type":"events","id":"zombie","events":[]}`...)
	if err := cl.c.dir.c.NC.Publish(roomSubject(cl.rm.Code, "f"), zombie); err != nil {
		t.Fatal(err)
	}
	// The step taken by A never happened: the reference does not take it.
	p := cl.reconnectPresenter(t, cl.b)
	cl.step(t, p, 3)
	cl.check(t)
}

// TestRoomDrainKeepsPlay: a room playing when its instance drains plays on
// once the presenter is back on another instance.
func TestRoomDrainKeepsPlay(t *testing.T) {
	url := clustertest.Node(t).ClientURL()
	cl := newClass(t, [3]string{url, url, url}, 1)
	cl.p.mustDo(`{"cmd":"run","id":"play","stepsPerSecond":20,"granularity":"sample"}`)
	for cl.followers[0].read()["type"] != "progress" {
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cl.a.Shutdown(ctx)
	}()
	cl.p.closeCode()
	p := cl.reconnectPresenter(t, cl.b)
	for {
		if f := p.read(); f["type"] == "progress" {
			break
		}
	}
	for cl.followers[2].read()["type"] != "progress" { // on C
	}
}

// TestRoomTakenOverForItsFollowers: when the owner is killed and nobody
// reconnects to it (the presenter has stepped away), an instance with
// followers of the room notices within a few seconds and takes it over;
// the presenter, back later, finds it there, and every step is the
// reference's.
func TestRoomTakenOverForItsFollowers(t *testing.T) {
	url := clustertest.Node(t).ClientURL()
	cl := newClass(t, [3]string{url, url, url}, 1)
	cl.step(t, cl.p, 4)
	cl.check(t)
	start := time.Now()
	kill(cl.a)
	deadline := time.Now().Add(3 * ownerCheck)
	for cl.b.Rooms()+cl.c.Rooms() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("nobody took the room over within %v", 3*ownerCheck)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("owner killed: an instance with followers took the room over %v later", time.Since(start).Round(time.Millisecond))
	for _, f := range cl.followers {
		for f.read()["type"] != "state" { // the new owner's first frame
		}
	}
	p := cl.reconnectPresenter(t, cl.c)
	cl.step(t, p, 4)
	cl.check(t)
}

// TestRoomVoteSurvivesItsOwner: the class is voting when the instance
// holding the room is killed. The instance that takes the room over
// reopens the question with the votes cast so far: the presenter, back on
// B, sees the same tally; a student can still change their mind; the
// reveal counts every vote.
func TestRoomVoteSurvivesItsOwner(t *testing.T) {
	clustertest.ForEachTopology(t, func(t *testing.T, urls [3]string, replicas int) {
		cl := newClass(t, urls, replicas)
		cl.step(t, cl.p, 2)
		cl.p.mustDo(`{"cmd":"ask","id":"q","layer":1,"to":0,"from":0}`)
		for i, f := range cl.followers {
			if got := f.readType("question"); got["question"] != 1.0 {
				t.Fatalf("follower %d got %v", i, got)
			}
			f.mustDo(fmt.Sprintf(`{"cmd":"answer","id":"a","question":1,"choice":%d}`, min(i, 1)))
		}
		waitFollowing(t, cl.p, 4, 4, "[1 3]")

		kill(cl.a)
		p := cl.reconnectPresenter(t, cl.b)
		if got := p.readType("question"); got["question"] != 1.0 || got["kind"] != "weight" {
			t.Fatalf("the presenter back on B got %v, want question 1 still open", got)
		}
		waitFollowing(t, p, 4, 4, "[1 3]")
		cl.followers[3].mustDo(`{"cmd":"answer","id":"b","question":1,"choice":0}`) // on C, a change of mind
		waitFollowing(t, p, 4, 4, "[2 2]")
		p.mustDo(`{"cmd":"step","id":"s","granularity":"sample"}`)
		fr := p.mustDo(`{"cmd":"reveal","id":"r","answer":0}`)
		if rev := ofType(fr, "reveal"); len(rev) != 1 || rev[0]["question"] != 1.0 || fmt.Sprint(counts(rev[0])) != "[2 2]" {
			t.Errorf("reveal after the takeover: %v", rev)
		}
		// The next question is number 2, not 1 again.
		if got := ofType(p.mustDo(`{"cmd":"ask","id":"q2","layer":1,"to":0,"from":1}`), "question"); len(got) != 1 || got[0]["question"] != 2.0 {
			t.Errorf("the next question after the takeover: %v, want question 2", got)
		}
	})
}

// TestRequestsLeftToTheNewOwner: a follower taking its place again at a
// room's new owner, or resyncing to its frames, names the newest term it
// has seen; an instance holding the room under an older term (it lost the
// room and may not know yet) stays silent, so that its answer, if first,
// can neither seat the follower in a room that is over there, tell it the
// room has ended, nor hand it a state the class has moved on from.
// Without a term, or with its own or an older one, it answers as before.
func TestRequestsLeftToTheNewOwner(t *testing.T) {
	inst := instances(t, 2, Config{})
	a, b := inst[0], inst[1]
	rm := a.openRoom(t, "xor")
	owned := a.lookupRoom(rm.Code)
	ask := func(what, term string) (*nats.Msg, error) {
		req := nats.NewMsg(roomSubject(rm.Code, what))
		req.Header.Set(hdrAddr, "192.0.2.1")
		req.Header.Set(hdrTo, "netstep.viewer.test."+randomString(6))
		req.Header.Set(hdrInstance, b.dir.c.Instance)
		if term != "" {
			req.Header.Set(hdrTerm, term)
		}
		return b.dir.c.NC.RequestMsg(req, 500*time.Millisecond)
	}
	term := owned.relay.term
	for _, what := range []string{"admit", "sync"} {
		if _, err := ask(what, fmt.Sprint(term+1)); !errors.Is(err, nats.ErrTimeout) {
			t.Errorf("%s meant for term %d, to the owner of term %d: %v, want no answer", what, term+1, term, err)
		}
	}
	if n := owned.followers.Load(); n != 0 {
		t.Errorf("the old owner counts %d followers after an admit meant for a newer owner, want 0", n)
	}
	for _, tm := range []string{"", fmt.Sprint(term), fmt.Sprint(term - 1)} {
		if resp, err := ask("admit", tm); err != nil {
			t.Errorf("an admit with term %q, to the owner of term %d: %v, want a place", tm, term, err)
		} else if strings.HasPrefix(string(resp.Data), "!") {
			t.Errorf("an admit with term %q, to the owner of term %d: %q, want a place", tm, term, resp.Data)
		}
		if resp, err := ask("sync", tm); err != nil || len(resp.Data) < 16 || binary.BigEndian.Uint64(resp.Data) != term {
			t.Errorf("a sync with term %q, to the owner of term %d: %v, want its frames", tm, term, err)
		}
	}
	if n := owned.followers.Load(); n != 3 {
		t.Errorf("the owner counts %d followers, want 3", n)
	}
}
