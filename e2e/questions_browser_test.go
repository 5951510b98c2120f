package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
)

// TestBrowserQuestionHoldsStep: while a question waits, Step and Play are
// off with a pointer to it, the → key only leads to it, and an answer is
// revealed without another Step. The next question comes only after the
// first one's answer has been shown.
func TestBrowserQuestionHoldsStep(t *testing.T) {
	p, _ := openPage(t, 1280, 900, false, "/lesson/cat-or-dog?granularity=sample")
	p.click("[data-role=step]")
	p.waitFor("the loss question", `!!document.querySelector('[data-role=ask] [data-choice=bigger]')`)
	state := func() map[string]any {
		return browserEval[map[string]any](p, `(() => { const w = document.querySelector('[data-role=ask-wait]'); return {
			step: document.querySelector('[data-role=step]').disabled,
			play: document.querySelector('[data-role=play]').disabled,
			wait: w.hidden ? '' : w.textContent,
			t: JSON.stringify(window.netstep.model().position) + window.netstep.model().loss?.value,
			inAsk: document.activeElement.closest('[data-role=ask]') !== null,
			results: document.querySelectorAll('[data-role=ask] .ask-result').length,
		}; })()`)
	}
	before := state()
	if before["step"] != true || before["play"] != true || before["wait"] != "Answer or skip ↓" {
		t.Fatalf("while the question waits: %v; want Step and Play off and \"Answer or skip ↓\"", before)
	}
	// The neuron's answer is on screen before the question: the forward pass is done.
	if phase := browserEval[string](p, `window.netstep.model().position.phase`); phase != "loss" {
		t.Errorf("asked at phase %q, want just before the loss", phase)
	}
	browserEval[bool](p, `(document.activeElement.blur(), true)`)
	p.key(kb.ArrowRight)
	afterKey := state()
	if afterKey["t"] != before["t"] || afterKey["inAsk"] != true || afterKey["wait"] != "Answer or skip ↓" {
		t.Errorf("→ while the question waits: %v (before %v); want no step and the focus on the question", afterKey, before)
	}
	p.click("[data-role=step]") // disabled: nothing happens
	after := state()
	if after["t"] != before["t"] || after["step"] != true || after["wait"] != "Answer or skip ↓" || !browserEval[bool](p, `!!document.querySelector('[data-role=ask] [data-choice=bigger]')`) {
		t.Errorf("a click on Step while the question waits: %v (before %v); want no step and the question still waiting", after, before)
	}
	p.click("[data-role=ask] [data-choice=bigger]")
	p.waitFor("the reveal", `document.querySelectorAll('[data-role=ask] .ask-result').length === 1 && !document.querySelector('[data-role=step]').disabled`)
	verdict := browserEval[string](p, `document.querySelector('[data-role=ask] .ask-verdict').textContent`)
	if !strings.HasPrefix(verdict, "You were right. The loss is") {
		t.Errorf("verdict %q", verdict)
	}
	if w := browserEval[bool](p, `document.querySelector('[data-role=ask-wait]').hidden`); !w {
		t.Error("the pointer to the question stays after the answer")
	}
	// The weight question comes with the next Step, on its own.
	p.click("[data-role=step]")
	p.waitFor("the weight question", `!!document.querySelector('[data-role=ask] [data-choice=down]')`)
	if n := browserEval[float64](p, `window.netstep.model().position.updates`); n != 0 {
		t.Errorf("%v updates before the weight question, want 0", n)
	}
	p.click("[data-role=ask] [data-choice=down]")
	p.waitFor("the second reveal", `!!document.querySelector('[data-role=ask] .ask-verdict') && document.querySelector('[data-role=ask] .ask-verdict').textContent.includes('went down')`)
	p.noErrors()
}

// TestBrowserQuestionHorizon: Play stops at a question (on by default),
// and a question that looks 300 epochs ahead is graded only then, by the
// page training on, with a reveal that agrees with the grade.
func TestBrowserQuestionHorizon(t *testing.T) {
	p, _ := openPage(t, 1280, 900, false, "/lesson/xor-no-hidden?granularity=epoch")
	if on := browserEval[bool](p, `document.querySelector('[data-role=play-questions]').checked && !document.querySelector('[data-role=play-questions]').closest('[data-control]').hidden`); !on {
		t.Fatal("\"stop at questions\" is not offered and on for a lesson with a question")
	}
	p.click("[data-role=play]")
	p.waitFor("the question", `!!document.querySelector('[data-role=ask] [data-choice=no]')`)
	if running := browserEval[bool](p, `window.netstep.model().running`); running {
		t.Error("still playing while the question waits")
	}
	p.click("[data-role=ask] [data-choice=no]")
	// The page trains on epoch by epoch, drawing each: on a busy machine
	// that takes longer than waitFor's 15 seconds.
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if browserEval[bool](p, `!!document.querySelector('[data-role=ask] .ask-verdict')`) {
			break
		}
	}
	p.waitFor("the answer after 300 epochs", `!!document.querySelector('[data-role=ask] .ask-verdict')`)
	got := browserEval[map[string]any](p, `(() => ({
		verdict: document.querySelector('[data-role=ask] .ask-verdict').textContent,
		why: document.querySelector('[data-role=ask] .ask-why')?.textContent ?? '',
		epoch: window.netstep.model().position.epoch,
		step: document.querySelector('[data-role=step]').disabled,
	}))()`)
	if v := got["verdict"].(string); !strings.HasPrefix(v, "You were right. No: after 300 epochs") {
		t.Errorf("verdict %q", v)
	}
	if why := got["why"].(string); !strings.HasPrefix(why, "No.") {
		t.Errorf("why %q", why)
	}
	if e := got["epoch"].(float64); e != 300 {
		t.Errorf("graded at epoch %v, want 300", e)
	}
	if got["step"] != false {
		t.Error("Step stays off after the answer")
	}
	p.noErrors()
}

