package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/engine"
	"github.com/netstep/netstep/external"
)

// testRoom is an open room as POST /api/rooms answered.
type testRoom struct {
	Code           string `json:"code"`
	PresenterToken string `json:"presenterToken"`
	PresenterURL   string `json:"presenterUrl"`
	JoinURL        string `json:"joinUrl"`
	Lesson         string `json:"lesson"`
}

func (ts *testServer) postRoom(t testing.TB, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.http.URL+"/api/rooms", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp, buf.Bytes()
}

// openRoom creates a room with the lesson and returns it.
func (ts *testServer) openRoom(t testing.TB, lesson string) testRoom {
	t.Helper()
	resp, body := ts.postRoom(t, `{"lesson":"`+lesson+`"}`, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/rooms: %d %s", resp.StatusCode, body)
	}
	var rm testRoom
	if err := json.Unmarshal(body, &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// presenter is what the room's presenter connects with.
func (rm testRoom) presenter() Credentials {
	return Credentials{Token: rm.PresenterToken}
}

// joinRoom connects a follower and reads up to its room frame: after
// hello, state and room (a view frame, when the presenter set one, is
// left unread).
func (ts *testServer) joinRoom(t testing.TB, rm testRoom, query string, creds ...Credentials) (*client, []map[string]any) {
	t.Helper()
	c := ts.dial(t, query, creds...)
	var got []map[string]any
	for {
		f := c.read()
		got = append(got, f)
		if f["type"] == "room" {
			return c, got
		}
	}
}

// stepEveryGranularity has the presenter p take steps, micro, phase,
// sample and batch in turn, and returns the events frames it got, as sent:
// what every follower must get, frame for frame.
func (p *client) stepEveryGranularity(steps int) [][]byte {
	p.t.Helper()
	var want [][]byte
	for i := range steps {
		g := []string{"micro", "phase", "sample", "batch"}[i%4]
		id := fmt.Sprint(i + 1)
		p.send(fmt.Sprintf(`{"cmd":"step","id":%q,"granularity":%q}`, id, g))
		for {
			raw := p.readRaw()
			if bytes.HasPrefix(raw, []byte(`{"type":"events"`)) {
				want = append(want, raw)
			}
			if bytes.HasPrefix(raw, []byte(`{"type":"done","id":"`+id+`"`)) {
				break
			}
			if bytes.HasPrefix(raw, []byte(`{"type":"error"`)) {
				p.t.Fatalf("the presenter's step %s got %s", id, raw)
			}
		}
	}
	return want
}

// followersGetEveryEvent checks that every follower reads the events
// frames want, byte for byte and in order (each follower read at once, so
// a slow reader does not hold up the others).
func followersGetEveryEvent(t *testing.T, followers []*client, want [][]byte) {
	t.Helper()
	var wg sync.WaitGroup
	for i, f := range followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := f.readEventsRaw(len(want))
			for k := range want {
				if !bytes.Equal(got[k], want[k]) {
					t.Errorf("follower %d, events frame %d:\n got %.200s\nwant %.200s", i, k, got[k], want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// readEventsRaw reads frames until n events frames have come, and returns
// their bytes with the id left out (followers' frames carry the
// presenter's id too).
func (c *client) readEventsRaw(n int) [][]byte {
	c.t.Helper()
	var out [][]byte
	for len(out) < n {
		raw := c.readRaw()
		if bytes.HasPrefix(raw, []byte(`{"type":"events"`)) {
			out = append(out, raw)
		}
		if bytes.HasPrefix(raw, []byte(`{"type":"done"`)) || bytes.HasPrefix(raw, []byte(`{"type":"error"`)) {
			c.t.Fatalf("a follower got %s, which only the sender should get", raw)
		}
	}
	return out
}

func TestRoomCreate(t *testing.T) {
	ts := newTestServer(t, Config{RoomBurst: 5}) // failed tries count too
	rm := ts.openRoom(t, "xor")
	if len(rm.Code) != 6 {
		t.Errorf("code %q, want 6 characters", rm.Code)
	}
	for _, r := range rm.Code {
		if !strings.ContainsRune(codeAlphabet, r) || strings.ContainsRune("0O1IL", r) {
			t.Errorf("code %q has %q, a look-alike or not in the alphabet", rm.Code, r)
		}
	}
	if n := len(rm.PresenterToken); n < 22 { // 22 base64url characters = 132 bits
		t.Errorf("presenter token %q is %d characters, want at least 128 bits", rm.PresenterToken, n)
	}
	if strings.Contains(rm.JoinURL, rm.PresenterToken) || !strings.HasSuffix(rm.JoinURL, "/join/"+rm.Code) {
		t.Errorf("join URL %q", rm.JoinURL)
	}
	if !strings.HasSuffix(rm.PresenterURL, "/present/"+rm.Code+"#token="+rm.PresenterToken) {
		t.Errorf("presenter URL %q: want the token in the fragment", rm.PresenterURL)
	}
	if got, want := ts.Rooms(), 1; got != want {
		t.Errorf("Rooms() = %d, want %d", got, want)
	}
	// Codes are case-insensitive.
	c, _ := ts.joinRoom(t, rm, "?room="+strings.ToLower(rm.Code))
	c.ws.Close()

	for _, tt := range []struct {
		name, body string
		header     http.Header
		want       int
	}{
		{"unknown lesson", `{"lesson":"nope"}`, nil, http.StatusBadRequest},
		{"unknown field", `{"lessons":"xor"}`, nil, http.StatusBadRequest},
		{"another origin", ``, http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"default lesson", ``, nil, http.StatusCreated},
		{"fifth try from one address", `{"lesson":"xor"}`, nil, http.StatusCreated},
		{"sixth try from one address", `{"lesson":"xor"}`, nil, http.StatusTooManyRequests},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ts.postRoom(t, tt.body, tt.header)
			if resp.StatusCode != tt.want {
				t.Errorf("HTTP %d %s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
	resp, err := http.Get(ts.http.URL + "/api/rooms")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/rooms: %d, want 405", resp.StatusCode)
	}
}

func TestRoomCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		c := newRoomCode()
		n, ok := NormalizeRoomCode(strings.ToLower(c[:3]) + "-" + c[3:])
		if !ok || n != c {
			t.Fatalf("NormalizeRoomCode of %q = %q, %v", c, n, ok)
		}
		seen[c] = true
	}
	if len(seen) < 1990 {
		t.Errorf("2000 codes, only %d different", len(seen))
	}
	for _, bad := range []string{"", "ABCDE", "ABCDEFG", "ABCDE0", "ABCDEO", "ABCDE1", "ABCDEI", "ABCDEL", "ÄBCDEF"} {
		if _, ok := NormalizeRoomCode(bad); ok {
			t.Errorf("NormalizeRoomCode(%q) accepted it", bad)
		}
	}
}

func TestRoomFollowersGetEveryEventInOrder(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "circle-8-8")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	var followers []*client
	for i := range 8 {
		f, first := ts.joinRoom(t, rm, "?room="+rm.Code)
		if got := types(first); got != "state,room" {
			t.Fatalf("follower %d's first frames after hello: %s, want state,room", i, got)
		}
		if f.hello["resume"] != "" {
			t.Errorf("a follower's hello carries a resume token %q", f.hello["resume"])
		}
		followers = append(followers, f)
	}
	// The presenter hears how many follow.
	for {
		f := p.read()
		if f["type"] == "room" && f["followers"] == float64(8) {
			break
		}
	}
	followersGetEveryEvent(t, followers, p.stepEveryGranularity(12))
}

func TestRoomRefusesFollowersAndWrongTokens(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "xor")
	f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)
	for i, cmd := range []string{
		`{"cmd":"step"}`, `{"cmd":"back"}`, `{"cmd":"run"}`, `{"cmd":"pause"}`, `{"cmd":"reset"}`,
		`{"cmd":"load","name":"xor"}`, `{"cmd":"set","learningRate":1}`,
		`{"cmd":"setWeight","layer":0,"to":0,"from":0,"value":1}`, `{"cmd":"view","math":true}`, `{"cmd":"endRoom"}`,
	} {
		id := fmt.Sprint(i + 1)
		cmd = strings.Replace(cmd, "{", `{"id":"`+id+`",`, 1)
		frames := f.do(cmd)
		last := frames[len(frames)-1]
		if last["code"] != CodeNotPresenter || !strings.Contains(last["message"].(string), "presenter") {
			t.Errorf("%s from a follower: %v, want not_presenter", cmd, last)
		}
	}
	// A follower may ask for the state.
	if got := types(f.mustDo(`{"cmd":"state","id":"s"}`)); got != "state,done" {
		t.Errorf("state from a follower: %s", got)
	}
	// Wrong tokens never reach the room: 403 before the upgrade (400 for
	// one longer than any token, naming the field: credentials_test.go).
	for _, tok := range []string{rm.PresenterToken + "x", strings.Repeat("A", 300)} {
		want := http.StatusForbidden
		if len(tok) > 64 {
			want = http.StatusBadRequest
		}
		_, resp, err := ts.tryDial("?room="+rm.Code, nil, Credentials{Token: tok})
		if err == nil || resp == nil || resp.StatusCode != want {
			t.Errorf("presenter with %.40s: %v %v, want %d", tok, resp, err, want)
		}
	}
	// Another room's token does not drive this one.
	other := ts.openRoom(t, "xor")
	_, resp, err := ts.tryDial("?room="+rm.Code, nil, other.presenter())
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("another room's token: %v %v, want 403", resp, err)
	}
	// Unknown codes are 404.
	for _, code := range []string{"ZZZZZZ", "nope", ""} {
		_, resp, err := ts.tryDial("?room="+code, nil)
		if err == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("room %q: %v %v, want 404", code, resp, err)
		}
	}
}

func TestRoomLateJoinerGetsTheState(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "xor")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	for i := range 3 {
		p.mustDo(fmt.Sprintf(`{"cmd":"step","id":%d,"granularity":"sample"}`, i+1))
	}
	p.mustDo(`{"cmd":"set","id":"lr","learningRate":0.25}`)
	p.mustDo(`{"cmd":"view","id":"v","math":true,"granularity":"phase"}`)
	want := ofType(p.mustDo(`{"cmd":"state","id":"st"}`), "state")[0]["state"].(map[string]any)

	f := ts.dial(t, "?room="+rm.Code)
	st := f.read()
	if st["type"] != "state" {
		t.Fatalf("after hello: %v, want the state at once", st["type"])
	}
	got := st["state"].(map[string]any)
	for _, k := range []string{"position", "network", "training", "losses", "lesson"} {
		a, _ := json.Marshal(got[k])
		b, _ := json.Marshal(want[k])
		if !bytes.Equal(a, b) {
			t.Errorf("late joiner's %s:\n got %.200s\nwant %.200s", k, a, b)
		}
	}
	if r := f.read(); r["type"] != "room" || r["role"] != "follower" || r["code"] != rm.Code {
		t.Errorf("then %v, want the room frame", r)
	}
	if v := f.read(); v["type"] != "view" || v["math"] != true || v["granularity"] != "phase" {
		t.Errorf("then %v, want the presenter's view", v)
	}
}

