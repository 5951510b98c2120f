package e2e

// The presenter's page on a projector: 1920×1080 with the projector theme.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func TestBrowserPresenterProjector(t *testing.T) {
	base := startBrowserServer(t)
	_, presenterURL, _ := openRoom(t, base, "house-prices")
	path, frag, _ := strings.Cut(presenterURL, "#")

	// A learner's page in the same window in the light theme, for the
	// label sizes.
	learner := newBrowserPage(t, 1920, 1080, false)
	learner.open(base + "/lesson/house-prices?theme=light&questions=off")
	labelPx := `(() => { const t = document.querySelector('[data-role=stage] svg .node-name'); return t.getBoundingClientRect().height; })()`
	learnerLabel := browserEval[float64](learner, labelPx)

	p := newBrowserPage(t, 1920, 1080, false)
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(path+"?theme=projector#"+frag)))
	p.waitFor("the presenter's diagram", `!!window.netstep && !!window.netstep.model().network && !!document.querySelector('[data-role=stage] svg .node-ring')`)
	// With the full join bar (and the loopback warning: this server is on
	// 127.0.0.1) everything a teacher needs is on screen without scrolling.
	p.waitFor("the diagram fitted to the window", `document.querySelector('[data-role=step]').getBoundingClientRect().bottom <= innerHeight`)
	onScreen(t, p, "with the full join bar", "[data-role=stage] svg", "[data-role=step]", ".narration-box")
	// The join bar folds to a strip; the join card is one click away.
	full := browserEval[float64](p, `document.querySelector('[data-role=room-bar]').getBoundingClientRect().height`)
	p.click("[data-role=room-slim]")
	p.waitFor("the slim bar", `document.querySelector('[data-role=room-bar]').classList.contains('slim')`)
	if slim := browserEval[float64](p, `document.querySelector('[data-role=room-bar]').getBoundingClientRect().height`); slim > 80 || slim >= full {
		t.Errorf("the slim bar is %.0f px tall (full: %.0f)", slim, full)
	}
	// Teaching with the slim strip, the diagram takes most of the height.
	p.waitFor("the diagram fitted to the slim bar", `document.querySelector('[data-role=stage] svg').getBoundingClientRect().height >= 600`)
	if got := browserEval[float64](p, labelPx); got < 1.5*learnerLabel {
		t.Errorf("node labels %.1f px tall on the presenter's projector, %.1f on a learner's laptop: want at least 1.5×", got, learnerLabel)
	}
	onScreen(t, p, "with the slim bar", "[data-role=stage] svg", "[data-role=step]", ".narration-box")
	p.click("[data-role=join-card-open]")
	p.waitFor("the join card", `document.querySelector('[data-role=join-card]').open && document.querySelector('.join-card-qr').getBoundingClientRect().width >= 600`)
	shoot(t, p, "presenter-join-card.png")
	p.do(chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(".join-card form button"))))
	p.waitFor("the join card closed", `!document.querySelector('[data-role=join-card]').open`)
	shoot(t, p, "presenter-projector.png")

	// A reload keeps the theme, the math switch and the step size, and the
	// narration says where the class is, not "Connecting…".
	p.setGranularity("phase")
	browserEval[bool](p, `document.querySelector('[data-role=granularity]').dispatchEvent(new Event('change')) && document.querySelector('[data-role=theme]').dispatchEvent(new Event('change'))`)
	p.click("[data-role=math-toggle]")
	p.click("[data-role=step]")
	p.waitFor("a step", `document.querySelector('[data-role=narration] .say').textContent.startsWith('Forward pass')`)
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(path+"#"+frag)))
	p.do(chromedp.Do(p.ctx, chromedp.Reload()))
	p.waitFor("the page after a reload", `!!window.netstep && !!window.netstep.model().network && !!document.querySelector('[data-role=stage] svg .node-ring')`)
	if got := browserEval[string](p, `document.documentElement.dataset.theme + ' ' + document.querySelector('[data-role=theme]').value`); got != "projector projector" {
		t.Errorf("after a reload the theme is %q, want projector", got)
	}
	if got := browserEval[string](p, `document.querySelector('[data-role=granularity]').value + ' ' + document.querySelector('[data-role=math-toggle]').checked`); got != "phase true" {
		t.Errorf("after a reload the step size and math switch are %q, want phase true", got)
	}
	p.waitFor("the narration of where the class is", `document.querySelector('[data-role=narration] .say').textContent.startsWith('Here is where training is: epoch 1, example 1')`)

	// A question opens (→, as a clicker sends it): it appears beside the
	// diagram, whose top stays on screen, and the page does not scroll.
	p.do(chromedp.Do(p.ctx, chromedp.SetValue(chromedp.CSS("[data-role=granularity]"), "sample")))
	browserEval[bool](p, `document.querySelector('[data-role=granularity]').dispatchEvent(new Event('change'))`)
	browserEval[bool](p, `(document.activeElement?.blur(), true)`)
	p.key(kb.ArrowRight)
	p.waitFor("the question to the class", `!!document.querySelector('[data-role=vote-reveal]')`)
	onScreen(t, p, "with a question open", "[data-role=stage] svg", "[data-role=vote]", "[data-role=vote-reveal]", "[data-role=step]")
	if y := browserEval[float64](p, `scrollY`); y != 0 {
		t.Errorf("opening the question scrolled the page by %.0f px", y)
	}
	shoot(t, p, "presenter-question.png")
	p.noErrors()
}

