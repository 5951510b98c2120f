package e2e

import (
	"strings"
	"testing"
)

// TestBrowserLessonPanels: the worked example (one training example) shows
// no decision map, no "add a point" and no hidden-neuron maps; cat-or-dog's
// map names its classes and its axes.
func TestBrowserLessonPanels(t *testing.T) {
	p, base := openPage(t, 1280, 900, false, "/lesson/worked-example?questions=off")
	p.click("[data-role=step]")
	p.waitFor("the step", `window.netstep.model().events.length > 0`)
	if !browserEval[bool](p, `document.querySelector('[data-role=boundary-box]').hidden`) {
		t.Error("the worked example shows a decision map of its single point")
	}
	p.open(base + "/lesson/cat-or-dog?questions=off")
	p.click("[data-role=step]")
	p.waitFor("the map", `!document.querySelector('[data-role=boundary-box]').hidden`)
	legend := browserEval[string](p, `document.querySelector('[data-role=boundary-box] p.muted.small').textContent`)
	for _, want := range []string{"blue for dog, orange for cat", "Circles: dog; squares: cat", "Across: ear pointiness; up: snout length"} {
		if !strings.Contains(legend, want) {
			t.Errorf("legend %q does not say %q", legend, want)
		}
	}
	if got := browserEval[string](p, `document.querySelector('[data-role=boundary-box] input[value="1"]').closest('label').textContent`); strings.TrimSpace(got) != "dog (circle)" {
		t.Errorf("add-point choice %q, want \"dog (circle)\"", got)
	}
	p.noErrors()
}
