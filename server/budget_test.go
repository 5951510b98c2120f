package server

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/netstep/netstep/cluster/clustertest"
)

// liveHeap is the heap after a collection.
func liveHeap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestSetWeightFloodsStayInBudget: setWeight floods on the biggest network
// used to pin a full copy of its numbers per edit (one connection grew the
// server by 140 MiB). Two connections flooding now hold at most their
// budget each, as this process's heap measures it.
func TestSetWeightFloodsStayInBudget(t *testing.T) {
	const budget = 4 << 20
	ts := newTestServer(t, Config{SessionMemory: budget, CommandsPerSecond: 1000, CommandBurst: 1000})
	before := liveHeap()
	for c := range 2 {
		cl := ts.dial(t, "?lesson=big-2d")
		cl.read()
		for i := range 25 {
			cl.send(fmt.Sprintf(`{"cmd":"setWeight","id":"w%d","layer":1,"to":%d,"from":%d,"value":%g}`, i, i%64, (i/64)%64, float64(c*1000+i)/1e4))
		}
		for _, f := range cl.until("w24") {
			if f["type"] == "error" {
				t.Fatalf("setWeight answered %v", f)
			}
		}
	}
	grew := liveHeap() - before
	t.Logf("2 flooding sessions: heap grew %d KiB; the server counts %d KiB", grew>>10, ts.MemoryBytes()>>10)
	if limit := int64(2*budget + 4<<20); grew > limit {
		t.Errorf("two setWeight floods grew the heap by %d bytes; want at most %d (two budgets, and 4 MiB for sockets and pooled encoding buffers)", grew, limit)
	}
	if got := ts.MemoryBytes(); got > 2*budget {
		t.Errorf("the server counts %d bytes for two sessions under a %d budget", got, budget)
	}
}

// TestForksOfARoomStayInBudget: 15 "explore on my own" forks of a room
// whose presenter has edited a lot cost about a copy of the numbers each,
// not a copy of the room's history.
func TestForksOfARoomStayInBudget(t *testing.T) {
	const budget = 8 << 20
	ts := newTestServer(t, Config{SessionMemory: budget, CommandsPerSecond: 1000, CommandBurst: 1000})
	rm := ts.openRoom(t, "big-2d")
	p, _ := ts.joinRoom(t, rm, "?room="+rm.Code, rm.presenter())
	for i := range 25 {
		p.send(fmt.Sprintf(`{"cmd":"setWeight","id":"w%d","layer":0,"to":%d,"from":0,"value":%g}`, i, i%64, float64(i)/1e3))
	}
	p.until("w24")
	room := ts.MemoryBytes()
	before := liveHeap()
	for range 15 {
		f := ts.dial(t, "?fork="+rm.Code)
		for f.read()["type"] != "state" {
		}
	}
	per := (liveHeap() - before) / 15
	t.Logf("the room holds %d KiB; a fork adds %d KiB of heap (sockets included)", room>>10, per>>10)
	if per > room/4 {
		t.Errorf("a fork of a room holding %d bytes costs %d bytes; want a fraction of the room", room, per)
	}
}

// TestMemoryBudgetRefusesNewWork: past MaxMemory the server refuses to load
// lessons, pin edits and fork rooms, with a clear error, while what is
// loaded still steps.
func TestMemoryBudgetRefusesNewWork(t *testing.T) {
	ts := newTestServer(t, Config{MaxMemory: 64 << 10})
	a := ts.dial(t, "?lesson=big-2d") // loaded while under the budget
	a.read()
	a.mustDo(`{"cmd":"step","id":"s"}`)
	frames := a.do(`{"cmd":"setWeight","id":"w","layer":0,"to":0,"from":0,"value":1}`)
	last := frames[len(frames)-1]
	if last["code"] != CodeServerBusy || !strings.Contains(last["message"].(string), "short of memory") {
		t.Errorf("setWeight past the budget answered %v; want server_busy saying why", last)
	}
	b := ts.dial(t, "")
	frames = b.do(`{"cmd":"load","id":"l","name":"xor"}`)
	if last := frames[len(frames)-1]; last["code"] != CodeServerBusy {
		t.Errorf("load past the budget answered %v; want server_busy", last)
	}
	resp, body := ts.postRoom(t, `{"lesson":"xor"}`, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "short of memory") {
		t.Errorf("a new room past the budget: %d %s", resp.StatusCode, body)
	}
}

// TestMemoryEvictsAbandonedSessions: at MaxMemory a newcomer is not
// refused while sessions whose learners left hold the memory: the oldest of
// them is evicted. With a store it is parked there and its learner resumes
// it where they left it; without one it ends. A session whose learner is
// still connected is never evicted.
func TestMemoryEvictsAbandonedSessions(t *testing.T) {
	for _, withStore := range []bool{true, false} {
		t.Run(map[bool]string{true: "with a store", false: "without a store"}[withStore], func(t *testing.T) {
			cfg := Config{MaxMemory: 64 << 10}
			if withStore {
				cfg.Cluster = openCluster(t, clustertest.Node(t).ClientURL())
			}
			ts := newTestServer(t, cfg)
			a := ts.dial(t, "?lesson=big-2d") // loaded while under the budget
			a.read()
			for i := range 3 {
				a.mustDo(fmt.Sprintf(`{"cmd":"step","id":"s%d","granularity":"sample"}`, i))
			}
			token := a.hello["resume"].(string)
			before := numbers(t, a.askState("before"))
			// A connected learner holding the memory is not evicted: the
			// newcomer is refused.
			b := ts.dial(t, "")
			frames := b.do(`{"cmd":"load","id":"l1","name":"xor"}`)
			if last := frames[len(frames)-1]; last["code"] != CodeServerBusy {
				t.Fatalf("load past the budget beside a connected learner answered %v; want server_busy", last)
			}
			a.ws.UnderlyingConn().Close() // the learner's Wi-Fi drops
			waitFor(t, "the learner's session to be orphaned", func() bool {
				s := ts.Server.lookup(token)
				return s != nil && s.orphaned.Load() != 0
			})
			frames = b.do(`{"cmd":"load","id":"l2","name":"xor"}`)
			if last := frames[len(frames)-1]; last["type"] != "done" {
				t.Fatalf("load past the budget with an abandoned session holding it answered %v; want it loaded", last)
			}
			if ts.Server.lookup(token) != nil {
				t.Error("the abandoned session is still live after it was evicted")
			}
			back := ts.dial(t, "", Credentials{Resume: token})
			if !withStore {
				if f := back.read(); f["code"] != CodeResumeExpired {
					t.Errorf("resuming an evicted session without a store: %v, want %s", f, CodeResumeExpired)
				}
				return
			}
			if back.hello["resumed"] != true {
				t.Fatalf("resuming a parked session: hello %v", back.hello)
			}
			if f := back.read(); f["type"] != "state" || f["reason"] != "resume" {
				t.Fatalf("resuming a parked session: first frame %v, want its state", f)
			}
			if after := numbers(t, back.askState("after")); after != before {
				t.Errorf("the parked session came back different:\n%s\nwant\n%s", after, before)
			}
		})
	}
}
