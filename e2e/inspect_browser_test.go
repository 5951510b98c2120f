package e2e

import (
	"os"
	"testing"

	"github.com/netstep/netstep/engine"
)

// TestBrowserInspectEveryNeuron selects every neuron, inputs included, of
// every built-in lesson with the math on, after one step: no page error,
// and the inspector and the math follow each selection.
func TestBrowserInspectEveryNeuron(t *testing.T) {
	base := startBrowserServer(t)
	for _, name := range engine.Builtin().Names() {
		if only := os.Getenv("INSPECT_ONLY"); only != "" && only != name {
			continue
		}
		// A page per lesson: one page's time is bounded.
		p := newBrowserPage(t, 1280, 900, false)
		p.open(base + "/lesson/" + name + "?questions=off&math=on&granularity=sample")
		p.click("[data-role=step]")
		p.waitFor(name+": the step", `window.netstep.model().events.length > 0`)
		// Each neuron in turn, in the page: select it, let two frames draw,
		// read the inspector and the math.
		got := browserEval[[]map[string]string](p, `(async () => {
			const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
			const out = [];
			for (const el of document.querySelectorAll('[data-role=stage] .node')) {
				el.dispatchEvent(new MouseEvent('click', {bubbles: true}));
				await frame();
				out.push({
					inspector: document.querySelector('[data-role=inspector]').innerText,
					math: document.querySelector('[data-role=math]').innerText,
				});
			}
			return out;
		})()`)
		if len(got) == 0 {
			t.Fatalf("%s: no neurons drawn", name)
		}
		seen := map[string]bool{}
		for i, g := range got {
			if g["math"] == "" || g["inspector"] == "" {
				t.Errorf("%s: neuron %d: inspector %q, math %q", name, i, g["inspector"], g["math"])
			}
			if seen[g["inspector"]] {
				t.Errorf("%s: neuron %d: the inspector did not change (%q)", name, i, firstLine(g["inspector"]))
			}
			seen[g["inspector"]] = true
		}
		p.noErrors()
		t.Logf("%s: %d neurons inspected", name, len(got))
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
