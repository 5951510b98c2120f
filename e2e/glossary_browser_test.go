package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/netstep/netstep/engine"
)

// TestBrowserGlossaryWhereWordsAppear: the lesson's glossary terms in the
// narration are buttons that open their meaning, by mouse and by keyboard.
func TestBrowserGlossaryWhereWordsAppear(t *testing.T) {
	p, _ := openPage(t, 1280, 720, false, "/lesson/house-prices")
	p.click("[data-role=step]")
	p.waitFor("a term in the narration", `!!document.querySelector('[data-role=narration] button.term')`)
	time.Sleep(time.Second) // let the step's last frames (heatmaps, state) redraw the narration
	if got := p.narration(); strings.Contains(got, "A number on a connection") {
		t.Errorf("the narration's text includes a glossary meaning: %q", got)
	}
	l, _ := engine.Builtin().Lookup("house-prices")
	meaningOf := func(word string) string {
		for _, g := range l.Glossary {
			if strings.HasPrefix(strings.ToLower(word), strings.ToLower(g.Term)) {
				return g.Meaning
			}
		}
		t.Fatalf("the narration marks %q, which is not in the lesson's glossary", word)
		return ""
	}
	// Click the first marked word and read its own popover in one go: the
	// narration may be redrawn by frames that arrive after the step.
	got := browserEval[[]any](p, `(() => {
		const b = document.querySelector('[data-role=narration] button.term');
		b.click();
		const tip = document.getElementById(b.getAttribute('popovertarget'));
		return [b.textContent, tip.matches(':popover-open'), tip.textContent];
	})()`)
	word, open, text := got[0].(string), got[1].(bool), got[2].(string)
	if !open || !strings.Contains(text, meaningOf(word)) {
		t.Errorf("clicking %q: open %v, popover %q", word, open, text)
	}
	p.key(kb.Escape)
	p.waitFor("the meaning to close", `!document.querySelector('.term-meaning:popover-open')`)
	// From the keyboard: focus the word, press Enter.
	browserEval[any](p, `document.querySelector('[data-role=narration] button.term').focus()`)
	p.waitFor("the word to have focus", `document.activeElement.classList.contains('term')`)
	p.key(kb.Enter)
	p.waitFor("the meaning to open from the keyboard", `(() => {
		const b = document.activeElement;
		return b && b.classList.contains('term') && document.getElementById(b.getAttribute('popovertarget')).matches(':popover-open');
	})()`)
	p.noErrors()
}
