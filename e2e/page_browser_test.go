package e2e

// Browser tests of the page's own behaviour: the position line, the wire
// form of events, a bad #lesson= link, classroom links that cannot drive,
// the settings, points added on the boundary plot, and how smoothly the
// default lesson plays.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// recordSocket makes the page keep every websocket URL it opens and every
// frame it receives, as sent, in window.__ws (set before the page's own
// scripts run).
func (p *browserPage) recordSocket() {
	p.t.Helper()
	p.do(chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
			const Real = window.WebSocket;
			window.__ws = {urls: [], frames: []};
			window.WebSocket = class extends Real {
				constructor(url, ...rest) {
					super(url, ...rest);
					window.__ws.urls.push(String(url));
					this.addEventListener('message', (ev) => window.__ws.frames.push(ev.data));
				}
			};
		})()`})
		return err
	})))
}

func TestBrowserPositionAndCompactEvents(t *testing.T) {
	base := startBrowserServer(t)
	p := newBrowserPage(t, 1280, 720, false)
	p.recordSocket()
	p.open(base + "/lesson/house-prices")
	if got := browserEval[string](p, `document.querySelector('[data-role=position]').textContent`); got != "epoch 1 · example 1 of 30 next · 0 updates" {
		t.Errorf("position before any step = %q", got)
	}
	p.setGranularity("sample")
	for i := 1; i <= 2; i++ {
		p.click("[data-role=step]")
		p.waitFor(fmt.Sprintf("sample step %d", i), fmt.Sprintf(`window.netstep.model().position.updates === %d`, i))
	}
	p.waitFor("the position line", `document.querySelector('[data-role=position]').textContent === 'epoch 1 · example 3 of 30 next · 2 updates'`)
	// One phase more: the third example is under way.
	p.setGranularity("phase")
	p.click("[data-role=step]")
	p.waitFor("a phase step", `document.querySelector('[data-role=position]').textContent === 'epoch 1 · example 3 of 30 · 2 updates'`)

	// The page asks for compact events and reads them.
	if urls := browserEval[[]string](p, `window.__ws.urls`); len(urls) == 0 || !strings.Contains(urls[0], "events=compact") {
		t.Errorf("websocket URLs %q, want the first to ask for events=compact", urls)
	}
	first := browserEval[string](p, `window.__ws.frames.find(f => f.startsWith('{"type":"events"'))`)
	var frame struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal([]byte(first), &frame); err != nil || len(frame.Events) == 0 || frame.Events[0][0] != '[' {
		t.Errorf("the first events frame is not compact: %.200s (%v)", first, err)
	}
	// The step log, like hosts, gets the objects netstep trace prints.
	log := browserEval[string](p, `(async () => {
		let text = '';
		const real = URL.createObjectURL;
		const realClick = HTMLAnchorElement.prototype.click;
		URL.createObjectURL = (blob) => { blob.text().then(t => text = t); return 'blob:x'; };
		HTMLAnchorElement.prototype.click = function () {};
		document.querySelector('[data-role=download-jsonl]').click();
		URL.createObjectURL = real;
		HTMLAnchorElement.prototype.click = realClick;
		await new Promise(r => setTimeout(r, 100));
		return text;
	})()`)
	if !strings.HasPrefix(log, `{"type":"sample","epoch":0,`) || !strings.Contains(log, `{"type":"update","layer":1,"to":0,"bias":true,"old":`) {
		t.Errorf("step log = %.300s, want event objects in trace order", log)
	}
	p.noErrors()
}

func TestBrowserBadLessonLinkStays(t *testing.T) {
	p, _ := openPage(t, 1280, 720, false, "/?questions=off#lesson=not-a-lesson")
	p.waitFor("the notice", `!document.querySelector('[data-role=notice]').hidden`)
	time.Sleep(1500 * time.Millisecond)
	got := browserEval[string](p, `document.querySelector('[data-role=notice]').hidden ? '' : document.querySelector('[data-role=notice-text]').textContent`)
	if !strings.Contains(got, "could not be read") {
		t.Errorf("after the connection opened the notice says %q, want the link's problem", got)
	}
	p.click("[data-role=notice-close]")
	p.waitFor("the notice dismissed", `document.querySelector('[data-role=notice]').hidden`)
	p.noErrors()
}

func TestBrowserClassroomLinksThatCannotDrive(t *testing.T) {
	base := startBrowserServer(t)
	res, err := http.Post(base+"/api/rooms", "application/json", strings.NewReader(`{"lesson":"xor"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ Code string }
	json.NewDecoder(res.Body).Decode(&room)
	res.Body.Close()
	if room.Code == "" {
		t.Fatalf("POST /api/rooms: %s", res.Status)
	}
	for _, tt := range []struct{ name, frag, want string }{
		{"missing token", "", "this presenter link is missing its token"},
		{"wrong token", "#token=not-the-token", "its token is wrong"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newBrowserPage(t, 1280, 720, false)
			p.do(chromedp.Do(p.ctx, chromedp.Navigate(base+"/present/"+room.Code+tt.frag)))
			p.waitFor("the notice", `!document.querySelector('[data-role=notice]').hidden`)
			got := browserEval[string](p, `document.querySelector('[data-role=notice-text]').textContent`)
			if !strings.Contains(strings.ToLower(got), tt.want) {
				t.Errorf("notice = %q, want it to say %q", got, tt.want)
			}
			// It has stopped: no more connection attempts, nothing to drive.
			time.Sleep(1500 * time.Millisecond)
			if s := browserEval[string](p, `document.querySelector('[data-role=status]').textContent`); strings.Contains(s, "Reconnecting") || strings.Contains(s, "Connected") {
				t.Errorf("status = %q after the refusal", s)
			}
			if browserEval[bool](p, `!!window.netstep.model().network`) {
				t.Error("the page shows a network it may not drive")
			}
		})
	}
}

