package e2e

// Browser tests: the real program, started with run on a free port, and the
// learner's page in headless Chromium (Debian's /usr/bin/chromium) driven
// with chromedp. They skip without Chromium, except in CI (CI=true), where a
// missing browser is a failure.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/netstep/netstep/engine"
)

// browserChromium finds the browser, or skips (fails in CI) without one.
func browserChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is missing; CI must install it (apt-get install chromium)")
	}
	t.Skip("Chromium is not installed; the browser tests need it")
	return ""
}

// startBrowserServer runs the built program on a free port (see
// main_test.go) and returns its base URL.
func startBrowserServer(t *testing.T) string {
	t.Helper()
	return startProgram(t, "127.0.0.1:0")
}

// openPage starts the program and opens path (with its leading slash) in
// a new width×height tab, as open does; it returns the tab and the
// program's base URL.
func openPage(t *testing.T, width, height int64, reducedMotion bool, path string) (*browserPage, string) {
	t.Helper()
	base := startBrowserServer(t)
	p := newBrowserPage(t, width, height, reducedMotion)
	p.open(base + path)
	return p, base
}

// page is one browser tab on the page, with the page's exceptions, console
// errors and the errors the browser itself logs (an attribute value it
// refuses, a blocked script) collected; failed requests are left to the
// tests that expect none (a test that stops its server sees some).
type browserPage struct {
	t      *testing.T
	ctx    context.Context
	errors chan string
}

func newBrowserPage(t *testing.T, width, height int64, reducedMotion bool) *browserPage {
	t.Helper()
	exe := browserChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("hide-scrollbars", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithLogf(func(string, ...any) {}))
	ctx, cancelT := context.WithTimeout(ctx, 180*time.Second) // three browsers at once on a loaded 2-core machine take their time
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	p := &browserPage{t: t, ctx: ctx, errors: make(chan string, 64)}
	p.do(chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				msg = "console.error"
				for _, a := range e.Args {
					msg += " " + string(a.Value) + a.Description
				}
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
				msg = fmt.Sprintf("browser (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		}
		if msg != "" {
			select {
			case p.errors <- msg:
			default:
			}
		}
	}))
	p.do(chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, log.Enable, cdp.Empty{})
		return err
	})))
	p.do(chromedp.Do(ctx, chromedp.EmulateViewport(width, height)))
	if reducedMotion {
		p.do(chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
			})
			return err
		})))
	}
	return p
}

func (p *browserPage) do(err error) {
	p.t.Helper()
	if err != nil {
		p.t.Fatal(err)
	}
}