// TestBrowserPlayAfterQuestions: with "stop at questions" on (the default
// for a lesson with questions) Play stops at each question with Step and
// Play off, an answer is revealed without another Step, and Play then
// carries on by itself, leaving no question open; with it off, Play never
// opens a question.
func TestBrowserPlayAfterQuestions(t *testing.T) {
	base := startBrowserServer(t)
	p := newBrowserPage(t, 1280, 900, false)
	p.open(base + "/lesson/cat-or-dog?granularity=phase")
	// Every question the page opens is counted, however briefly it shows.
	browserEval[bool](p, `(() => {
		window.asked = 0;
		new MutationObserver(() => { if (document.querySelector('[data-role=ask] .ask-choices button:not([data-counted])')) { window.asked++; document.querySelectorAll('[data-role=ask] .ask-choices button').forEach((b) => b.dataset.counted = '1'); } })
			.observe(document.querySelector('[data-role=ask]'), {childList: true, subtree: true});
		return true;
	})()`)
	controls := func() map[string]any {
		return browserEval[map[string]any](p, `(() => ({
			step: document.querySelector('[data-role=step]').disabled,
			play: document.querySelector('[data-role=play]').disabled,
			running: window.netstep.model().running,
			waiting: !!document.querySelector('[data-role=ask] .ask-choices button'),
			wait: document.querySelector('[data-role=ask-wait]').hidden ? '' : document.querySelector('[data-role=ask-wait]').textContent,
			t: window.netstep.model().position.t,
			results: document.querySelectorAll('[data-role=ask] .ask-result').length,
		}))()`)
	}
	if !browserEval[bool](p, `document.querySelector('[data-role=play-questions]').checked`) {
		t.Fatal("\"stop at questions\" is off for a lesson with questions")
	}
	p.click("[data-role=play]")
	for i, q := range []struct{ ask, choice, verdict string }{
		{"[data-choice=bigger]", "[data-role=ask] [data-choice=bigger]", "The loss is"},
		{"[data-choice=down]", "[data-role=ask] [data-choice=down]", "went"},
	} {
		p.waitFor("question "+q.ask, `!!document.querySelector('[data-role=ask] `+q.ask+`')`)
		at := controls()
		if at["step"] != true || at["play"] != true || at["running"] != false || at["wait"] != "Answer or skip ↓" {
			t.Errorf("question %d waits with %v; want Step and Play off, not running, \"Answer or skip ↓\"", i+1, at)
		}
		time.Sleep(300 * time.Millisecond)
		if still := controls(); still["t"] != at["t"] {
			t.Errorf("question %d: training went on while it waited (t %v → %v)", i+1, at["t"], still["t"])
		}
		p.click(q.choice)
		// The reveal comes without another Step, and Play goes on.
		// (A new question clears the box: each reveal is the only one there.)
		p.waitFor("reveal "+q.ask, `document.querySelectorAll('[data-role=ask] .ask-result').length === 1 && !document.querySelector('[data-role=ask] .ask-choices button')`)
		if v := browserEval[string](p, `[...document.querySelectorAll('[data-role=ask] .ask-verdict')].pop().textContent`); !strings.Contains(v, q.verdict) {
			t.Errorf("reveal %d: %q, want it to say %q", i+1, v, q.verdict)
		}
	}
	p.waitFor("Play carrying on", `window.netstep.model().running && !document.querySelector('[data-role=ask] .ask-choices button')`)
	first := controls()
	p.waitFor("more training", fmt.Sprintf(`window.netstep.model().position.t > %v + 10`, first["t"]))
	now := controls()
	if now["running"] != true || now["waiting"] != false || now["wait"] != "" || now["results"] != float64(1) {
		t.Errorf("after both answers Play should train on with no question open: %v", now)
	}
	if n := browserEval[float64](p, `window.asked`); n != 2 {
		t.Errorf("%v questions opened, want the lesson's 2, each once", n)
	}
	p.click("[data-role=play]") // Pause
	p.waitFor("paused", `!window.netstep.model().running && !document.querySelector('[data-role=step]').disabled`)

	// "stop at questions" off: Play trains through both moments, asking nothing.
	p.open(base + "/lesson/cat-or-dog?granularity=phase")
	browserEval[bool](p, `(() => {
		window.asked = 0;
		new MutationObserver(() => { if (document.querySelector('[data-role=ask] .ask-choices button')) window.asked++; })
			.observe(document.querySelector('[data-role=ask]'), {childList: true, subtree: true});
		return true;
	})()`)
	p.click("[data-role=play-questions]")
	p.click("[data-role=play]")
	p.waitFor("training past the questions' moments", `window.netstep.model().position.updates >= 3`)
	if n := browserEval[float64](p, `window.asked`); n != 0 || browserEval[bool](p, `!!document.querySelector('[data-role=ask] .ask-choices button')`) {
		t.Errorf("with \"stop at questions\" off Play opened %v questions", n)
	}
	p.click("[data-role=play]")
	p.waitFor("paused", `!window.netstep.model().running`)
	p.noErrors()
}