// onScreen checks that each element is wholly inside the window (the
// page's top-left corner is where the window starts): nothing of it has
// left the top, nothing is below the fold.
func onScreen(t *testing.T, p *browserPage, when string, selectors ...string) {
	t.Helper()
	for _, sel := range selectors {
		r := browserEval[[]float64](p, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.top, r.bottom, innerHeight]; })()`, sel))
		if r[0] < 0 || r[1] > r[2] {
			t.Errorf("%s, %s spans %.0f–%.0f px of a %.0f px window: want it all on screen", when, sel, r[0], r[1], r[2])
		}
	}
}

// TestBrowserProjectorLessonPage: a lesson shown on a projector without a
// class. At 1920×1080 the diagram is drawn larger, Step stays on screen,
// and every hidden neuron's blame is written under it; on a 1280×800
// projector Step is on the screen too, the diagram no less than 300 px
// tall (not squeezed under the intro).
func TestBrowserProjectorLessonPage(t *testing.T) {
	base := startBrowserServer(t)
	svgBox := `(() => { const b = document.querySelector('[data-role=stage] svg').getBoundingClientRect(); return [b.width, b.height]; })()`
	labelPx := `document.querySelector('[data-role=stage] svg .node-name').getBoundingClientRect().height`
	laptop := newBrowserPage(t, 1920, 1080, false)
	laptop.open(base + "/lesson/house-prices?theme=light&questions=off")
	laptopLabel := browserEval[float64](laptop, labelPx)

	p := newBrowserPage(t, 1920, 1080, false)
	p.open(base + "/lesson/house-prices?theme=projector&questions=off")
	p.click("[data-role=step]")
	p.waitFor("the step", `window.netstep.model().events.some((e) => e.type === 'update') && !document.querySelector('[data-role=step]').disabled`)
	p.waitFor("the fitted diagram", `document.querySelector('[data-role=stage] svg').getBoundingClientRect().width > 1200`)
	if box := browserEval[[]float64](p, svgBox); box[1] < 500 {
		t.Errorf("the projected diagram is %.0f×%.0f px", box[0], box[1])
	}
	if got := browserEval[float64](p, labelPx); got < 1.5*laptopLabel {
		t.Errorf("node labels %.1f px tall projected, %.1f on a laptop: want at least 1.5×", got, laptopLabel)
	}
	onScreen(t, p, "a projected lesson", "[data-role=stage] svg", "[data-role=step]")
	blames := browserEval[[]string](p, `[...document.querySelectorAll('.node-blame')].map((e) => e.textContent)`)
	if len(blames) != 5 || slices.Contains(blames, "") {
		t.Errorf("blames under the neurons: %q, want the 4 hidden ones' and the output's", blames)
	}
	// Plain words first: with the math hidden a blame reads "blame −0.11"
	// and the legend names no ∂L/∂z; with it shown, "∂ −0.11".
	for _, b := range blames {
		if !strings.HasPrefix(b, "blame ") {
			t.Errorf("with the math hidden a blame reads %q, want \"blame …\"", b)
		}
	}
	if legend := browserEval[string](p, `document.querySelector('.legend').innerText`); strings.Contains(legend, "∂") || !strings.Contains(legend, "blame") {
		t.Errorf("with the math hidden the legend reads %q", legend)
	}
	p.click("[data-role=math-toggle]")
	p.waitFor("∂ under the neurons", `[...document.querySelectorAll('.node-blame')].filter((e) => e.textContent).every((e) => e.textContent.startsWith('∂ '))`)
	if legend := browserEval[string](p, `document.querySelector('.legend').innerText`); !strings.Contains(legend, "∂L/∂z") {
		t.Errorf("with the math shown the legend reads %q, want it to name ∂L/∂z", legend)
	}
	p.noErrors()

	// A 1280×800 projector (a common one): the header stays one row and
	// the diagram gives up some of its height, so Step is on the screen
	// (it was 70 px below its edge).
	small := newBrowserPage(t, 1280, 800, false)
	small.open(base + "/lesson/house-prices?theme=projector&questions=off")
	small.waitFor("Step on a 1280×800 projector's screen", `document.querySelector('[data-role=step]').getBoundingClientRect().bottom <= innerHeight`)
	if box := browserEval[[]float64](small, svgBox); box[1] < 300 {
		t.Errorf("on a 1280×800 projector the diagram is %.0f×%.0f px", box[0], box[1])
	}
	small.noErrors()
}