func TestRoomForkAndFollowAgain(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "circle-8-8")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	for i := range 4 {
		p.mustDo(fmt.Sprintf(`{"cmd":"step","id":%d,"granularity":"sample"}`, i+1))
	}
	f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)

	// Explore on my own: a private session in the room's state.
	x := ts.dial(t, "?fork="+rm.Code)
	if x.hello["resume"] == "" {
		t.Error("a fork has no resume token: it should be an ordinary private session")
	}
	st := x.read()
	if st["type"] != "state" {
		t.Fatalf("fork's first frame after hello: %v", st["type"])
	}
	pos, _ := json.Marshal(st["state"].(map[string]any)["position"])
	// The fork's next step is the room's next step, byte for byte.
	forkEvents := x.socketStep("x1", "sample")
	roomEvents := p.socketStep("5", "sample")
	if !bytes.Equal(forkEvents, roomEvents) {
		t.Fatalf("fork at %s: its next step differs from the room's", pos)
	}
	// The fork may do what the room's followers may not, and Back reaches
	// before the fork.
	x.mustDo(`{"cmd":"set","id":"x2","learningRate":3}`)
	for i := range 6 {
		x.mustDo(fmt.Sprintf(`{"cmd":"back","id":"b%d"}`, i))
	}
	// The room went on without the explorer: the follower saw step 5 only.
	f.readEventsRaw(1)
	x.ws.Close()

	// Follow again: a fresh room connection gets the room's state at once.
	again, first := ts.joinRoom(t, rm, "?room="+rm.Code)
	st = first[0]
	gotPos := st["state"].(map[string]any)["position"].(map[string]any)
	wantPos := ofType(p.mustDo(`{"cmd":"state","id":"s"}`), "state")[0]["state"].(map[string]any)["position"].(map[string]any)
	if gotPos["t"] != wantPos["t"] {
		t.Errorf("follow again at t=%v, the room is at t=%v", gotPos["t"], wantPos["t"])
	}
	again.ws.Close()
}

