package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// denseLesson is a [2, 40, 40, 1] network: 1,720 edges, past the 1,000
// that edges.js strokes, so its edges are written into pixels.
const denseLesson = `{"title":"Dense","seed":5,"network":{"inputs":["x1","x2"],"outputs":["inside?"],
 "layers":[{"size":40,"activation":"tanh"},{"size":40,"activation":"tanh"},{"size":1,"activation":"sigmoid"}]},
 "data":{"generator":"circle","n":40,"noise":0.1,"testRatio":0.2},
 "training":{"loss":"cross_entropy","optimizer":"sgd","learningRate":0.05,"batchSize":1,"shuffle":true}}`

// TestBrowserDenseEdgesOffThePage: a network of more than 1,000 edges has
// them written into pixels by a worker, off the page's thread
// (edges.js pixelPainter, edgeworker.js). Its picture is, pixel for pixel,
// the one the page writes itself in a browser without workers, and it
// follows a step: the weights the update changed glow.
func TestBrowserDenseEdgesOffThePage(t *testing.T) {
	base := startBrowserServer(t)
	load := func(p *browserPage, painter string) string {
		p.t.Helper()
		p.open(base + "/")
		browserEval[any](p, `window.netstep.request({cmd: 'load', lesson: `+denseLesson+`})`)
		p.waitFor("the dense network drawn by the "+painter, `(() => {
			const c = document.querySelector('[data-role=stage] canvas.net-edges');
			return c?.dataset.edges === '1720' && c.dataset.painter === '`+painter+`' && Number(c.dataset.pictures) >= 1 && !window.netstep.model().running;
		})()`)
		return browserEval[string](p, `document.querySelector('[data-role=stage] canvas.net-edges').toDataURL()`)
	}

	plain := newBrowserPage(t, 1280, 800, false)
	plain.do(chromedp.Do(plain.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `delete window.Worker;`})
		return err
	})))
	want := load(plain, "page")
	if !strings.HasPrefix(want, "data:image/png;base64,") || len(want) < 2000 {
		t.Fatalf("the page's own drawing of the edges: %.80q (%d bytes)", want, len(want))
	}
	plain.noErrors()

	p := newBrowserPage(t, 1280, 800, false)
	got := load(p, "worker")
	if got != want {
		t.Errorf("the worker's drawing (%d bytes of PNG) differs from the page's own (%d bytes)", len(got), len(want))
	}
	// Both signs are on the canvas, in the theme's colours.
	colours := browserEval[[]bool](p, `(async () => {
		const { PALETTES, hexToRgb } = await import('/static/js/colors.js');
		const c = document.querySelector('[data-role=stage] canvas.net-edges');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		const has = (hex) => { const c = hexToRgb(hex); for (let i = 0; i < d.length; i += 4) if (d[i] === c[0] && d[i + 1] === c[1] && d[i + 2] === c[2] && d[i + 3] === 255) return true; return false; };
		return [has(PALETTES.light.positive), has(PALETTES.light.negative)];
	})()`)
	if len(colours) != 2 || !colours[0] || !colours[1] {
		t.Errorf("positive and negative edges on the canvas: %v", colours)
	}

	// A step updates every weight: the new picture shows their glow.
	before := browserEval[int](p, `Number(document.querySelector('[data-role=stage] canvas.net-edges').dataset.pictures)`)
	p.setGranularity("sample")
	p.click("[data-role=step]")
	p.waitFor("a new drawing after the step", `(() => {
		const c = document.querySelector('[data-role=stage] canvas.net-edges');
		return Number(c.dataset.pictures) > `+strconv.Itoa(before)+` && window.netstep.model().events.some((e) => e.type === 'update');
	})()`)
	if after := browserEval[string](p, `document.querySelector('[data-role=stage] canvas.net-edges').toDataURL()`); after == got {
		t.Error("the edges' picture did not change with the step's update")
	}
	p.noErrors()
}
