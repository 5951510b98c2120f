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
// from its content, so the diagram must not grow with the frame; and a
// frame of a course page's column (760 px) gives the diagram its whole
// width, with the cards under it (beside it, a 700 px frame left the
// diagram 346 px).
func TestBrowserEmbedDiagramIgnoresFrameHeight(t *testing.T) {
	base := startBrowserServer(t)
	var heights []float64
	for _, h := range []int64{500, 1400} {
		p := newBrowserPage(t, 760, h, true)
		p.open(base + "/embed?lesson=circle")
		// The diagram is drawn on the next animation frame after the state.
		p.waitFor("the diagram", `!!document.querySelector('[data-role=stage] svg')`)
		heights = append(heights, browserEval[float64](p, `document.querySelector('[data-role=stage] svg').getBoundingClientRect().height`))
		if w := browserEval[float64](p, `document.querySelector('[data-role=stage]').getBoundingClientRect().width`); w < 0.9*760 {
			t.Errorf("the diagram is %v px wide in a 760 px frame", w)
		}
	}
	if heights[0] != heights[1] {
		t.Errorf("the embedded diagram is %v px tall in a 500 px frame and %v px in a 1400 px one", heights[0], heights[1])
	}
}

// TestBrowserWorkedExampleFits: the worked example's two-output mistake
// stays inside the drawing, and no weight's plate hides a point where two
// edges cross (the reader could not follow the lines), on a laptop and on
// a phone, at the loss and after the update.
func TestBrowserWorkedExampleFits(t *testing.T) {
	base := startBrowserServer(t)
	for _, size := range []struct{ w, h int64 }{{1280, 800}, {390, 844}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			p := newBrowserPage(t, size.w, size.h, true)
			p.open(base + "/lesson/worked-example?questions=off")
			p.setGranularity("phase")
			for _, phase := range []string{"forward", "loss", "backward", "update"} {
				p.click("[data-role=step]")
				p.waitFor("the "+phase+" phase", fmt.Sprintf(`window.netstep.model().events.some((e) => e.type === %q) && !document.querySelector('[data-role=step]').disabled`, phase))
				got := browserEval[map[string]any](p, `(() => {
					const svg = document.querySelector('[data-role=stage] svg.net').getBoundingClientRect();
					const cap = document.querySelector('.mistake-text');
					const c = cap.getBoundingClientRect();
					// Where two edges cross: sample each edge's curve and
					// find the pairs that pass within a pixel of each other
					// while going opposite ways.
					const paths = [...document.querySelectorAll('.edge-hit')].map((e) => {
						const n = 120, len = e.getTotalLength(), m = e.getScreenCTM();
						return Array.from({length: n + 1}, (_, k) => new DOMPoint(e.getPointAtLength(len * k / n).x, e.getPointAtLength(len * k / n).y).matrixTransform(m));
					});
					const crossings = [];
					paths.forEach((a, i) => paths.slice(i + 1).forEach((b) => {
						if (a[0].x !== b[0].x || Math.abs(a[0].y - b[0].y) < 1 || Math.abs(a[a.length - 1].y - b[b.length - 1].y) < 1) return;
						const above = (k) => a[k].y < b[k].y;
						for (let k = 1; k < a.length; k++) if (above(k) !== above(k - 1)) { crossings.push({x: (a[k].x + b[k].x) / 2, y: (a[k].y + b[k].y) / 2}); break; }
					}));
					const plates = [...document.querySelectorAll('.edge-label-bg')].filter((r) => r.style.display !== 'none').map((r) => r.getBoundingClientRect());
					const hidden = crossings.filter((p) => plates.some((r) => p.x > r.left && p.x < r.right && p.y > r.top && p.y < r.bottom));
					return {shown: getComputedStyle(cap.parentNode).display !== 'none', text: cap.textContent,
						left: c.left - svg.left, right: svg.right - c.right, crossings: crossings.length, hidden: hidden.length, plates: plates.length};
				})()`)
				if phase == "forward" {
					continue
				}
				if got["shown"] != true {
					t.Fatalf("%s: no mistake drawn: %v", phase, got)
				}
				if got["left"].(float64) < 0 || got["right"].(float64) < 0 {
					t.Errorf("%s: the mistake's words %q run past the drawing (%.1f px left, %.1f px right of it)", phase, got["text"], got["left"], got["right"])
				}
				if got["crossings"].(float64) != 2 {
					t.Errorf("%s: found %v crossings of edges, want the 2 of a 2-2-2 network", phase, got["crossings"])
				}
				if got["plates"].(float64) < 8 {
					t.Errorf("%s: %v of 8 weights labelled", phase, got["plates"])
				}
				if got["hidden"].(float64) > 0 {
					t.Errorf("%s: %v of %v crossings hidden under a weight's label", phase, got["hidden"], got["crossings"])
				}
			}
			p.noErrors()
		})
	}
}
