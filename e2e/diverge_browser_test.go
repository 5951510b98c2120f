package e2e

// Browser test of a diverging lesson as a learner meets it: one clear
// explanation, short numbers, Back and Reset offered under it, and no
// sideways scroll on a phone.

import (
	"fmt"
	"strings"
	"testing"
)

func TestBrowserDivergedIsClear(t *testing.T) {
	p, _ := openPage(t, 390, 844, true, "/lesson/too-fast?questions=off")
	p.setGranularity("epoch")
	for i := 0; i < 10 && !browserEval[bool](p, `!!window.netstep.model().diverged`); i++ {
		epoch := browserEval[int](p, `window.netstep.model().position.epoch`)
		p.click("[data-role=step]")
		p.waitFor("an epoch", fmt.Sprintf(`!!window.netstep.model().diverged || window.netstep.model().position.epoch > %d && !document.querySelector('[data-role=step]').disabled`, epoch))
	}
	p.waitFor("the divergence", `!!window.netstep.model().diverged && !document.querySelector('[data-role=recover]').hidden`)
	say := p.narration()
	if strings.Count(say, "Training stopped") != 1 || strings.Contains(say, "..") {
		t.Errorf("narration = %q, want the reason said once, with one full stop", say)
	}
	if got := browserEval[int](p, `document.documentElement.scrollWidth`); got > 390 {
		t.Errorf("the page is %d px wide on a 390 px phone", got)
	}
	if long := browserEval[string](p, `[...document.querySelectorAll('.node-value, .node-real, [data-role=loss-summary]')].map((e) => e.textContent).find((s) => /\d{13}|(\d{1,3},){4}/.test(s)) ?? ''`); long != "" {
		t.Errorf("a number is written in full: %q", long)
	}
	if got := browserEval[string](p, `document.activeElement.textContent`); got != "Back one step" {
		t.Errorf("focus is on %q, want Back one step (Step is off)", got)
	}
	p.click("[data-role=recover] [data-recover=reset]")
	p.waitFor("Reset", `!window.netstep.model().diverged && document.querySelector('[data-role=recover]').hidden && !document.querySelector('[data-role=step]').disabled`)
	p.noErrors()
}
