package e2e

// The embed in a browser: a course page on another origin frames an inline
// lesson, talks to it through postMessage, and the numbers the engine
// computes appear inside the frame. Uses the helpers of browser_test.go; like
// those tests it skips without Chromium except in CI.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/netstep/netstep/engine"
)

// embedLesson is a lesson the server has never seen: an AND neuron with
// fixed weights, so its first step's numbers are known.
const embedLesson = `{"title":"AND, inline","network":{"layers":[{"size":1,"activation":"sigmoid"}],
 "weights":[[[0.3,-0.2]]],"biases":[[0.1]]},
 "data":{"samples":[{"x":[1,1],"y":[1]},{"x":[0,1],"y":[0]},{"x":[1,0],"y":[0]},{"x":[0,0],"y":[0]}]},
 "training":{"shuffle":false,"batchSize":1,"learningRate":0.5},
 "questions":[{"at":"update","kind":"weight","layer":0,"to":0,"from":0,"ask":"Up or down?","why":"The answer was too small."}]}`

// embedHost is the course page: it frames the lesson and records every
// message from it in window.msgs.
const embedHost = `<!doctype html><html><head><title>A course page</title></head><body>
<h1>Week 3: backpropagation</h1>
<iframe id="lesson" src="%s" %s data-netstep width="800" height="400" title="AND · netstep" style="border:0"></iframe>
<script src="%s/embed.js"></script>
<script>
window.msgs = [];
window.addEventListener('message', (ev) => {
  if (ev.source !== document.getElementById('lesson').contentWindow) return;
  window.msgs.push(ev.data);
});
window.command = (cmd) => document.getElementById('lesson').contentWindow.postMessage({type: 'netstep:command', cmd}, '*');
</script></body></html>`

