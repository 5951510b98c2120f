package server

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/netstep/netstep/cluster/clustertest"
)

// instances starts n instances sharing one NATS node, with cfg.
func instances(t *testing.T, n int, cfg Config) []*testServer {
	t.Helper()
	url := clustertest.Node(t).ClientURL()
	out := make([]*testServer, n)
	for i := range out {
		c := cfg
		c.Cluster = openCluster(t, url)
		out[i] = newTestServer(t, c)
	}
	return out
}

// waitFollowing reads the presenter's frames until a tally with answered
// votes of following followers and these counts arrives.
func waitFollowing(t *testing.T, p *client, answered, following int, want string) {
	t.Helper()
	for {
		f := p.readType("tally")
		if int(f["answered"].(float64)) == answered && int(f["following"].(float64)) == following && fmt.Sprint(counts(f)) == want {
			return
		}
	}
}

// TestVotesAcrossInstances: a room on A with its presenter on A and
// followers on A, B and C. The follower count and the tally's following
// count everyone; every vote counts once, wherever it was cast; a follower
// who leaves another instance takes its vote out of the tally, and one who
// comes back on yet another instance with its seat brings it back, once.
func TestVotesAcrossInstances(t *testing.T) {
	inst := instances(t, 3, Config{})
	a, b, c := inst[0], inst[1], inst[2]
	rm := a.openRoom(t, "cat-or-dog")
	p := a.dial(t, "?room="+rm.Code, rm.presenter())
	var fs []*client
	var seats []string
	for _, ts := range []*testServer{a, b, c} {
		f, first := ts.joinRoom(t, rm, "?room="+rm.Code)
		fs = append(fs, f)
		seats = append(seats, first[len(first)-1]["seat"].(string))
	}
	for {
		if f := p.readType("room"); f["followers"] == 3.0 {
			break
		}
	}

	p.mustDo(`{"cmd":"ask","id":"q","index":1}`)
	for i, f := range fs {
		if got := f.readType("question"); got["question"] != 1.0 {
			t.Fatalf("follower %d got %v", i, got)
		}
	}
	fs[0].mustDo(`{"cmd":"answer","id":"a","question":1,"choice":0}`)
	fs[1].mustDo(`{"cmd":"answer","id":"b","question":1,"choice":1}`)
	fs[2].mustDo(`{"cmd":"answer","id":"c","question":1,"choice":1}`)
	fs[2].mustDo(`{"cmd":"answer","id":"c2","question":1,"choice":1}`) // the same again counts once
	waitFollowing(t, p, 3, 3, "[1 2]")
	fs[1].mustDo(`{"cmd":"answer","id":"b2","question":1,"choice":0}`) // a change of mind on B
	waitFollowing(t, p, 3, 3, "[2 1]")

	// The follower on C leaves: its vote and its place go.
	fs[2].ws.Close()
	if f := p.readType("room"); f["followers"] != 2.0 {
		t.Errorf("after a follower on C left the presenter sees %v followers, want 2", f["followers"])
	}
	waitFollowing(t, p, 2, 2, "[2 0]")

	// The follower on B drops and comes back on C with its seat: its vote
	// is back, once, and its page is told which it was.
	fs[1].ws.Close()
	waitFollowing(t, p, 1, 1, "[1 0]")
	back, first := c.joinRoom(t, rm, "?room="+rm.Code, Credentials{Seat: seats[1]})
	if got := first[len(first)-1]["seat"]; got != seats[1] {
		t.Errorf("came back with seat %s, got %v", seats[1], got)
	}
	if got := back.readType("question"); got["yours"] != 0.0 {
		t.Errorf("came back: the question says yours=%v, want 0", got["yours"])
	}
	waitFollowing(t, p, 2, 2, "[2 0]")

	// The same seat joining on A while its C connection lives: one seat,
	// one connection (the older closes), one vote.
	again, _ := a.joinRoom(t, rm, "?room="+rm.Code, Credentials{Seat: seats[1]})
	if code := back.closeCode(); code == 0 {
		t.Error("the older connection of a seat stayed open")
	}
	again.mustDo(`{"cmd":"answer","id":"x","question":1,"choice":1}`)
	waitFollowing(t, p, 2, 2, "[1 1]")

	// The reveal's final count includes everyone.
	p.mustDo(`{"cmd":"step","id":"s","granularity":"sample"}`)
	fr := p.mustDo(`{"cmd":"reveal","id":"r","answer":1}`)
	if rev := ofType(fr, "reveal"); len(rev) != 1 || rev[0]["answered"] != 2.0 || rev[0]["following"] != 2.0 || fmt.Sprint(counts(rev[0])) != "[1 1]" {
		t.Errorf("reveal: %v", rev)
	}
}