func TestRoomPresenterResume(t *testing.T) {
	ts := newTestServer(t, Config{ResumeWindow: 50 * time.Millisecond})
	rm := ts.openRoom(t, "xor")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)
	p.mustDo(`{"cmd":"step","id":1}`)
	f.readEventsRaw(1)

	// The presenter's Wi-Fi drops, for longer than an ordinary session's
	// resume window: the room waits for its presenter.
	p.ws.Close()
	time.Sleep(300 * time.Millisecond)
	p2 := ts.dial(t, "?room="+rm.Code, rm.presenter())
	if got := types([]map[string]any{p2.read(), p2.read()}); got != "state,room" {
		t.Fatalf("presenter back: %s, want state,room", got)
	}
	want := p2.socketStep("2", "sample")
	got := f.readEventsRaw(1)[0]
	if !bytes.Contains(got, want) {
		t.Errorf("after the presenter came back the follower got %.200s, want the step's events", got)
	}
	if ts.Rooms() != 1 {
		t.Errorf("%d rooms open, want 1", ts.Rooms())
	}
}

func TestRoomEnds(t *testing.T) {
	t.Run("by the presenter", func(t *testing.T) {
		ts := newTestServer(t, Config{})
		rm := ts.openRoom(t, "xor")
		p := ts.dial(t, "?room="+rm.Code, rm.presenter())
		f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)
		frames := p.do(`{"cmd":"endRoom","id":"end"}`)
		if got := types(frames); !strings.HasSuffix(got, "roomEnded,done") {
			t.Errorf("presenter got %s, want roomEnded then done", got)
		}
		for {
			fr := f.read()
			if fr["type"] == "roomEnded" {
				if fr["code"] != rm.Code || fr["reason"] != "the presenter ended the room" {
					t.Errorf("roomEnded %v, want the code and the presenter's reason", fr)
				}
				break
			}
		}
		if code := f.closeCode(); code != websocket.CloseNormalClosure {
			t.Errorf("follower closed with %d, want 1000", code)
		}
		waitFor(t, "the room to be gone", func() bool { return ts.Rooms() == 0 })
		if _, resp, err := ts.tryDial("?room="+rm.Code, nil); err == nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("joining an ended room: %v %v, want 404", resp, err)
		}
	})
	t.Run("after its time without a presenter", func(t *testing.T) {
		ts := newTestServer(t, Config{RoomTTL: 300 * time.Millisecond})
		rm := ts.openRoom(t, "xor")
		p := ts.dial(t, "?room="+rm.Code, rm.presenter())
		f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)
		p.ws.Close()
		start := time.Now()
		for {
			if fr := f.read(); fr["type"] == "roomEnded" {
				break
			}
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("the room ended %v after the presenter left, want about 300ms", d)
		}
		f.closeCode()
		waitFor(t, "the room to be gone", func() bool { return ts.Rooms() == 0 && ts.Sessions() == 0 })
	})
	t.Run("endRoom outside a room", func(t *testing.T) {
		ts := newTestServer(t, Config{})
		c := ts.dial(t, "?lesson=xor")
		c.read()
		if last := c.do(`{"cmd":"endRoom","id":1}`); last[len(last)-1]["code"] != CodeBadCommand {
			t.Errorf("endRoom in a private session: %v", last[len(last)-1])
		}
	})
}