// eval runs a JavaScript expression (promises awaited) and returns its value.
func browserEval[T any](p *browserPage, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true.
func (p *browserPage) waitFor(what, js string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			// The page draws a new model on its next animation frame: let
			// two frames pass so what the test reads next is drawn.
			chromedp.Run(p.ctx, chromedp.Evaluate[bool](`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("timed out waiting for %s (%s); narration: %q", what, js, browserEval[string](p, `document.querySelector('[data-role=narration]').innerText`))
}

// setGranularity chooses how far Step goes (micro, phase, sample, batch,
// epoch) in the page's select.
func (p *browserPage) setGranularity(g string) {
	p.t.Helper()
	p.do(chromedp.Do(p.ctx, chromedp.SetValue(chromedp.CSS("[data-role=granularity]"), g)))
}

func (p *browserPage) open(url string) {
	p.t.Helper()
	// These tests step freely; the lessons' predict-first questions, which
	// hold a step until answered, have their own test (embed_browser_test.go).
	if !strings.Contains(url, "?") {
		// Before the fragment: a presenter's link carries its token there.
		path, frag, hasFrag := strings.Cut(url, "#")
		url = path + "?questions=off"
		if hasFrag {
			url += "#" + frag
		}
	}
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(url)))
	p.waitFor("the first state", `!!window.netstep && !!window.netstep.model().network && !document.querySelector('[data-role=step]').disabled`)
	// The state is drawn on the next animation frame: wait for the drawing too.
	p.waitFor("the diagram", `!!document.querySelector('[data-role=stage] svg .node-ring')`)
}

func (p *browserPage) narration() string {
	// Without the glossary's popovers: their meanings sit in the DOM, hidden
	// until a word is pressed.
	return browserEval[string](p, `(() => { const s = document.querySelector('[data-role=narration] .say').cloneNode(true); s.querySelectorAll('.term-meaning').forEach((e) => e.remove()); return s.textContent; })()`)
}

func (p *browserPage) key(k string) {
	p.t.Helper()
	p.do(chromedp.Do(p.ctx, chromedp.KeyEvent(k)))
}

func (p *browserPage) click(css string) {
	p.t.Helper()
	p.do(chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(css))))
}

func (p *browserPage) noErrors() {
	p.t.Helper()
	for {
		select {
		case e := <-p.errors:
			p.t.Errorf("page error: %s", e)
		default:
			return
		}
	}
}

// browserFirstSample steps the engine itself through the lesson's first
// sample: the numbers the page must show.
func browserFirstSample(t *testing.T, name string) (outputs []float64, loss float64) {
	t.Helper()
	l, ok := engine.Builtin().Lookup(name)
	if !ok {
		t.Fatalf("no built-in lesson %q", name)
	}
	tr, err := engine.NewTrainer(l)
	if err != nil {
		t.Fatal(err)
	}
	last := len(l.Network.Layers) - 1
	err = tr.Step(engine.StepSample, func(e *engine.Event) {
		switch e.Type {
		case engine.EventForward:
			if e.Layer == last {
				outputs = append(outputs, e.A)
			}
		case engine.EventLoss:
			loss = e.Value
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return outputs, loss
}

// browserFmt is the page's fmt for ordinary numbers: two decimals, a real minus.
func browserFmt(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	if strings.HasPrefix(s, "-") {
		if s == "-0.00" {
			return "0.00"
		}
		return "\u2212" + s[1:]
	}
	return s
}

func TestBrowserStepWithMouse(t *testing.T) {
	p, _ := openPage(t, 1280, 720, false, "/")
	if got := p.narration(); !strings.HasPrefix(got, "Ready.") {
		t.Errorf("narration before the first step = %q, want it to start with Ready.", got)
	}
	// The buttons are real buttons whose names start with what they do.
	for role, want := range map[string]string{"step": "Step", "back": "Back", "play": "Play", "reset": "Reset"} {
		got := browserEval[string](p, fmt.Sprintf(`(() => { const b = document.querySelector('[data-role=%s]'); return b.tagName + ' ' + b.textContent.trim(); })()`, role))
		if !strings.HasPrefix(got, "BUTTON "+want) {
			t.Errorf("%s control = %q, want a BUTTON named %s…", role, got, want)
		}
	}

	name := browserEval[string](p, `document.getElementById('app').dataset.lesson`)
	outputs, loss := browserFirstSample(t, name)

	p.setGranularity("sample")
	p.click("[data-role=step]")
	p.waitFor("the first sample's events", `window.netstep.model().loss !== null && !document.querySelector('.pending')`)
	m := browserEval[map[string]any](p, `(() => { const m = window.netstep.model(); return {loss: m.loss.value}; })()`)
	if got := m["loss"].(float64); got != loss {
		t.Errorf("the page's loss = %v, the engine's = %v", got, loss)
	}
	// The price is drawn in dollars; the neuron's name says the number the
	// network sees too.
	drawn := browserEval[[]string](p, `[...document.querySelectorAll('.node.output')].map(e => e.getAttribute('aria-label'))`)
	if len(drawn) != len(outputs) {
		t.Fatalf("drawn outputs %q, engine outputs %v", drawn, outputs)
	}
	for k, v := range outputs {
		if got, want := drawn[k], "(the network sees "+browserFmt(v)+")"; !strings.Contains(got, want) {
			t.Errorf("output %d is %q, the engine computed %s", k, got, want)
		}
	}
	say := p.narration()
	if !strings.Contains(say, "The loss is") {
		t.Errorf("narration after a sample = %q, want it to tell the loss", say)
	}

	p.click("[data-role=back]")
	p.waitFor("Back", `document.querySelector('[data-role=narration] .say').textContent.startsWith('Went back')`)

	p.click("[data-role=reset]")
	p.waitFor("Reset", `document.querySelector('[data-role=narration] .say').textContent.startsWith('Back to the start')`)
	p.noErrors()
}

func TestBrowserKeyboardOnly(t *testing.T) {
	p, _ := openPage(t, 1280, 720, false, "/")
	before := p.narration()
	p.key("3") // step size: one example
	p.key(kb.ArrowRight)
	// Changing the step size may already change the narration: wait for the
	// step itself, which makes Back possible.
	p.waitFor("a step from the keyboard", fmt.Sprintf(`window.netstep.model().canBack === true && document.querySelector('[data-role=narration] .say').textContent !== %q`, before))
	p.key(kb.ArrowLeft)
	p.waitFor("Back from the keyboard", `document.querySelector('[data-role=narration] .say').textContent.startsWith('Went back')`)

	// The math switch: KaTeX typesets the formulas.
	p.key(kb.ArrowRight)
	p.waitFor("a second step", `!document.querySelector('[data-role=narration] .say').textContent.startsWith('Went back')`)
	p.key("m")
	p.waitFor("the math", `!document.querySelector('[data-role=math]').hidden && !!document.querySelector('[data-role=math] .katex')`)
	tex := browserEval[string](p, `document.querySelector('[data-role=math]').textContent`)
	if !strings.Contains(tex, "∂") && !strings.Contains(tex, "partial") {
		t.Errorf("the math shows no derivative: %q", tex)
	}
	p.key("m")
	p.waitFor("the math hidden", `document.querySelector('[data-role=math]').hidden`)

	// Tab reaches a neuron; focusing it fills the inspector.
	p.do(chromedp.Do(p.ctx, chromedp.Focus(chromedp.CSS(".node.output"))))
	p.waitFor("the inspector", `!!document.querySelector('[data-role=inspector] dl')`)

	// The help dialog lists the shortcuts.
	p.do(chromedp.Do(p.ctx, chromedp.Focus(chromedp.CSS("[data-role=step]"))))
	p.key("?")
	p.waitFor("the help dialog", `document.querySelector('dialog[data-role=help]').open`)
	p.key(kb.Escape)
	p.waitFor("the help dialog closed", `!document.querySelector('dialog[data-role=help]').open`)
	p.noErrors()
}

func TestBrowserAccessibility(t *testing.T) {
	p, _ := openPage(t, 1280, 720, false, "/")
	p.key(kb.ArrowRight)
	p.waitFor("a step", `window.netstep.model().canBack`)
	// axe-core is not served by the program (tests only): the test
	// evaluates its source in the page, which the page's CSP does not govern.
	axe, err := os.ReadFile("testdata/axe-core/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	browserEval[any](p, string(axe)+"\n;undefined")
	// Open every panel so axe sees all of it.
	browserEval[any](p, `document.querySelectorAll('details').forEach(d => d.open = true)`)
	time.Sleep(300 * time.Millisecond)
	violations := browserEval[[]map[string]any](p, `axe.run(document, {resultTypes: ['violations']}).then(r =>
		r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
		 .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))`)
	for _, v := range violations {
		t.Errorf("axe %s (%s): %s, at %v", v["id"], v["impact"], v["help"], v["nodes"])
	}
	if live := browserEval[string](p, `document.querySelector('[data-role=narration]').getAttribute('aria-live')`); live != "polite" {
		t.Errorf("narration aria-live = %q, want polite", live)
	}
	p.noErrors()
}

func TestBrowserPhone(t *testing.T) {
	p, _ := openPage(t, 390, 844, false, "/")
	p.key(kb.ArrowRight)
	p.waitFor("a step", `window.netstep.model().canBack`)
	browserEval[any](p, `document.querySelectorAll('details').forEach(d => d.open = true)`)
	time.Sleep(300 * time.Millisecond)
	sizes := browserEval[[]float64](p, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if sizes[0] > sizes[1] {
		t.Errorf("the page scrolls sideways on a phone: %v wide in a %v viewport", sizes[0], sizes[1])
	}
	p.noErrors()
}

func TestBrowserReducedMotion(t *testing.T) {
	p, _ := openPage(t, 1280, 720, true, "/")
	if !browserEval[bool](p, `matchMedia('(prefers-reduced-motion: reduce)').matches`) {
		t.Fatal("reduced motion is not emulated")
	}
	p.key("3")
	p.key(kb.ArrowRight)
	p.waitFor("a step", `window.netstep.model().loss !== null`)
	// Instant: the next frame already shows every value and no pulses.
	state := browserEval[map[string]any](p, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r({
		pulses: document.querySelectorAll('.pulse').length,
		pending: document.querySelectorAll('.pending').length,
		outputs: [...document.querySelectorAll('.node-value.output')].map(e => e.textContent).join(''),
	}))))`)
	if state["pulses"].(float64) != 0 || state["pending"].(float64) != 0 {
		t.Errorf("with reduced motion the step still animates: %v", state)
	}
	if state["outputs"] == "" {
		t.Error("with reduced motion the output value is not drawn")
	}
	p.noErrors()
}