func TestBrowserSettingsRestart(t *testing.T) {
	p, _ := openPage(t, 1280, 900, false, "/lesson/xor")
	before := browserEval[float64](p, `window.netstep.model().network.layers[0].size`)
	browserEval[any](p, `document.querySelector('[data-role=settings-box]').open = true`)
	p.click(`[data-role=settings] button[aria-label^="More neurons in"]`)
	// The hidden layer's activation, if the form offers one.
	browserEval[any](p, `(() => {
		const sel = [...document.querySelectorAll('[data-role=settings] select')].find(s => [...s.options].some(o => o.value === 'relu') && !['relu'].includes(s.value));
		if (sel) { sel.value = 'relu'; sel.dispatchEvent(new Event('change', {bubbles: true})); }
	})()`)
	p.click(`[data-role=settings] button[type=submit]`)
	p.waitFor("the new network", fmt.Sprintf(`window.netstep.model().network && window.netstep.model().network.layers[0].size === %v && window.netstep.model().reason === 'load'`, before+1))
	if got := browserEval[float64](p, `document.querySelectorAll('.node:not(.input)').length`); got < before+2 {
		t.Errorf("%v neurons drawn after the restart, want the new hidden layer of %v and the output", got, before+1)
	}
	if act := browserEval[string](p, `window.netstep.model().network.layers[0].activation`); act != "relu" {
		t.Errorf("hidden activation = %q after choosing relu", act)
	}
	p.setGranularity("sample")
	p.click("[data-role=step]")
	p.waitFor("a step on the new network", `window.netstep.model().loss !== null && window.netstep.model().values.a[0].length === window.netstep.model().network.layers[0].size`)
	if s := browserEval[string](p, `document.querySelector('[data-role=status]').textContent`); strings.Contains(s, "wrong") || strings.Contains(s, "error") {
		t.Errorf("status after the restart: %q", s)
	}
	p.noErrors()
}