func TestRoomJoinRate(t *testing.T) {
	ts := newTestServer(t, Config{JoinBurst: 5, JoinsPerSecond: 0.01})
	rm := ts.openRoom(t, "xor")
	// At the limit: five tries, one of them a wrong code, all answered.
	if _, resp, err := ts.tryDial("?room=ZZZZZZ", nil); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown code: %v %v, want 404", resp, err)
	}
	for range 4 {
		f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)
		f.ws.Close()
	}
	// One past it: 429, even with the right code.
	_, resp, err := ts.tryDial("?room="+rm.Code, nil)
	if err == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sixth join: %v %v, want 429", resp, err)
	}
	// Pages count only misses: the right code still answers, a wrong one does not.
	r, _ := http.NewRequest("GET", "/join/x", nil)
	r.RemoteAddr = "127.0.0.1:1"
	if _, status := ts.JoinRoom(r, rm.Code); status != http.StatusOK {
		t.Errorf("JoinRoom with the right code: %d", status)
	}
	if _, status := ts.JoinRoom(r, "ZZZZZZ"); status != http.StatusTooManyRequests {
		t.Errorf("JoinRoom with a wrong code past the limit: %d, want 429", status)
	}
}

func TestRoomClassJoinsAtOnce(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "xor")
	if d := ts.dialAtOnce(t, 60, "?room="+rm.Code); d > 3*time.Second {
		t.Errorf("60 students took %v to join", d)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRoomCompactFollowers: followers who ask for ?events=compact get the
// compact form of the very events the others get as objects, and the
// presenter gets its own form; each form is encoded once per frame.
func TestRoomCompactFollowers(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "circle-8-8")
	p, _ := ts.joinRoom(t, rm, "?room="+rm.Code, rm.presenter())
	objects := []*client{}
	compact := []*client{}
	for range 2 {
		f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)
		objects = append(objects, f)
		f, _ = ts.joinRoom(t, rm, "?room="+rm.Code+"&events=compact")
		compact = append(compact, f)
	}
	if _, resp, err := ts.tryDial("?room="+rm.Code+"&events=tiny", nil); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("?room=…&events=tiny: %v, want 400", resp)
	}
	tr := testTrainer(t, "testdata/circle-8-8.json")
	for i, g := range []engine.Granularity{engine.StepMicro, engine.StepSample, engine.StepBatch, engine.StepEpoch} {
		var wantO, wantC []byte
		tr.Step(g, func(e *engine.Event) {
			if len(wantO) > 0 {
				wantO, wantC = append(wantO, ','), append(wantC, ',')
			}
			wantO, wantC = e.AppendJSON(wantO), e.AppendCompact(wantC)
		})
		id := fmt.Sprint("s", i)
		if got := p.socketStep(id, g.String()); !bytes.Equal(got, wantO) {
			t.Fatalf("presenter, %s step:\n got %.200s\nwant %.200s", g, got, wantO)
		}
		for _, tt := range []struct {
			clients []*client
			want    []byte
		}{{objects, wantO}, {compact, wantC}} {
			for k, f := range tt.clients {
				var got []byte
				for more := true; more; {
					var fr struct {
						Events json.RawMessage `json:"events"`
						More   bool            `json:"more"`
					}
					if err := json.Unmarshal(f.readEventsRaw(1)[0], &fr); err != nil {
						t.Fatalf("follower %d: %v", k, err)
					}
					if len(got) > 0 {
						got = append(got, ',')
					}
					got, more = append(got, fr.Events[1:len(fr.Events)-1]...), fr.More
				}
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("follower %d, %s step:\n got %.200s\nwant %.200s", k, g, got, tt.want)
				}
			}
		}
	}
}

