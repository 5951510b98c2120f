package e2e

// Browser test of the diagram's weight labels: after an update every small
// network's labels stay apart, on a projector and on a phone.

import (
	"fmt"
	"testing"
)

func TestBrowserEdgeLabelsDoNotCollide(t *testing.T) {
	base := startBrowserServer(t)
	for _, size := range []struct{ w, h int64 }{{1280, 720}, {390, 844}} {
		for _, lesson := range []string{"worked-example", "xor", "cat-or-dog"} {
			t.Run(fmt.Sprintf("%s/%dx%d", lesson, size.w, size.h), func(t *testing.T) {
				p := newBrowserPage(t, size.w, size.h, true)
				p.open(base + "/lesson/" + lesson + "?questions=off")
				p.setGranularity("sample")
				p.click("[data-role=step]")
				p.waitFor("the update", `window.netstep.model().position.updates === 1 && !document.querySelector('.pending')`)
				if size.w == 1280 && lesson == "worked-example" {
					// The update's labels are drawn on the frame after the events.
					p.waitFor("old → new labels", `[...document.querySelectorAll('.edge-label')].filter((e) => e.textContent.includes('→')).length >= 8`)
				}
				got := browserEval[map[string]any](p, `(() => {
					const boxes = [...document.querySelectorAll('.edge-label')].filter((e) => e.textContent).map((e) => ({text: e.textContent, r: e.getBoundingClientRect()}));
					const rings = [...document.querySelectorAll('.node-ring')].map((e) => e.getBoundingClientRect());
					const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
					const bad = [];
					boxes.forEach((a, i) => {
						boxes.slice(i + 1).forEach((b) => { if (meet(a.r, b.r)) bad.push(a.text + ' over ' + b.text); });
						rings.forEach((r) => { if (meet(a.r, r)) bad.push(a.text + ' over a neuron'); });
					});
					return {labels: boxes.length, bad, arrows: boxes.filter((b) => b.text.includes('→')).length};
				})()`)
				if bad := got["bad"].([]any); len(bad) > 0 {
					t.Errorf("labels collide: %v", bad)
				}
				if got["labels"].(float64) == 0 {
					t.Errorf("no weight carries a label after an update")
				}
				if size.w == 1280 && lesson == "worked-example" && got["arrows"].(float64) < 8 {
					t.Errorf("%v of 8 labels show old → new on a projector", got["arrows"])
				}
				p.noErrors()
			})
		}
	}
}

// TestBrowserBlameStaysClear: in a crowded layer (the spiral's eight
// hidden neurons) the blame under a neuron never covers the next one.
func TestBrowserBlameStaysClear(t *testing.T) {
	p, _ := openPage(t, 1280, 720, true, "/lesson/spiral?questions=off")
	p.setGranularity("phase")
	for _, phase := range []string{"forward", "loss", "backward"} {
		p.click("[data-role=step]")
		p.waitFor("the "+phase+" phase", fmt.Sprintf(`window.netstep.model().events.some((e) => e.type === %q) && !document.querySelector('[data-role=step]').disabled`, phase))
	}
	bad := browserEval[[]string](p, `(() => {
		const rings = [...document.querySelectorAll('.node-ring')].map((e) => e.getBoundingClientRect());
		const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
		return [...document.querySelectorAll('.node-blame')].filter((e) => e.textContent).filter((e) => rings.some((r) => meet(e.getBoundingClientRect(), r))).map((e) => e.textContent);
	})()`)
	if len(bad) > 0 {
		t.Errorf("blame covers a neuron: %q", bad)
	}
	if n := browserEval[int](p, `[...document.querySelectorAll('.node-blame')].filter((e) => e.textContent).length`); n == 0 {
		t.Errorf("no blame shown at all after the backward pass")
	}
}

// TestBrowserEmbedDiagramIgnoresFrameHeight: the embed's frame is sized
// from its content, so the diagram must not grow with the frame.
func TestBrowserEmbedDiagramIgnoresFrameHeight(t *testing.T) {
	base := startBrowserServer(t)
	var heights []float64
	for _, h := range []int64{500, 1400} {
		p := newBrowserPage(t, 760, h, true)
		p.open(base + "/embed?lesson=circle")
		// The diagram is drawn on the next animation frame after the state.
		p.waitFor("the diagram", `!!document.querySelector('[data-role=stage] svg')`)
		heights = append(heights, browserEval[float64](p, `document.querySelector('[data-role=stage] svg').getBoundingClientRect().height`))
	}
	if heights[0] != heights[1] {
		t.Errorf("the embedded diagram is %v px tall in a 500 px frame and %v px in a 1400 px one", heights[0], heights[1])
	}
}
