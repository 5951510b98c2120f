package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// readType reads frames until one of type typ and returns it; frames of
// other types (tallies, events) are skipped.
func (c *client) readType(typ string) map[string]any {
	c.t.Helper()
	for {
		if f := c.read(); f["type"] == typ {
			return f
		}
	}
}

// lastTally is the newest tally among frames, or nil.
func lastTally(frames []map[string]any) map[string]any {
	t := ofType(frames, "tally")
	if len(t) == 0 {
		return nil
	}
	return t[len(t)-1]
}

// counts reads a tally's or reveal's counts as ints.
func counts(f map[string]any) []int {
	var out []int
	for _, n := range f["counts"].([]any) {
		out = append(out, int(n.(float64)))
	}
	return out
}

// waitTally reads p's frames until a tally with answered votes arrives and
// returns it.
func waitTally(t *testing.T, p *client, answered int) map[string]any {
	t.Helper()
	for {
		f := p.read()
		if f["type"] == "tally" && int(f["answered"].(float64)) == answered {
			return f
		}
	}
}

func TestVote(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "cat-or-dog")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	f1, first := ts.joinRoom(t, rm, "?room="+rm.Code)
	seat, _ := first[len(first)-1]["seat"].(string)
	if !seatOK(seat) {
		t.Fatalf("a follower's room frame has seat %q", first[len(first)-1]["seat"])
	}
	f2, _ := ts.joinRoom(t, rm, "?room="+rm.Code)

	t.Run("no open question", func(t *testing.T) {
		last := f1.do(`{"cmd":"answer","id":"a0","question":1,"choice":0}`)
		if e := last[len(last)-1]; e["code"] != CodeNoQuestion {
			t.Errorf("answer with nothing open: %v, want no_question", e)
		}
		last = p.do(`{"cmd":"reveal","id":"r0"}`)
		if e := last[len(last)-1]; e["code"] != CodeNoQuestion {
			t.Errorf("reveal with nothing open: %v, want no_question", e)
		}
	})
	t.Run("followers cannot ask or reveal", func(t *testing.T) {
		for _, cmd := range []string{`{"cmd":"ask","id":"x","index":0}`, `{"cmd":"reveal","id":"x"}`} {
			fr := f2.do(cmd)
			if e := fr[len(fr)-1]; e["code"] != CodeNotPresenter {
				t.Errorf("%s from a follower: %v, want not_presenter", cmd, e)
			}
		}
	})

	// The presenter asks the lesson's second question (a weight): every
	// viewer gets the question and a first tally.
	fr := p.mustDo(`{"cmd":"ask","id":"q","index":1}`)
	q := ofType(fr, "question")
	if len(q) != 1 || q[0]["question"] != 1.0 || q[0]["index"] != 1.0 || q[0]["kind"] != "weight" || q[0]["choices"] != 2.0 ||
		!strings.Contains(q[0]["ask"].(string), "ear pointiness") {
		t.Fatalf("ask answered %v", fr)
	}
	if _, ok := q[0]["why"]; ok {
		t.Error("the question frame gives the explanation away before the reveal")
	}
	for i, f := range []*client{f1, f2} {
		if got := f.readType("question"); got["question"] != 1.0 || got["layer"] != 0.0 || got["from"] != 0.0 {
			t.Errorf("follower %d got %v", i, got)
		}
	}
	if last := p.do(`{"cmd":"ask","id":"q2","index":0}`); last[len(last)-1]["code"] != CodeQuestionOpen {
		t.Errorf("a second ask while one is open: %v", last[len(last)-1])
	}

	for _, tt := range []struct {
		name, who, cmd, code string
	}{
		{"from the presenter", "p", `{"cmd":"answer","id":"e1","question":1,"choice":0}`, CodeNotFollower},
		{"a choice that does not exist", "f1", `{"cmd":"answer","id":"e2","question":1,"choice":2}`, CodeBadCommand},
		{"another question", "f1", `{"cmd":"answer","id":"e3","question":7,"choice":0}`, CodeNoQuestion},
		{"no choice", "f1", `{"cmd":"answer","id":"e4","question":1}`, CodeBadCommand},
		{"a negative choice", "f1", `{"cmd":"answer","id":"e5","question":1,"choice":-1}`, CodeBadCommand},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := map[string]*client{"p": p, "f1": f1}[tt.who]
			fr := c.do(tt.cmd)
			if e := fr[len(fr)-1]; e["code"] != tt.code {
				t.Errorf("%s: %v, want %s", tt.cmd, e, tt.code)
			}
		})
	}

	// Vote, vote the same again, change it: one vote per connection.
	f1.mustDo(`{"cmd":"answer","id":"v1","question":1,"choice":0}`)
	if got := counts(waitTally(t, p, 1)); fmt.Sprint(got) != "[1 0]" {
		t.Errorf("after one vote for 0: %v", got)
	}
	f1.mustDo(`{"cmd":"answer","id":"v2","question":1,"choice":0}`)
	f1.mustDo(`{"cmd":"answer","id":"v3","question":1,"choice":1}`)
	f2.mustDo(`{"cmd":"answer","id":"w1","question":1,"choice":1}`)
	tally := waitTally(t, p, 2)
	for tally["counts"].([]any)[1] != 2.0 {
		tally = waitTally(t, p, 2)
	}
	if got := counts(tally); fmt.Sprint(got) != "[0 2]" || tally["following"] != 2.0 {
		t.Errorf("after a double vote and a change: %v, want answered 2 of 2, counts [0 2]", tally)
	}

	// A follower who drops and comes back with its seat keeps its vote;
	// one who comes back without it is a new seat.
	f1.ws.Close()
	tally = waitTally(t, p, 1)
	if got := counts(tally); fmt.Sprint(got) != "[0 1]" {
		t.Errorf("with the voter gone: %v", tally)
	}
	f1, first = ts.joinRoom(t, rm, "?room="+rm.Code, Credentials{Seat: seat})
	if first[len(first)-1]["seat"] != seat {
		t.Errorf("rejoined with seat %q, got %v", seat, first[len(first)-1]["seat"])
	}
	if got := f1.readType("question"); got["yours"] != 1.0 {
		t.Errorf("rejoined: the question says yours=%v, want 1", got["yours"])
	}
	if got := counts(waitTally(t, p, 2)); fmt.Sprint(got) != "[0 2]" {
		t.Errorf("voter back: %v", got)
	}
	f3, first := ts.joinRoom(t, rm, "?room="+rm.Code, Credentials{Seat: "madeUpSeat"})
	if first[len(first)-1]["seat"] == "madeUpSeat" {
		t.Error("a seat that never voted was kept")
	}
	if got := f3.readType("question"); got["yours"] != nil {
		t.Errorf("a new follower's question says yours=%v", got["yours"])
	}

	// A step closes voting; the reveal carries the answer, the detail,
	// the lesson's explanation and the final counts.
	p.mustDo(`{"cmd":"step","id":"s","granularity":"sample"}`)
	if fr := f3.do(`{"cmd":"answer","id":"late","question":1,"choice":0}`); fr[len(fr)-1]["code"] != CodeVotingClosed {
		t.Errorf("a vote after the step: %v, want voting_closed", fr[len(fr)-1])
	}
	fr = p.mustDo(`{"cmd":"reveal","id":"r","answer":1,"detail":"The weight went down: 0.5 → 0.4."}`)
	rev := ofType(fr, "reveal")
	if len(rev) != 1 || rev[0]["answer"] != 1.0 || rev[0]["index"] != 1.0 || !strings.Contains(rev[0]["why"].(string), "pointy ears") ||
		rev[0]["detail"] != "The weight went down: 0.5 → 0.4." || fmt.Sprint(counts(rev[0])) != "[0 2]" || rev[0]["answered"] != 2.0 || rev[0]["following"] != 3.0 {
		t.Errorf("reveal: %v", fr)
	}
	for i, f := range []*client{f1, f2, f3} {
		if got := f.readType("reveal"); got["answer"] != 1.0 {
			t.Errorf("follower %d got reveal %v", i, got)
		}
	}
	if fr := f2.do(`{"cmd":"answer","id":"after","question":1,"choice":0}`); fr[len(fr)-1]["code"] != CodeNoQuestion {
		t.Errorf("a vote after the reveal: %v", fr[len(fr)-1])
	}

	// A quick question on a weight; a reset withdraws it.
	fr = p.mustDo(`{"cmd":"ask","id":"quick","layer":0,"to":0,"bias":true}`)
	if q := ofType(fr, "question"); len(q) != 1 || q[0]["question"] != 2.0 || q[0]["bias"] != true || q[0]["ask"] != quickAsk {
		t.Errorf("quick ask: %v", fr)
	}
	for _, bad := range []string{
		`{"cmd":"ask","id":"b1","layer":5,"to":0,"from":0}`,
		`{"cmd":"ask","id":"b2","index":0,"layer":0}`,
		`{"cmd":"ask","id":"b3","layer":0,"to":0}`,
	} {
		if fr := p.do(bad); fr[len(fr)-1]["code"] != CodeBadCommand && fr[len(fr)-1]["code"] != CodeQuestionOpen {
			t.Errorf("%s: %v", bad, fr[len(fr)-1])
		}
	}
	fr = p.mustDo(`{"cmd":"reset","id":"reset"}`)
	if rev := ofType(fr, "reveal"); len(rev) != 1 || rev[0]["withdrawn"] != true || rev[0]["answer"] != nil {
		t.Errorf("reset with a question open: %v", types(fr))
	}

	// The lesson's why explains "down"; revealed "up", it is left out.
	p.mustDo(`{"cmd":"ask","id":"again","index":1}`)
	fr = p.mustDo(`{"cmd":"reveal","id":"r2","answer":0}`)
	if rev := ofType(fr, "reveal"); len(rev) != 1 || rev[0]["why"] != nil || rev[0]["question"] != 3.0 {
		t.Errorf("a reveal the why does not explain: %v", rev)
	}
}