// TestRoomLinksTrustProxyOnlyWhenTold: a new room's links follow a reverse
// proxy's X-Forwarded-Proto and X-Forwarded-Host only with TrustProxy;
// otherwise anyone could make the server hand out links to another site.
func TestRoomLinksTrustProxyOnlyWhenTold(t *testing.T) {
	for _, tt := range []struct {
		trust bool
		want  string
	}{{false, "http://"}, {true, "https://course.example.org/"}} {
		var proxies external.Proxies
		if tt.trust {
			proxies, _ = external.ParseProxies([]string{"127.0.0.1", "::1"})
		}
		ts := newTestServer(t, Config{TrustProxy: proxies})
		resp, body := ts.postRoom(t, `{"lesson":"xor"}`, http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"course.example.org"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST /api/rooms: %d %s", resp.StatusCode, body)
		}
		var rm testRoom
		json.Unmarshal(body, &rm)
		want := tt.want
		if !tt.trust {
			want += strings.TrimPrefix(ts.http.URL, "http://") + "/"
		}
		for _, link := range []string{rm.JoinURL, rm.PresenterURL} {
			if !strings.HasPrefix(link, want) {
				t.Errorf("TrustProxy %v: link %q, want it to start with %q", tt.trust, link, want)
			}
		}
	}
}

