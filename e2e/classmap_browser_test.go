package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserClassMap: after a few epochs which-size's decision map shows
// its three classes, each cell of the plot in the colour of the class the
// engine's class map names there (read back from the canvas's pixels, away
// from the marks and the borders, where smoothing blends two colours), with
// a legend S, M, L. Cat-or-dog keeps its two-class map without that legend.
func TestBrowserClassMap(t *testing.T) {
	base := startBrowserServer(t)
	p := newBrowserPage(t, 1280, 900, false)
	p.open(base + "/lesson/which-size?questions=off")
	p.do(chromedp.Do(p.ctx, chromedp.SetValue(chromedp.CSS("[data-role=granularity]"), "epoch")))
	for i := 0; i < 30; i++ {
		epoch := browserEval[int](p, `window.netstep.model().position.epoch`)
		p.click("[data-role=step]")
		p.waitFor("an epoch", fmt.Sprintf(`window.netstep.model().position.epoch > %d && !document.querySelector('[data-role=step]').disabled`, epoch))
	}
	p.waitFor("the class map", `!!window.netstep.model().boundary?.classes && !!document.querySelector('[data-role=class-legend] li')`)
	// A boundary frame may follow its step's done: wait until the canvas
	// shows the model's latest.
	for i := 0; !browserEval[bool](p, `new Promise((r) => { const b = window.netstep.model().boundary; setTimeout(() => requestAnimationFrame(() => r(b === window.netstep.model().boundary)), 300); })`); i++ {
		if i == 20 {
			t.Fatal("the map never settles")
		}
	}

	type cells struct {
		Checked  []int    `json:"checked"` // cells compared, per class
		Wrong    []string `json:"wrong"`
		Regions  []int    `json:"regions"` // cells each class wins
		Legend   []string `json:"legend"`
		Swatches []string `json:"swatches"`
	}
	got := browserEval[cells](p, `(async () => {
		const cm = await import('/static/js/classmap.js');
		const m = window.netstep.model();
		const b = m.boundary;
		const dec = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
		const winner = dec(b.classes.winner);
		const canvas = document.querySelector('.boundary-canvas');
		const ctx = canvas.getContext('2d');
		const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
		const theme = document.documentElement.dataset.theme;
		const colors = cm.CLASS_COLORS[theme] ?? cm.CLASS_COLORS.light;
		const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
		const surface = hex(theme === 'dark' ? '#1e2126' : '#ffffff');
		// Distance from a pixel to the line of a class's shades (its colour
		// mixed into the surface, faintest to strongest).
		const away = (px, c) => {
			let best = Infinity;
			for (let s = cm.FAINTEST; s <= cm.STRONGEST + 1e-9; s += 0.01) {
				const q = surface.map((v, i) => v + (c[i] - v) * s);
				best = Math.min(best, Math.hypot(px[0] - q[0], px[1] - q[1], px[2] - q[2]));
			}
			return best;
		};
		const g = b.grid, [lo, hi] = b.domain, scale = canvas.width / g;
		const points = [...m.data.train, ...m.data.test].map((s) => s.point);
		const checked = [0, 0, 0], regions = [0, 0, 0], wrong = [];
		for (let r = 1; r < g - 1; r++) for (let c = 1; c < g - 1; c++) {
			const w = winner[r * g + c];
			regions[w]++;
			let inside = true;
			for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) if (winner[(r + dr) * g + c + dc] !== w) inside = false;
			if (!inside) continue;
			const x1 = lo + (c + 0.5) * (hi - lo) / g, x2 = hi - (r + 0.5) * (hi - lo) / g;
			if (points.some((p) => Math.hypot(p[0] - x1, p[1] - x2) < 3 * (hi - lo) / g)) continue;
			const x = Math.floor((c + 0.5) * scale), y = Math.floor((r + 0.5) * scale);
			const px = img.data.slice((y * canvas.width + x) * 4, (y * canvas.width + x) * 4 + 3);
			const d = colors.map((h) => away(px, hex(h)));
			const pick = d.indexOf(Math.min(...d));
			checked[w]++;
			if (pick !== w || d[w] > 12) wrong.push('cell ' + r + ',' + c + ': engine ' + w + ', pixel ' + [...px] + ' nearest ' + pick + ' (' + d.map((v) => v.toFixed(1)) + ')');
		}
		const legend = [...document.querySelectorAll('[data-role=class-legend] li')];
		return { checked, wrong, regions,
			legend: legend.map((li) => li.textContent.replace(li.querySelector('.class-swatch').textContent, '').trim()),
			swatches: legend.map((li) => li.querySelector('.class-swatch').textContent) };
	})()`)
	for j, n := range got.Regions {
		if n == 0 {
			t.Errorf("class %d wins no cell after 30 epochs: %v", j, got.Regions)
		}
	}
	for j, n := range got.Checked {
		if n < 10 {
			t.Errorf("only %d cells of class %d could be read back: %v", n, j, got.Checked)
		}
	}
	if len(got.Wrong) > 0 {
		t.Errorf("%d cells not in their class's colour, e.g. %s", len(got.Wrong), strings.Join(got.Wrong[:min(5, len(got.Wrong))], "; "))
	}
	if want := []string{"size S", "size M", "size L"}; strings.Join(got.Legend, "|") != strings.Join(want, "|") {
		t.Errorf("legend %q, want %q", got.Legend, want)
	}
	if strings.Join(got.Swatches, "") != "SML" {
		t.Errorf("legend letters %q, want S, M, L", got.Swatches)
	}
	if label := browserEval[string](p, `document.querySelector('.boundary-canvas').getAttribute('aria-label')`); !strings.Contains(label, "the network picks size S on") || !strings.Contains(label, "Training examples: 10 size S, 10 size M, 10 size L.") {
		t.Errorf("the map's text alternative %q", label)
	}
	choices := browserEval[string](p, `[...document.querySelectorAll('[data-role=boundary-box] input[name=boundary-add]')].map((i) => i.closest('label').textContent.trim()).join('|')`)
	if choices != "off|size S (S)|size M (M)|size L (L)" {
		t.Errorf("add-point choices %q", choices)
	}

	// Cat-or-dog: two classes, one output: the blue/orange map and its
	// own legend, no class legend.
	p.open(base + "/lesson/cat-or-dog?questions=off")
	p.click("[data-role=step]")
	p.waitFor("the map", `!document.querySelector('[data-role=boundary-box]').hidden && !!window.netstep.model().boundary`)
	if browserEval[bool](p, `!!document.querySelector('[data-role=class-legend]')`) {
		t.Error("cat-or-dog shows a class legend")
	}
	if legend := browserEval[string](p, `document.querySelector('[data-role=boundary-box] p.muted.small').textContent`); !strings.Contains(legend, "blue for dog, orange for cat") {
		t.Errorf("cat-or-dog's legend %q", legend)
	}
	p.noErrors()
}
