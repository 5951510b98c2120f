package e2e

import (
	"fmt"
	"testing"

	"github.com/netstep/netstep/engine"
)

// TestBrowserInspectEveryNeuron selects every neuron, inputs included, of
// every built-in lesson with the math on, after one step: no page error,
// and the inspector and the math follow each selection.
func TestBrowserInspectEveryNeuron(t *testing.T) {
	base := startBrowserServer(t)
	p := newBrowserPage(t, 1280, 900, false)
	for _, name := range engine.Builtin().Names() {
		p.open(base + "/lesson/" + name + "?questions=off&math=on")
		p.click("[data-role=step]")
		p.waitFor(name+": the step", `window.netstep.model().events.length > 0`)
		n := browserEval[int](p, `document.querySelectorAll('[data-role=stage] .node').length`)
		if n == 0 {
			t.Fatalf("%s: no neurons drawn", name)
		}
		seen := map[string]bool{}
		for i := range n {
			js := fmt.Sprintf(`(() => { const el = document.querySelectorAll('[data-role=stage] .node')[%d]; el.dispatchEvent(new MouseEvent('click', {bubbles: true})); return true; })()`, i)
			browserEval[bool](p, js)
			p.waitFor(fmt.Sprintf("%s: neuron %d drawn", name, i), `true`)
			got := browserEval[map[string]string](p, `(() => ({
				inspector: document.querySelector('[data-role=inspector]').innerText,
				math: document.querySelector('[data-role=math]').innerText,
			}))()`)
			if got["math"] == "" || got["inspector"] == "" {
				t.Errorf("%s: neuron %d: inspector %q, math %q", name, i, got["inspector"], got["math"])
			}
			if seen[got["inspector"]] {
				t.Errorf("%s: neuron %d: the inspector did not change (%q)", name, i, firstLine(got["inspector"]))
			}
			seen[got["inspector"]] = true
		}
		p.noErrors()
	}
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