// TestMetricsAfterEndRoom: ending a room with followers leaves no
// connection counted (the gauge went down only when a session itself
// detached a viewer, which an ending session no longer does).
func TestMetricsAfterEndRoom(t *testing.T) {
	ts := newTestServer(t, Config{})
	rm := ts.openRoom(t, "xor")
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	var fs []*client
	for range 3 {
		f, _ := ts.joinRoom(t, rm, "?room="+rm.Code)
		fs = append(fs, f)
	}
	if got := ts.metricValue(t, "netstep_connections"); got != 4 {
		t.Fatalf("netstep_connections = %v with a presenter and 3 followers, want 4", got)
	}
	p.do(`{"cmd":"endRoom","id":"end"}`)
	for _, f := range fs {
		f.closeCode()
	}
	p.ws.Close()
	waitFor(t, "the room's session to end", func() bool { return ts.Rooms() == 0 && ts.Sessions() == 0 })
	waitFor(t, "no connection counted", func() bool {
		return ts.metricValue(t, "netstep_connections") == 0 && ts.metricValue(t, "netstep_followers") == 0
	})
}

// TestRoomWithTheLearnersLesson: "Teach a class" from a lesson of one's own
// (or from where the learner has trained to) sends the lesson object the
// page has loaded; the room opens with it, checks it as a load command
// checks a lesson, and keeps it across a restart.
func TestRoomWithTheLearnersLesson(t *testing.T) {
	doc, err := mustLesson(t, "xor").JSON()
	if err != nil {
		t.Fatal(err)
	}
	var own map[string]any
	if err := json.Unmarshal(doc, &own); err != nil {
		t.Fatal(err)
	}
	delete(own, "name")
	own["title"] = "My own XOR"
	net := own["network"].(map[string]any)
	net["weights"] = [][][]float64{{{0.31, -0.52}, {0.73, 0.14}}, {{-0.25, 0.66}}}
	net["biases"] = [][]float64{{0.05, -0.07}, {0.11}}
	body, _ := json.Marshal(map[string]any{"lesson": own})

	dir := t.TempDir()
	open := func() *cluster.Conn { return diskCluster(t, dir) }
	c1 := open()
	ts := newTestServer(t, Config{Cluster: c1})
	resp, got := ts.postRoom(t, string(body), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/rooms with a lesson object: %d %s", resp.StatusCode, got)
	}
	var rm testRoom
	if err := json.Unmarshal(got, &rm); err != nil {
		t.Fatal(err)
	}
	if rm.Lesson != "My own XOR" {
		t.Errorf("the room's lesson is %q, want the lesson's title", rm.Lesson)
	}
	type seen struct {
		Lesson  struct{ Title string }
		Network struct {
			Weights [][][]float64
			Biases  [][]float64
		}
	}
	check := func(when string, state []byte) {
		t.Helper()
		var s seen
		if err := json.Unmarshal(state, &s); err != nil {
			t.Fatal(err)
		}
		if s.Lesson.Title != "My own XOR" {
			t.Errorf("%s: the room's lesson is %q, want My own XOR", when, s.Lesson.Title)
		}
		if fmt.Sprint(s.Network.Weights, s.Network.Biases) != fmt.Sprint(net["weights"], net["biases"]) {
			t.Errorf("%s: weights %v %v, want the lesson's %v %v", when, s.Network.Weights, s.Network.Biases, net["weights"], net["biases"])
		}
	}
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	check("presenting", p.askState("s"))
	p.ws.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ts.Shutdown(ctx)
	cancel()
	ts.http.Close()
	c1.Close()

	c2 := open()
	t.Cleanup(c2.Close)
	ts = newTestServer(t, Config{Cluster: c2})
	if ts.Rooms() != 1 {
		t.Fatalf("%d rooms after the restart, want 1", ts.Rooms())
	}
	_, first := ts.joinRoom(t, rm, "?room="+rm.Code)
	check("after a restart", stateOf(t, first[0]))

	// A lesson from outside is checked like any other: errors name the field.
	bad := func(mod func(map[string]any)) string {
		var l map[string]any
		json.Unmarshal(doc, &l)
		mod(l)
		b, _ := json.Marshal(map[string]any{"lesson": l})
		return string(b)
	}
	for _, tt := range []struct {
		name, body, want string
	}{
		{"a bad field", bad(func(l map[string]any) { l["training"].(map[string]any)["learningRate"] = "fast" }), `lesson.training.learningRate: want a number`},
		{"weights of the wrong shape", bad(func(l map[string]any) { l["network"].(map[string]any)["weights"] = [][][]float64{{{1}}} }), `lesson.network.weights`},
		{"neither a name nor an object", `{"lesson":5}`, `lesson: want a lesson's name or a lesson object, got 5`},
		{"an unknown name", `{"lesson":"nope"}`, `lesson: there is no lesson called "nope"`},
		{"too big", `{"lesson":{"title":"` + strings.Repeat("x", maxCreateBody) + `"}}`, `at most`},
	} {
		t.Run(tt.name, func(t *testing.T) { ts.roomRefused(t, tt.body, tt.want) })
	}
}