func TestVoteRefusedOutsideRooms(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "?lesson=xor")
	c.read()
	for _, cmd := range []string{`{"cmd":"ask","id":1,"index":0}`, `{"cmd":"answer","id":2,"question":1,"choice":0}`, `{"cmd":"reveal","id":3}`} {
		fr := c.do(cmd)
		if e := fr[len(fr)-1]; e["code"] != CodeBadCommand || !strings.Contains(e["message"].(string), "not a classroom room") {
			t.Errorf("%s outside a room: %v", cmd, e)
		}
	}
}

// TestVoteTallyUnderLoad has 500 followers answer at once: the
// presenter's tally reaches every vote, and tally frames come at most
// about once per tallyInterval however many vote.
func TestVoteTallyUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("500 websockets")
	}
	const n = 500
	ts := newTestServer(t, Config{JoinBurst: 2 * n, JoinsPerSecond: 1000, FollowersPerAddress: n})
	rm := ts.openRoom(t, "xor")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	followers := make([]*client, n)
	var wg sync.WaitGroup
	gate := make(chan struct{}, 16) // joins at once: a class arrives over a minute, not in one instant
	for i := range followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gate <- struct{}{}
			defer func() { <-gate }()
			ws, resp, err := ts.tryDial("?room="+rm.Code, nil)
			if err != nil {
				t.Errorf("follower %d: %v %v", i, resp, err)
				return
			}
			t.Cleanup(func() { ws.Close() })
			followers[i] = &client{t: t, ws: ws}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	p.mustDo(`{"cmd":"ask","id":"q","index":0}`)

	start := time.Now()
	for i, f := range followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.send(fmt.Sprintf(`{"cmd":"answer","question":1,"choice":%d}`, i%2))
		}()
	}
	wg.Wait()
	var tallies int
	for {
		f := p.read()
		if f["type"] != "tally" {
			continue
		}
		tallies++
		if f["answered"] == float64(n) {
			if got := counts(f); got[0] != n/2 || got[1] != n/2 || f["following"] != float64(n) {
				t.Errorf("final tally %v", f)
			}
			break
		}
	}
	elapsed := time.Since(start)
	// One at once, then at most one per interval (and the first tally of
	// the ask, read before start, is not counted).
	if limit := 2 + int(elapsed/tallyInterval); tallies > limit {
		t.Errorf("%d tally frames in %v for %d votes: more than one per %v", tallies, elapsed, n, tallyInterval)
	}
	t.Logf("%d votes tallied in %v, in %d tally frames", n, elapsed, tallies)
}

// TestViewSay: the presenter's narration reaches its followers as it is
// said, and is not kept for late joiners.
func TestViewSay(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "xor")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)
	p.mustDo(`{"cmd":"view","id":"v","math":true,"say":"Up to here: Predicted 0.5, actual 1.\nLesson note."}`)
	if v := f.readType("view"); v["say"] != "Up to here: Predicted 0.5, actual 1.\nLesson note." || v["math"] != true {
		t.Errorf("the follower got %v", v)
	}
	late, first := ts.joinRoom(t, rm, "?room="+rm.Code)
	_ = first
	if v := late.readType("view"); v["say"] != nil || v["math"] != true {
		t.Errorf("a late joiner got %v, want the view without the old narration", v)
	}
	if fr := p.do(`{"cmd":"view","id":"long","say":"` + strings.Repeat("x", 2001) + `"}`); fr[len(fr)-1]["code"] != CodeBadCommand {
		t.Errorf("a 2001-character say: %v", fr[len(fr)-1])
	}
}
