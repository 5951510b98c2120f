package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/engine"
)

func testTrainer(t testing.TB, file string) *engine.Trainer {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	l, err := engine.ParseLesson(b)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := engine.NewTrainer(l)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// traceStep is what `netstep trace` prints for one step, as the
// comma-joined event objects an events frame carries.
func traceStep(t testing.TB, tr *engine.Trainer, g engine.Granularity) []byte {
	var out []byte
	err := tr.Step(g, func(e *engine.Event) {
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = e.AppendJSON(out)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// socketStep sends a step and returns the events of its events frames,
// comma-joined, byte for byte as they came.
func (c *client) socketStep(id string, g string) []byte {
	c.t.Helper()
	c.send(fmt.Sprintf(`{"cmd":"step","id":%q,"granularity":%q}`, id, g))
	var out []byte
	for {
		raw := c.readRaw()
		var f struct {
			Type   string          `json:"type"`
			ID     string          `json:"id"`
			Events json.RawMessage `json:"events"`
			More   bool            `json:"more"`
			Code   string          `json:"code"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			c.t.Fatal(err)
		}
		switch f.Type {
		case "events":
			if f.ID != id {
				c.t.Fatalf("events frame with id %q, want %q", f.ID, id)
			}
			// Take the bytes between "events":[ and the closing ], as sent.
			i := bytes.Index(raw, []byte(`"events":[`)) + len(`"events":[`)
			j := bytes.LastIndexByte(raw, ']')
			if len(out) > 0 && j > i {
				out = append(out, ',')
			}
			out = append(out, raw[i:j]...)
		case "done":
			return out
		case "error":
			c.t.Fatalf("step %s: %s", g, raw)
		}
	}
}

func TestStepEventsMatchTrace(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, lesson := range []string{"xor", "circle-8-8"} {
		t.Run(lesson, func(t *testing.T) {
			c := ts.dial(t, "")
			c.mustDo(`{"cmd":"load","id":1,"name":"` + lesson + `"}`)
			var tr *engine.Trainer
			if lesson == "xor" {
				l, _ := engine.Builtin().Lookup("xor")
				tr, _ = engine.NewTrainer(l)
			} else {
				tr = testTrainer(t, "testdata/circle-8-8.json")
			}
			steps := []string{"micro", "micro", "phase", "sample", "sample", "batch", "epoch", "phase", "micro", "sample", "epoch"}
			for i, g := range steps {
				gran, _ := engine.ParseGranularity(g)
				want := traceStep(t, tr, gran)
				got := c.socketStep(fmt.Sprint("s", i), g)
				if !bytes.Equal(got, want) {
					t.Fatalf("step %d (%s): socket events differ from trace\n got %.300s\nwant %.300s", i, g, got, want)
				}
			}
		})
	}
}

func TestCompactEvents(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "?lesson=circle-8-8&events=compact")
	c.read()
	tr := testTrainer(t, "testdata/circle-8-8.json")
	for i, g := range []engine.Granularity{engine.StepMicro, engine.StepSample, engine.StepBatch} {
		var want []byte
		tr.Step(g, func(e *engine.Event) {
			if len(want) > 0 {
				want = append(want, ',')
			}
			want = e.AppendCompact(want)
		})
		if got := c.socketStep(fmt.Sprint(i), g.String()); !bytes.Equal(got, want) {
			t.Fatalf("compact %s step:\n got %.200s\nwant %.200s", g, got, want)
		}
	}
	if _, resp, err := ts.tryDial("?events=tiny", nil); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("?events=tiny: %v, want 400", resp)
	}
}

func TestBackThenStepReplays(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "")
	c.mustDo(`{"cmd":"load","id":1,"name":"circle-8-8"}`)
	for _, g := range []string{"micro", "phase", "sample", "batch", "epoch"} {
		c.socketStep("a", "sample")
		first := c.socketStep("b", g)
		frames := c.mustDo(`{"cmd":"back","id":"back"}`)
		st := ofType(frames, "state")
		if len(st) != 1 || st[0]["reason"] != "back" {
			t.Fatalf("back answered %s", types(frames))
		}
		if _, full := st[0]["state"].(map[string]any)["lesson"]; full {
			t.Errorf("state after back carries the lesson; want a partial state")
		}
		again := c.socketStep("c", g)
		if !bytes.Equal(first, again) {
			t.Fatalf("%s step after back differs:\n got %.200s\nwant %.200s", g, again, first)
		}
	}
}

func TestEveryCommand(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "")
	if c.hello["protocol"] != 1.0 || c.hello["resumed"] != false {
		t.Fatalf("hello = %v", c.hello)
	}
	if tok, _ := c.hello["resume"].(string); len(tok) < 22 {
		t.Fatalf("resume token %q is shorter than 128 bits", tok)
	}
	full := func(f map[string]any) bool {
		st := f["state"].(map[string]any)
		_, l := st["lesson"]
		_, d := st["data"]
		return l && d
	}
	tests := []struct {
		cmd    string
		types  string
		reason string
		full   bool
	}{
		{`{"cmd":"load","id":"1","name":"circle-8-8"}`, "state,done", "load", true},
		{`{"cmd":"state","id":"2"}`, "state,done", "state", true},
		{`{"cmd":"step","id":"3"}`, "events,done", "", false},
		{`{"cmd":"step","id":"4","granularity":"batch"}`, "events,boundary,done", "", false},
		{`{"cmd":"back","id":"5"}`, "state,done", "back", false},
		{`{"cmd":"set","id":"6","learningRate":0.1,"batchSize":4}`, "state,done", "set", false},
		{`{"cmd":"setWeight","id":"7","layer":0,"to":1,"from":0,"value":0.5}`, "state,done", "setWeight", false},
		{`{"cmd":"setWeight","id":"8","layer":2,"to":0,"bias":true,"value":-0.25}`, "state,done", "setWeight", false},
		{`{"cmd":"reset","id":"9"}`, "state,done", "reset", true},
		{`{"cmd":"pause","id":"10"}`, "state,done", "pause", false},
		{`{"cmd":"load","id":11,"lesson":` + readFile(t, "testdata/circle-8-8.json") + `}`, "state,done", "load", true},
	}
	for _, tt := range tests {
		// Heatmaps are computed at most ~10 a second; a step right after
		// another heatmap gets its boundary frame late.
		time.Sleep(boundaryInterval)
		frames := c.do(tt.cmd)
		if got := types(frames); got == "events,done" && tt.types == "events,boundary,done" {
			// Held back (heatmaps are spaced out): it follows shortly.
			if f := c.read(); f["type"] != "boundary" {
				t.Fatalf("%s: after done got %v, want the held-back boundary", tt.cmd, f["type"])
			}
			continue
		}
		if got := types(frames); got != tt.types {
			t.Fatalf("%s: frames %s, want %s (last %v)", tt.cmd, got, tt.types, frames[len(frames)-1])
		}
		if st := ofType(frames, "state"); len(st) > 0 {
			if st[0]["reason"] != tt.reason || full(st[0]) != tt.full {
				t.Errorf("%s: state reason %v full %v, want %s %v", tt.cmd, st[0]["reason"], full(st[0]), tt.reason, tt.full)
			}
			if _, ok := st[0]["state"].(map[string]any)["boundary"]; !ok {
				t.Errorf("%s: state of a 2-D lesson has no boundary", tt.cmd)
			}
		}
	}
	// The weight set above is in the state.
	frames := c.mustDo(`{"cmd":"setWeight","id":"w","layer":0,"to":1,"from":0,"value":0.5}`)
	w := ofType(frames, "state")[0]["state"].(map[string]any)["network"].(map[string]any)["weights"].([]any)
	if got := w[0].([]any)[1].([]any)[0]; got != 0.5 {
		t.Errorf("weights[0][1][0] = %v after setWeight, want 0.5", got)
	}
	// back undoes setWeight (the lesson was just loaded: nothing before).
	frames = c.mustDo(`{"cmd":"back","id":"b2"}`)
	if cb := ofType(frames, "state")[0]["state"].(map[string]any)["canBack"]; cb != false {
		t.Errorf("canBack = %v after undoing everything", cb)
	}
	if last := c.do(`{"cmd":"back","id":"b3"}`); last[len(last)-1]["code"] != "at_start" {
		t.Errorf("back at the start answered %v", last[len(last)-1])
	}

	// run, progress, pause.
	c.mustDo(`{"cmd":"run","id":"r","stepsPerSecond":0}`)
	start := time.Now()
	var progress []map[string]any
	// Half a second of progress, and on until one carries heatmaps: they
	// are spaced by their cost, which a busy machine (or -race) makes
	// longer.
	sawBoundary := false
	for time.Since(start) < 500*time.Millisecond || (!sawBoundary && time.Since(start) < 10*time.Second) {
		f := c.read()
		if f["type"] != "progress" {
			t.Fatalf("while running got %v", f["type"])
		}
		_, hm := f["boundary"]
		sawBoundary = sawBoundary || hm
		progress = append(progress, f)
	}
	elapsed := time.Since(start)
	frames = c.mustDo(`{"cmd":"pause","id":"p"}`)
	if got := types(frames); !strings.HasSuffix(got, "state,done") || strings.Contains(strings.TrimSuffix(got, "state,done"), "state") {
		t.Fatalf("pause answered %s", got)
	}
	// At most ~30 a second, however fast it trains (a reader that falls
	// behind gets fewer, never more).
	if n, most := len(progress), int(elapsed.Seconds()*30)+2; n == 0 || n > most {
		t.Errorf("%d progress frames in %v; want 1 to %d", n, elapsed, most)
	}
	last := progress[len(progress)-1]
	for _, k := range []string{"position", "weights", "biases", "losses", "canBack"} {
		if _, ok := last[k]; !ok {
			t.Errorf("progress frame has no %s", k)
		}
	}
	withBoundary := 0
	epochs := map[float64]bool{}
	for _, p := range progress {
		if _, ok := p["boundary"]; ok {
			withBoundary++
		}
		for _, l := range p["losses"].([]any) {
			e := l.(map[string]any)["epoch"].(float64)
			if epochs[e] {
				t.Errorf("epoch %v's loss sent twice", e)
			}
			epochs[e] = true
		}
	}
	if withBoundary == 0 {
		t.Errorf("no progress frame carried a boundary")
	}
	st := ofType(frames, "state")[0]["state"].(map[string]any)
	losses := st["losses"].([]any)
	newest := losses[len(losses)-1].(map[string]any)["epoch"].(float64)
	for e := range epochs {
		if e > newest {
			t.Errorf("progress sent epoch %v; the state after pause ends at %v", e, newest)
			break
		}
	}
	// Commands that need training paused.
	c.mustDo(`{"cmd":"run","id":"r2","stepsPerSecond":20,"granularity":"sample"}`)
	for _, cmd := range []string{`{"cmd":"step","id":"x"}`, `{"cmd":"back","id":"x"}`} {
		frames := c.do(cmd)
		if last := frames[len(frames)-1]; last["code"] != "running" {
			t.Errorf("%s while running answered %v", cmd, last)
		}
	}
	c.mustDo(`{"cmd":"set","id":"lr","learningRate":0.01}`)
	c.mustDo(`{"cmd":"pause","id":"p2"}`)
}

func TestLessonPreload(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "?lesson=xor")
	if f := c.read(); f["type"] != "state" || f["reason"] != "load" {
		t.Fatalf("after hello got %v", f)
	}
	c = ts.dial(t, "?lesson=no-such-lesson")
	if f := c.read(); f["type"] != "error" || f["code"] != "not_found" {
		t.Fatalf("after hello got %v", f)
	}
	if f := c.do(`{"cmd":"step","id":1}`); f[len(f)-1]["code"] != "no_lesson" {
		t.Errorf("step without a lesson answered %v", f[len(f)-1])
	}
}

func TestBadFramesLeaveSessionUntouched(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "")
	c.mustDo(`{"cmd":"load","id":1,"name":"xor"}`)
	l, _ := engine.Builtin().Lookup("xor")
	tr, _ := engine.NewTrainer(l)
	if got, want := c.socketStep("a", "sample"), traceStep(t, tr, engine.StepSample); !bytes.Equal(got, want) {
		t.Fatal("first step differs from trace")
	}
	bad := []struct {
		name, frame, code, message string
	}{
		{"not JSON", `{"cmd":`, "bad_json", "JSON ends too early"},
		{"garbage", `hello`, "bad_json", "not valid JSON"},
		{"list", `[1,2]`, "bad_json", "want a JSON object"},
		{"string", `"step"`, "bad_json", "want a JSON object"},
		{"null", `null`, "bad_json", "want a JSON object"},
		{"trailing", `{"cmd":"step"} {}`, "bad_json", "unexpected data"},
		{"no cmd", `{"id":1}`, "bad_command", "cmd: missing"},
		{"unknown cmd", `{"cmd":"fly","id":1}`, "bad_command", `cmd: want one of load, step`},
		{"cmd not string", `{"cmd":5}`, "bad_command", "cmd: want a string, got 5"},
		{"unknown field", `{"cmd":"step","speed":3}`, "bad_command", "speed: not a field of step; want granularity"},
		{"field on back", `{"cmd":"back","granularity":"micro"}`, "bad_command", "granularity: not a field of back"},
		{"bad granularity", `{"cmd":"step","granularity":"forever"}`, "bad_command", `granularity: want one of micro, phase, sample, batch, epoch; got "forever"`},
		{"granularity type", `{"cmd":"step","granularity":3}`, "bad_command", `granularity: want one of micro, phase, sample, batch, epoch; got 3`},
		{"duplicate key", `{"cmd":"step","cmd":"back"}`, "bad_command", "cmd: given twice"},
		{"id object", `{"cmd":"step","id":{}}`, "bad_command", "id: want a string or a number"},
		{"id too long", `{"cmd":"step","id":"` + strings.Repeat("x", 65) + `"}`, "bad_command", "id: want a string or a number"},
		{"sps too big", `{"cmd":"run","stepsPerSecond":1e400}`, "bad_command", "stepsPerSecond: want a number from 0 to 1000"},
		{"sps negative", `{"cmd":"run","stepsPerSecond":-1}`, "bad_command", "stepsPerSecond"},
		{"sps NaN string", `{"cmd":"run","stepsPerSecond":"NaN"}`, "bad_command", `stepsPerSecond: want a number, got "NaN"`},
		{"lr string", `{"cmd":"set","learningRate":"fast"}`, "bad_command", `learningRate`},
		{"lr out of range", `{"cmd":"set","learningRate":1000}`, "bad_command", "learningRate"},
		{"set nothing", `{"cmd":"set"}`, "bad_command", "nothing to change"},
		{"setWeight no layer", `{"cmd":"setWeight","to":0,"from":0,"value":1}`, "bad_command", "layer: missing"},
		{"setWeight fraction", `{"cmd":"setWeight","layer":0.5,"to":0,"from":0,"value":1}`, "bad_command", "layer: want a whole number"},
		{"setWeight no such layer", `{"cmd":"setWeight","layer":5,"to":0,"from":0,"value":1}`, "bad_command", "layer: want a layer from 0 to 1, got 5"},
		{"setWeight no such neuron", `{"cmd":"setWeight","layer":0,"to":9,"from":0,"value":1}`, "bad_command", "to:"},
		{"setWeight huge", `{"cmd":"setWeight","layer":0,"to":0,"from":0,"value":1e300}`, "bad_command", "value: want a number"},
		{"setWeight both", `{"cmd":"setWeight","layer":0,"to":0,"from":0,"bias":true,"value":1}`, "bad_command", "from: not allowed"},
		{"load both", `{"cmd":"load","name":"xor","lesson":{}}`, "bad_command", "not both"},
		{"load nothing", `{"cmd":"load"}`, "bad_command", "want name"},
		{"load unknown", `{"cmd":"load","name":"nope"}`, "not_found", `there is no lesson called "nope"`},
		{"load bad lesson", `{"cmd":"load","lesson":{"title":"x","network":{"inputs":["a"],"outputs":["b"],"layers":[{"size":2000,"activation":"tanh"}]},"data":{"samples":[{"x":[1],"y":[1]}]},"training":{"learningRate":"fast"}}}`, "bad_lesson", "lesson.network.layers[0].size"},
		{"load lesson not object", `{"cmd":"load","lesson":"xor"}`, "bad_command", "lesson: want a lesson object"},
		{"deep nesting", `{"cmd":"load","lesson":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, "bad_command", "lesson: want a lesson object"},
		{"deep lesson", `{"cmd":"load","lesson":{"title":` + strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100) + `}}`, "bad_lesson", "nested"},
		{"pause ok", `{"cmd":"pause","id":"z"}`, "", ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c.send(tt.frame)
			if tt.code == "" {
				c.until("z")
				return
			}
			var f map[string]any
			for f = c.read(); f["type"] != "error"; f = c.read() {
			}
			if f["code"] != tt.code || !strings.Contains(f["message"].(string), tt.message) {
				t.Errorf("%s: got %v: %v; want %s containing %q", tt.frame, f["code"], f["message"], tt.code, tt.message)
			}
		})
	}
	t.Run("binary frame", func(t *testing.T) {
		c.ws.WriteMessage(websocket.BinaryMessage, []byte(`{"cmd":"step"}`))
		if f := c.read(); f["code"] != "bad_json" {
			t.Errorf("binary frame answered %v", f)
		}
	})
	// The session goes on exactly where it was.
	if got, want := c.socketStep("b", "sample"), traceStep(t, tr, engine.StepSample); !bytes.Equal(got, want) {
		t.Fatalf("step after bad frames differs from trace:\n got %.200s\nwant %.200s", got, want)
	}
}

func TestResume(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "")
	c.mustDo(`{"cmd":"load","id":1,"name":"circle-8-8"}`)
	tr := testTrainer(t, "testdata/circle-8-8.json")
	for i, g := range []string{"batch", "sample", "micro", "micro"} {
		gran, _ := engine.ParseGranularity(g)
		traceStep(t, tr, gran)
		c.socketStep(fmt.Sprint(i), g)
	}
	before := ofType(c.mustDo(`{"cmd":"state","id":"s"}`), "state")[0]["state"].(map[string]any)
	// The Wi-Fi drops: no close frame.
	c.ws.UnderlyingConn().Close()

	token := c.hello["resume"].(string)
	c2 := ts.dial(t, "", Credentials{Resume: token})
	if c2.hello["resumed"] != true || c2.hello["session"] != c.hello["session"] {
		t.Fatalf("resume hello = %v", c2.hello)
	}
	f := c2.read()
	if f["type"] != "state" || f["reason"] != "resume" {
		t.Fatalf("after resume hello got %v", f)
	}
	after := f["state"].(map[string]any)
	for _, k := range []string{"position", "network", "values", "losses", "canBack", "lastUpdate"} {
		b1, _ := json.Marshal(before[k])
		b2, _ := json.Marshal(after[k])
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s changed across resume:\n%s\n%s", k, b1, b2)
		}
	}
	// Same trainer, same history: stepping continues the trace, and back
	// undoes steps taken before the drop.
	if got, want := c2.socketStep("n", "sample"), traceStep(t, tr, engine.StepSample); !bytes.Equal(got, want) {
		t.Fatal("step after resume differs from the trace")
	}
	for range 5 {
		c2.mustDo(`{"cmd":"back","id":"b"}`)
	}
	if f := c2.do(`{"cmd":"back","id":"b"}`); f[len(f)-1]["code"] != "at_start" {
		t.Errorf("history was not kept: %v", f[len(f)-1])
	}
}

func TestResumeExpires(t *testing.T) {
	ts := newTestServer(t, Config{ResumeWindow: 200 * time.Millisecond})
	c := ts.dial(t, "")
	c.mustDo(`{"cmd":"load","id":1,"name":"xor"}`)
	c.ws.UnderlyingConn().Close()
	time.Sleep(500 * time.Millisecond)
	for _, token := range []string{c.hello["resume"].(string), "made-up-token"} {
		c2 := ts.dial(t, "", Credentials{Resume: token})
		if c2.hello["resumed"] != false || c2.hello["session"] == c.hello["session"] {
			t.Fatalf("hello = %v; want a fresh session", c2.hello)
		}
		if f := c2.read(); f["type"] != "error" || f["code"] != "resume_expired" {
			t.Fatalf("after hello got %v, want resume_expired", f)
		}
		if f := c2.do(`{"cmd":"step","id":1}`); f[len(f)-1]["code"] != "no_lesson" {
			t.Errorf("fresh session answered %v", f[len(f)-1])
		}
	}
}

func TestOrigins(t *testing.T) {
	ts := newTestServer(t, Config{AllowOrigins: []string{"https://course.example.org"}})
	host := strings.TrimPrefix(ts.http.URL, "http://")
	tests := []struct {
		origin string
		status int
	}{
		{"", http.StatusSwitchingProtocols},
		{"null", http.StatusSwitchingProtocols},
		{"http://" + host, http.StatusSwitchingProtocols},
		{"https://course.example.org", http.StatusSwitchingProtocols},
		{"https://COURSE.example.org:443", http.StatusSwitchingProtocols},
		{"https://evil.example", http.StatusForbidden},
		{"http://course.example.org", http.StatusForbidden},
		{"https://course.example.org.evil.example", http.StatusForbidden},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		ws, resp, _ := ts.tryDial("", h)
		if ws != nil {
			ws.Close()
		}
		if resp == nil || resp.StatusCode != tt.status {
			t.Errorf("origin %q: got %v, want %d", tt.origin, resp, tt.status)
		}
		if resp != nil && resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("origin %q: the server set a cookie", tt.origin)
		}
	}
}

func TestReadLimitAndUTF8(t *testing.T) {
	ts := newTestServer(t, Config{MaxFrameBytes: 4096})
	c := ts.dial(t, "")
	c.send(`{"cmd":"load","lesson":{"title":"` + strings.Repeat("x", 5000) + `"}}`)
	if code := c.closeCode(); code != websocket.CloseMessageTooBig {
		t.Errorf("oversized frame: close %d, want 1009", code)
	}
	c = ts.dial(t, "")
	c.ws.WriteMessage(websocket.TextMessage, []byte("{\"cmd\":\"st\xffep\"}"))
	if code := c.closeCode(); code != websocket.CloseInvalidFramePayloadData {
		t.Errorf("invalid UTF-8: close %d, want 1007", code)
	}
}

func TestMaxSessions(t *testing.T) {
	ts := newTestServer(t, Config{MaxSessions: 3})
	for range 3 {
		ts.dial(t, "")
	}
	ws, resp, err := ts.tryDial("", nil)
	if err == nil {
		ws.Close()
		t.Fatal("a session past --max-sessions was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("past the limit: %v, want 503", resp)
	}
}

func TestHandshakeRate(t *testing.T) {
	t.Run("a class behind one address joins at once", func(t *testing.T) {
		ts := newTestServer(t, Config{})
		t.Logf("40 students joined in %v", ts.dialAtOnce(t, 40, ""))
	})
	t.Run("one address cannot churn", func(t *testing.T) {
		ts := newTestServer(t, Config{HandshakeBurst: 3, HandshakesPerSecond: 0.5})
		for range 3 {
			ts.dial(t, "")
		}
		_, resp, err := ts.tryDial("", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("fourth handshake: %v %v, want 429", resp, err)
		}
	})
}

func TestShutdownSends1001(t *testing.T) {
	ts := newTestServer(t, Config{})
	a := ts.dial(t, "?lesson=circle-8-8")
	b := ts.dial(t, "")
	a.read()
	a.mustDo(`{"cmd":"run","id":1}`)
	go func() {
		time.Sleep(100 * time.Millisecond)
		ts.Shutdown(context.Background())
	}()
	for _, c := range []*client{a, b} {
		if code := c.closeCode(); code != websocket.CloseGoingAway {
			t.Errorf("close %d, want 1001", code)
		}
	}
	ws, resp, err := ts.tryDial("", nil)
	if err == nil {
		ws.Close()
		t.Fatal("a new session was accepted while shutting down")
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("during shutdown: %d, want 503", resp.StatusCode)
	}
}

func TestPanicEndsOnlyThatSession(t *testing.T) {
	hook := func(c *command) {
		if string(c.id) == `"boom"` {
			panic("test panic")
		}
	}
	testHook.Store(&hook)
	defer testHook.Store(nil)
	ts := newTestServer(t, Config{})
	other := ts.dial(t, "?lesson=xor")
	other.read()
	c := ts.dial(t, "?lesson=xor")
	c.read()
	c.send(`{"cmd":"state","id":"boom"}`)
	f := c.read()
	if f["type"] != "error" || f["code"] != "internal" || f["id"] != "boom" {
		t.Fatalf("after a panic got %v", f)
	}
	if code := c.closeCode(); code != websocket.CloseInternalServerErr {
		t.Errorf("close %d, want 1011", code)
	}
	other.mustDo(`{"cmd":"step","id":"still-here"}`)
	ts.dial(t, "").mustDo(`{"cmd":"load","id":1,"name":"xor"}`)
}

func TestIdleTimeout(t *testing.T) {
	ts := newTestServer(t, Config{IdleTimeout: 300 * time.Millisecond})
	c := ts.dial(t, "")
	if code := c.closeCode(); code != websocket.CloseNormalClosure {
		t.Errorf("idle session: close %d, want 1000", code)
	}
	// The session goroutine forgets itself just after closing: wait for it.
	for deadline := time.Now().Add(10 * time.Second); ts.Sessions() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := ts.Sessions(); n != 0 {
		t.Errorf("%d sessions live after the idle timeout", n)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "?lesson=xor")
	c.read()
	c.mustDo(`{"cmd":"step","id":1}`)
	c.do(`{"cmd":"fly","id":2}`)
	resp, err := http.Get(ts.http.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(ts.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"netstep_sessions 1", "netstep_steps_total 1", `netstep_errors_total{code="bad_command"} 1`, "netstep_rooms", "netstep_followers", "netstep_frames_dropped_total", "netstep_connections 1"} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestBigStepInPieces: a step big enough to be run-mode work is taken in
// pieces between run turns, yet the page sees one step: the same events as
// `netstep trace` (up to the 4 MiB cap, then counted), a state, one done,
// and one Back undoes it. Every turn is given back.
func TestBigStepInPieces(t *testing.T) {
	ts := newTestServer(t, Config{SliceBudget: 500 * time.Microsecond})
	lesson := `{"title":"big","seed":3,"network":{"layers":[{"size":32,"activation":"tanh"},{"size":32,"activation":"tanh"},{"size":1,"activation":"tanh"}]},
		"data":{"generator":"circle","n":2000},"training":{"loss":"half_squared_error","optimizer":"sgd","learningRate":0.03,"batchSize":10}}`
	l, err := engine.ParseLesson([]byte(lesson))
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := engine.NewTrainer(l)
	want := traceStep(t, tr, engine.StepEpoch)
	c := ts.dial(t, "")
	c.mustDo(`{"cmd":"load","id":"l","lesson":` + lesson + `}`)
	c.send(`{"cmd":"step","id":"e","granularity":"epoch"}`)
	var got []byte
	var kinds []string
	omitted := 0.0
	for {
		raw := c.readRaw()
		var f map[string]any
		json.Unmarshal(raw, &f)
		kinds = append(kinds, f["type"].(string))
		if f["type"] == "events" {
			i := bytes.Index(raw, []byte(`"events":[`)) + len(`"events":[`)
			j := bytes.LastIndexByte(raw, ']')
			if len(got) > 0 && j > i {
				got = append(got, ',')
			}
			got = append(got, raw[i:j]...)
			if n, ok := f["omitted"].(float64); ok {
				omitted = n
			}
		}
		if f["type"] == "state" {
			pos := f["state"].(map[string]any)["position"].(map[string]any)
			if pos["t"] != float64(tr.Position().T) || pos["epoch"] != float64(1) {
				t.Errorf("state after the step at %v, want t %d, epoch 1", pos, tr.Position().T)
			}
		}
		if f["type"] == "done" || f["type"] == "error" {
			if f["type"] != "done" {
				t.Fatalf("step answered %v", f)
			}
			break
		}
	}
	if len(got) == 0 || !bytes.HasPrefix(want, got) || omitted == 0 {
		t.Fatalf("%d bytes of events (omitted %v), not a prefix of the trace's %d", len(got), omitted, len(want))
	}
	if k := strings.Join(kinds, ","); !strings.HasSuffix(k, "events,state,done") {
		t.Errorf("frames %s", k)
	}
	if n := len(ts.turns); n != ts.cfg.RunConcurrency {
		t.Errorf("%d run turns free after the step, want %d", n, ts.cfg.RunConcurrency)
	}
	frames := c.mustDo(`{"cmd":"back","id":"b"}`)
	if pos := ofType(frames, "state")[0]["state"].(map[string]any)["position"].(map[string]any); pos["t"] != float64(0) {
		t.Errorf("one back after the big step: position %v", pos)
	}
}

// TestIdleConnectionGetsPings: a connection with nothing to send has no
// writer goroutine, yet it is pinged every PingInterval (a timer wakes a
// writer), and answering the pings keeps it open.
func TestIdleConnectionGetsPings(t *testing.T) {
	ts := newTestServer(t, Config{PingInterval: 50 * time.Millisecond})
	c := ts.dial(t, "")
	pings := make(chan struct{}, 16)
	c.ws.SetPingHandler(func(data string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := c.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for i := range 5 {
		select {
		case <-pings:
		case <-time.After(10 * time.Second):
			t.Fatalf("ping %d never came", i+1)
		}
	}
	if n := ts.Sessions(); n != 1 {
		t.Errorf("%d sessions after the pings, want 1", n)
	}
}

// TestEventsCarryThePosition: the last events frame of a step says where
// the step left training, exactly as the state frame says it; the frames
// before it (a step split by size) do not.
func TestEventsCarryThePosition(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, form := range []string{"", "?events=compact"} {
		c := ts.dial(t, form)
		c.mustDo(`{"cmd":"load","id":1,"name":"circle-8-8"}`)
		for i, g := range []string{"micro", "phase", "phase", "sample", "batch", "epoch", "micro"} {
			id := fmt.Sprint("p", i)
			c.send(`{"cmd":"step","id":"` + id + `","granularity":"` + g + `"}`)
			var last map[string]any
			for {
				f := c.read()
				if f["type"] == "done" {
					break
				}
				if f["type"] != "events" {
					continue
				}
				if f["more"] == true && f["position"] != nil {
					t.Errorf("%s step %s: a frame with more:true has a position", form, g)
				}
				last = f
			}
			if last == nil || last["more"] == true {
				t.Fatalf("%s step %s: no last events frame", form, g)
			}
			want := ofType(c.mustDo(`{"cmd":"state","id":"s"}`), "state")[0]["state"].(map[string]any)["position"]
			got, _ := json.Marshal(last["position"])
			wantJSON, _ := json.Marshal(want)
			if !bytes.Equal(got, wantJSON) {
				t.Errorf("%s step %s: events position %s, state position %s", form, g, got, wantJSON)
			}
		}
	}
}

// TestHelloLimits: hello carries the engine's lesson limits, which the page
// checks a learner's own data against before it sends it.
func TestHelloLimits(t *testing.T) {
	ts := newTestServer(t, Config{})
	c := ts.dial(t, "")
	limits := c.hello["limits"].(map[string]any)
	for k, want := range map[string]float64{
		"maxSamples": engine.MaxSamples, "maxInputs": engine.MaxInputs, "maxOutputs": engine.MaxOutputs,
		"maxNameChars": engine.MaxNameChars, "maxValue": engine.MaxValue, "maxLayers": engine.MaxLayers,
		"maxNeurons": engine.MaxNeurons, "maxWeights": engine.MaxWeights,
	} {
		if got := limits[k]; got != want {
			t.Errorf("limits.%s = %v, want %v", k, got, want)
		}
	}
}