// diskCluster opens an embedded NATS node keeping its data in dir, as
// serve's does: another one on the same dir after a stop is a restart.
func diskCluster(t testing.TB, dir string) *cluster.Conn {
	t.Helper()
	c, err := cluster.Open(context.Background(), cluster.Options{StoreDir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRoomFromALearnersSession: "Teach a class" with the page's session
// starts the class exactly where the teacher is: the room's state is the
// learner's (weights, position, losses, Back), and the two go their own
// ways after.
func TestRoomFromALearnersSession(t *testing.T) {
	ts := newTestServer(t, Config{})
	l := ts.dial(t, "?lesson=xor")
	token := l.hello["resume"].(string)
	l.read() // the state
	for i, g := range []string{"sample", "sample", "batch"} {
		l.mustDo(`{"cmd":"step","id":"` + strconv.Itoa(i) + `","granularity":"` + g + `"}`)
	}
	want := l.askState("before")

	resp, got := ts.postRoom(t, `{"session":"`+token+`"}`, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/rooms with a session: %d %s", resp.StatusCode, got)
	}
	var rm testRoom
	if err := json.Unmarshal(got, &rm); err != nil {
		t.Fatal(err)
	}
	if rm.Lesson != "xor" {
		t.Errorf("the room's lesson is %q, want xor", rm.Lesson)
	}
	p := ts.dial(t, "?room="+rm.Code, rm.presenter())
	if got := p.askState("room"); !bytes.Equal(got, want) {
		t.Errorf("the room starts at\n %.300s\nthe learner was at\n %.300s", got, want)
	}
	p.mustDo(`{"cmd":"back","id":"b"}`) // the learner's Back history came along
	l.mustDo(`{"cmd":"step","id":"after","granularity":"epoch"}`)
	if got := p.askState("room2"); bytes.Equal(got, want) || bytes.Equal(got, l.askState("after2")) {
		t.Error("the room and the learner's session did not go their own ways")
	}

	for _, tt := range []struct{ name, body, want string }{
		{"an unknown session", `{"session":"nope"}`, "session: no live session on this server has that token"},
		{"a session and a lesson", `{"session":"` + token + `","lesson":"xor"}`, "session: want either session or lesson, not both"},
	} {
		t.Run(tt.name, func(t *testing.T) { ts.roomRefused(t, tt.body, tt.want) })
	}
}

// roomRefused posts body to /api/rooms and wants a 400 whose error says want.
func (ts *testServer) roomRefused(t *testing.T, body, want string) {
	t.Helper()
	resp, got := ts.postRoom(t, body, nil)
	var answer struct{ Error string }
	json.Unmarshal(got, &answer)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(answer.Error, want) {
		t.Errorf("HTTP %d %s, want 400 with %q", resp.StatusCode, got, want)
	}
}

// TestFullRoomReasonCounts: the reasons a full room gives agree in number
// with the count they quote ("1 student is", not "1 students").
func TestFullRoomReasonCounts(t *testing.T) {
	for _, tt := range []struct {
		max, perAddr int
		want         string
	}{
		{1, 5, "This room is full: 1 student is following, the most this server allows."},
		{3, 5, "This room is full: 3 students are following, the most this server allows."},
		{1000, 1, "This room is full for your network: 1 student is following from it, the most one address may have."},
		{1000, 2, "This room is full for your network: 2 students are following from it, the most one address may have."},
	} {
		rm := &room{}
		for range min(tt.max, tt.perAddr) {
			if ok, why := rm.admit("a", tt.max, tt.perAddr); !ok {
				t.Fatalf("admit before the cap: %s", why)
			}
		}
		if ok, why := rm.admit("a", tt.max, tt.perAddr); ok || why != tt.want {
			t.Errorf("max %d, per address %d: admitted %v, %q; want refused, %q", tt.max, tt.perAddr, ok, why, tt.want)
		}
	}
}