// TestFollowerCapAcrossInstances: the room's owner takes every follower's
// place, so many joining at once on three instances never pass the cap,
// nor the cap per address; a place given back on one instance is taken on
// another.
func TestFollowerCapAcrossInstances(t *testing.T) {
	inst := instances(t, 3, Config{MaxFollowers: 4, FollowersPerAddress: 1000})
	rm := inst[0].openRoom(t, "xor")
	var mu sync.Mutex
	var in []*client
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, ws := inst[i%3].joinOutcome(t, rm.Code)
			mu.Lock()
			defer mu.Unlock()
			outcomes[out]++
			if ws != nil {
				in = append(in, &client{t: t, ws: ws})
			}
		}()
	}
	wg.Wait()
	if outcomes["in"] != 4 || outcomes["full"] != 8 {
		t.Fatalf("12 joining a room of 4 on three instances at once: %v, want 4 in and 8 told it is full", outcomes)
	}
	in[0].ws.Close()
	waitFor(t, "the place to be given back", func() bool { return inst[0].lookupRoom(rm.Code).followers.Load() == 3 })
	for _, ts := range inst[1:] {
		if out, _ := ts.joinOutcome(t, rm.Code); out != "in" && out != "full" {
			t.Fatalf("joining: %s", out)
		}
	}
	if n := inst[0].lookupRoom(rm.Code).followers.Load(); n != 4 {
		t.Errorf("%d followers after a place was given back and two tried; want 4", n)
	}

	t.Run("per address", func(t *testing.T) {
		inst := instances(t, 2, Config{FollowersPerAddress: 2})
		rm := inst[0].openRoom(t, "xor")
		for i, want := range []string{"in", "in", "full"} {
			if out, _ := inst[1].joinOutcome(t, rm.Code); out != want {
				t.Errorf("follower %d from one address on B: %s, want %s", i+1, out, want)
			}
		}
	})
}

// TestFollowersOfADeadInstance: an instance cut off from NATS (as if it
// died) cannot say its followers left; the owner stops counting them, and
// their votes, once it has not heard from the instance for loadTTL.
func TestFollowersOfADeadInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("waits loadTTL (10 s)")
	}
	inst := instances(t, 2, Config{})
	a, b := inst[0], inst[1]
	rm := a.openRoom(t, "cat-or-dog")
	p := a.dial(t, "?room="+rm.Code, rm.presenter())
	f, _ := b.joinRoom(t, rm, "?room="+rm.Code)
	waitFor(t, "A to hear from B", func() bool { return a.board.alive(b.dir.c.Instance) })
	p.mustDo(`{"cmd":"ask","id":"q","index":1}`)
	f.readType("question")
	f.mustDo(`{"cmd":"answer","id":"a","question":1,"choice":1}`)
	waitFollowing(t, p, 1, 1, "[0 1]")
	b.dir.c.Kill()
	start := time.Now()
	time.Sleep(loadTTL - 2*time.Second)
	if n := a.lookupRoom(rm.Code).followers.Load(); n != 1 {
		t.Errorf("%d followers counted %v after their instance went, want 1 still", n, time.Since(start))
	}
	waitFor(t, "the dead instance's follower to go", func() bool { return a.lookupRoom(rm.Code).followers.Load() == 0 })
	t.Logf("dropped %v after its instance went", time.Since(start).Round(100*time.Millisecond))
	waitFollowing(t, p, 0, 0, "[0 0]")
}