func TestBrowserAddPointsOnTheBoundary(t *testing.T) {
	p, _ := openPage(t, 1280, 900, false, "/lesson/circle")
	p.waitFor("the boundary plot", `!!document.querySelector('.boundary-canvas') && !document.querySelector('[data-role=boundary-box]').hidden`)
	n := browserEval[float64](p, `window.netstep.model().data.train.length`)
	p.click(`[data-role=boundary-add] input[value="1"]`)
	// Two clicks near the top-left corner of the plot: class 1 (the lesson's
	// "inner point") far outside the circle.
	for _, at := range [][2]float64{{0.1, 0.1}, {0.15, 0.1}} {
		browserEval[any](p, fmt.Sprintf(`(() => {
			const c = document.querySelector('.boundary-canvas');
			c.scrollIntoView();
			const r = c.getBoundingClientRect();
			c.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + r.width * %v, clientY: r.top + r.height * %v}));
		})()`, at[0], at[1]))
	}
	p.waitFor("two added points", `document.querySelector('[data-role=boundary-added]').textContent.startsWith('Added 2 inner point (circle) points')`)
	p.click("[data-role=boundary-train]")
	p.waitFor("the lesson with the points", fmt.Sprintf(`window.netstep.model().data.train.length === %v`, n+2))
	pts := browserEval[[][]float64](p, `window.netstep.model().data.train.slice(-2).map(s => s.point)`)
	for _, pt := range pts {
		if pt[0] > -3 || pt[1] < 3 {
			t.Errorf("added point %v, want it near the top-left of the plane", pt)
		}
	}
	p.setGranularity("batch")
	p.click("[data-role=step]")
	p.waitFor("training on them", `window.netstep.model().position.updates === 1`)
	p.noErrors()
}

// TestBrowserSmoothPlay plays the default lesson for about two seconds and
// counts animation frames: no gap between frames may reach 250 ms. The
// frame rate is logged (docs/benchmarks.md, "Page").
func TestBrowserSmoothPlay(t *testing.T) {
	p, _ := openPage(t, 1280, 720, false, "/")
	p.click("[data-role=play]")
	p.waitFor("playing", `window.netstep.model().running`)
	got := browserEval[map[string]float64](p, `new Promise(resolve => {
		const times = [];
		const start = performance.now();
		const tick = (now) => {
			times.push(now);
			if (now - start < 2000) requestAnimationFrame(tick);
			else {
				let worst = 0;
				for (let i = 1; i < times.length; i++) worst = Math.max(worst, times[i] - times[i - 1]);
				resolve({frames: times.length, seconds: (times[times.length - 1] - times[0]) / 1000, worst});
			}
		};
		requestAnimationFrame(tick);
	})`)
	p.click("[data-role=play]")
	fps := (got["frames"] - 1) / got["seconds"]
	t.Logf("playing the default lesson: %.0f frames in %.2f s = %.1f frames per second; longest gap %.0f ms", got["frames"], got["seconds"], fps, got["worst"])
	if got["worst"] >= 250 {
		t.Errorf("a %.0f ms stall between animation frames while playing", got["worst"])
	}
	if got["frames"] < 20 {
		t.Errorf("only %.0f animation frames in 2 s", got["frames"])
	}
	p.noErrors()
}

// TestBrowserFasterDuringSlowPlay: raising the speed while a slow Play
// steps from the page (1 a second) to "as fast as possible" keeps playing:
// the page hands over to the server's run instead of sending steps faster
// than the server takes commands (which stopped Play with slow_down).
func TestBrowserFasterDuringSlowPlay(t *testing.T) {
	p, _ := openPage(t, 1280, 720, false, "/?questions=off")
	p.setGranularity("sample")
	set := func(i int) {
		browserEval[bool](p, fmt.Sprintf(`(() => { const s = document.querySelector('[data-role=speed]'); s.value = '%d'; s.dispatchEvent(new Event('input', {bubbles: true})); s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, i))
	}
	set(1) // 1 step a second: the page steps
	p.click("[data-role=play]")
	p.waitFor("a slow step", `window.netstep.model().position.updates >= 1`)
	set(7) // as fast as possible
	time.Sleep(6 * time.Second)
	if got := browserEval[map[string]any](p, `({running: window.netstep.model().running, error: window.netstep.model().error?.code ?? ''})`); got["running"] != true || got["error"] != "" {
		t.Errorf("after raising the speed: %v, want still playing without an error", got)
	}
	p.click("[data-role=play]")
	p.waitFor("paused", `!window.netstep.model().running`)
}
