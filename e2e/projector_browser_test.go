package e2e

// The presenter's page on a projector: 1920×1080 with the projector theme.

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserPresenterProjector(t *testing.T) {
	base := startBrowserServer(t)
	_, presenterURL, _ := openRoom(t, base, "house-prices")
	path, frag, _ := strings.Cut(presenterURL, "#")

	// A learner's page in the same theme and window, for the label sizes.
	learner := newBrowserPage(t, 1920, 1080, false)
	learner.open(base + "/lesson/house-prices?theme=projector&questions=off")
	labelPx := `(() => { const t = document.querySelector('[data-role=stage] svg .node-name'); return t.getBoundingClientRect().height; })()`
	learnerLabel := browserEval[float64](learner, labelPx)

	p := newBrowserPage(t, 1920, 1080, false)
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(path+"?theme=projector#"+frag)))
	p.waitFor("the presenter's diagram", `!!window.netstep && !!window.netstep.model().network && !!document.querySelector('[data-role=stage] svg .node-ring')`)
	if h := browserEval[float64](p, `document.querySelector('[data-role=stage] svg').getBoundingClientRect().height`); h < 600 {
		t.Errorf("the diagram is %.0f px tall at 1920×1080, want at least 600", h)
	}
	if got := browserEval[float64](p, labelPx); got < 1.5*learnerLabel {
		t.Errorf("node labels %.1f px tall on the presenter's projector, %.1f on a learner's: want at least 1.5×", got, learnerLabel)
	}
	if bottom := browserEval[float64](p, `document.querySelector('.narration-box').getBoundingClientRect().bottom`); bottom > 1080 {
		t.Errorf("the narration ends at %.0f px, below the fold", bottom)
	}
	// The join bar folds to a strip; the join card is one click away.
	full := browserEval[float64](p, `document.querySelector('[data-role=room-bar]').getBoundingClientRect().height`)
	p.click("[data-role=room-slim]")
	p.waitFor("the slim bar", `document.querySelector('[data-role=room-bar]').classList.contains('slim')`)
	if slim := browserEval[float64](p, `document.querySelector('[data-role=room-bar]').getBoundingClientRect().height`); slim > 80 || slim >= full {
		t.Errorf("the slim bar is %.0f px tall (full: %.0f)", slim, full)
	}
	p.click("[data-role=join-card-open]")
	p.waitFor("the join card", `document.querySelector('[data-role=join-card]').open && document.querySelector('.join-card-qr').getBoundingClientRect().width >= 600`)
	shoot(t, p, "presenter-join-card.png")
	p.do(chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(".join-card form button"))))
	p.waitFor("the join card closed", `!document.querySelector('[data-role=join-card]').open`)
	shoot(t, p, "presenter-projector.png")

	// A reload keeps the theme, the math switch and the step size, and the
	// narration says where the class is, not "Connecting…".
	p.do(chromedp.Do(p.ctx, chromedp.SetValue(chromedp.CSS("[data-role=granularity]"), "phase")))
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
	p.noErrors()
}