// firstInlineStep steps the engine through the inline lesson's first sample.
func firstInlineStep(t *testing.T) (a, loss, oldW, newW float64) {
	t.Helper()
	l, err := engine.ParseLesson([]byte(embedLesson))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := engine.NewTrainer(l)
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Step(engine.StepSample, func(e *engine.Event) {
		switch e.Type {
		case engine.EventForward:
			a = e.A
		case engine.EventLoss:
			loss = e.Value
		case engine.EventUpdate:
			if !e.Bias && e.From == 0 {
				oldW, newW = e.Old, e.New
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, loss, oldW, newW
}

func TestBrowserEmbed(t *testing.T) {
	base := startBrowserServer(t)
	wantA, wantLoss, _, _ := firstInlineStep(t)
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(embedLesson)); err != nil {
		t.Fatal(err)
	}
	src := base + "/embed?controls=step,back,reset&granularity=sample#lesson=" + base64.RawURLEncoding.EncodeToString(compact.Bytes())

	for _, tc := range []struct{ name, attrs string }{
		{"plain", ""},
		{"sandboxed", `sandbox="allow-scripts"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, embedHost, src, tc.attrs, base)
			}))
			defer host.Close()
			if strings.HasPrefix(host.URL, base) {
				t.Fatal("the host page must be on another origin")
			}

			p := newBrowserPage(t, 1280, 900, false)
			p.do(chromedp.Do(p.ctx, chromedp.Navigate(host.URL)))
			p.waitFor("netstep:ready", `window.msgs.some(m => m.type === 'netstep:ready')`)
			ready := browserEval[map[string]any](p, `window.msgs.find(m => m.type === 'netstep:ready')`)
			if ready["version"] != float64(1) || !strings.Contains(fmt.Sprint(ready["commands"]), "step") {
				t.Errorf("ready message %v", ready)
			}
			p.waitFor("a resize message", `window.msgs.some(m => m.type === 'netstep:resize' && m.height > 100)`)
			p.waitFor("embed.js to size the frame", `parseInt(document.getElementById('lesson').style.height) > 100`)

			browserEval[any](p, `window.command({cmd: 'step', granularity: 'sample', id: 'first'})`)
			p.waitFor("the step's reply", `window.msgs.some(m => m.type === 'netstep:done' && m.id === 'first')`)
			events := browserEval[[]map[string]any](p, `window.msgs.filter(m => m.type === 'netstep:event').map(m => m.event)`)
			var gotA, gotLoss float64
			var sawSample bool
			for _, e := range events {
				switch e["type"] {
				case "sample":
					sawSample = true
				case "forward":
					gotA = e["a"].(float64)
				case "loss":
					gotLoss = e["value"].(float64)
				}
			}
			if !sawSample || gotA != wantA || gotLoss != wantLoss {
				t.Errorf("events %v: want a = %v and loss = %v", events, wantA, wantLoss)
			}

			// A command from anyone but the parent is ignored: here a sibling
			// frame on the course page posts to the lesson.
			browserEval[any](p, `(() => {
				const f = document.createElement('iframe');
				document.body.append(f);
				f.contentWindow.eval("parent.document.getElementById('lesson').contentWindow.postMessage({type: 'netstep:command', cmd: {cmd: 'reset', id: 'stranger'}}, '*')");
			})()`)

			// The numbers inside the frame.
			drawn := p.inFrame(`[...document.querySelectorAll('.node-value.output')].map(e => e.textContent).join(' ')`)
			if want := browserFmt(wantA); drawn != want {
				t.Errorf("the embed draws the output as %q, the engine computed %s", drawn, want)
			}
			hidden := p.inFrame(`['play','speed','granularity','math'].filter(c => !document.querySelector('[data-control=' + c + ']').hidden).join(',')`)
			if hidden != "" {
				t.Errorf("controls=step,back,reset still shows %s", hidden)
			}
			time.Sleep(200 * time.Millisecond)
			if browserEval[bool](p, `window.msgs.some(m => m.id === 'stranger')`) {
				t.Error("the embed answered a command that did not come from its parent")
			}
			p.noErrors()
		})
	}
}

// inFrame evaluates js inside the lesson's frame, in an isolated world (the
// frame's DOM, not its globals), and returns its string result. A frame in
// a process of its own is a target of its own; otherwise it is a child of
// the page's frame tree.
func (p *browserPage) inFrame(js string) string {
	p.t.Helper()
	eval := func(ctx context.Context, frameID cdp.FrameID) string {
		world, err := chromedp.Call(ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: frameID})
		if err != nil {
			p.t.Fatalf("an isolated world in the frame: %v", err)
		}
		byValue := true
		res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: js, ContextID: world.ExecutionContextID, ReturnByValue: &byValue})
		if err != nil {
			p.t.Fatalf("evaluating in the frame: %v", err)
		}
		if res.ExceptionDetails != nil {
			p.t.Fatalf("evaluating %s in the frame: %s", js, res.ExceptionDetails.Text)
		}
		var s string
		if err := json.Unmarshal(res.Result.Value, &s); err != nil {
			p.t.Fatalf("the frame's answer: %v", err)
		}
		return s
	}
	targets, err := chromedp.Targets(p.ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, ti := range targets {
		if ti.Type == "iframe" && strings.Contains(ti.URL, "/embed") {
			// Detach on cancel: by default cancelling closes the target,
			// which would remove the frame from the course page.
			fctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithTargetID(ti.TargetID), chromedp.WithDetachOnCancel())
			defer cancel()
			s, err := chromedp.Run(fctx, chromedp.Evaluate[string](js))
			if err != nil {
				p.t.Fatalf("evaluating %s in the frame: %v", js, err)
			}
			return s
		}
	}
	tree, err := chromedp.Call(p.ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		p.t.Fatal(err)
	}
	for _, child := range tree.FrameTree.ChildFrames {
		if strings.Contains(child.Frame.URL, "/embed") {
			return eval(p.ctx, child.Frame.ID)
		}
	}
	p.t.Fatal("no /embed frame in the page")
	return ""
}

// TestBrowserPredictThenReveal answers the worked example's questions
// before its one step, then finds the real answers with the lesson's why.
func TestBrowserPredictThenReveal(t *testing.T) {
	p, _ := openPage(t, 1280, 900, false, "/lesson/worked-example?granularity=sample")
	p.click("[data-role=step]")
	answers := []string{"down", "up", "smaller"}
	for i, choice := range answers {
		p.waitFor(fmt.Sprintf("question %d", i+1), fmt.Sprintf(`!document.querySelector('[data-role=ask]').hidden && !!document.querySelector('[data-role=ask] [data-choice=%q]') && document.activeElement.closest('[data-role=ask]') !== null`, choice))
		if i == 0 {
			// At "sample" step size the update questions come after the
			// example's guess and loss are shown, before any update.
			got := browserEval[map[string]any](p, `(() => { const m = window.netstep.model(); return {loss: m.loss !== null, updates: m.position.updates, phase: m.position.phase, say: document.querySelector('[data-role=narration] .say').textContent}; })()`)
			if got["loss"] != true || got["phase"] != "update" {
				t.Errorf("before the update question: %v, want the example's loss shown and the update next", got)
			}
			if got["updates"].(float64) != 0 {
				t.Errorf("the update was taken before the learner answered: %v", got)
			}
			// The narration sums up the small steps the page took, not
			// only the last (the backward pass).
			if say := got["say"].(string); !strings.HasPrefix(say, "Up to here:") || !strings.Contains(say, "The loss is") || !strings.Contains(say, "Backward pass") {
				t.Errorf("narration before the question = %q, want the guess, the loss and the blame summed up", say)
			}
		}
		p.click(fmt.Sprintf("[data-role=ask] [data-choice=%q]", choice))
	}
	p.waitFor("the reveal", `document.querySelectorAll('[data-role=ask] .ask-result').length === 3`)
	verdicts := browserEval[[]string](p, `[...document.querySelectorAll('[data-role=ask] .ask-verdict')].map(e => e.textContent)`)
	for i, v := range verdicts {
		if !strings.HasPrefix(v, "You were right.") {
			t.Errorf("answer %d: %q, want it right (the lesson's why says %s)", i+1, v, answers[i])
		}
	}
	if !strings.Contains(verdicts[0], "0.4000 → 0.3589") {
		t.Errorf("first answer %q does not show the weight's old and new value", verdicts[0])
	}
	if why := browserEval[string](p, `document.querySelector('[data-role=ask] .ask-why').textContent`); !strings.Contains(why, "gradient descent subtracts it") {
		t.Errorf("why = %q", why)
	}
	p.noErrors()
}
