package e2e

// The classroom in the browser: a presenter's page and a student's page in
// two headless Chromiums on one server (the harness is browser_test.go's).
// Set NETSTEP_SCREENSHOTS=DIR to keep PNGs of both pages.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserClassroom(t *testing.T) {
	base := startBrowserServer(t)
	var room struct{ Code, PresenterURL, JoinURL string }
	room.Code, room.PresenterURL, room.JoinURL = openRoom(t, base, "house-prices")

	teacher := newBrowserPage(t, 1280, 720, false)
	teacher.open(room.PresenterURL)
	if got := browserEval[string](teacher, `document.querySelector('[data-role=room-code]').textContent`); got != room.Code {
		t.Errorf("the presenter's page shows code %q, want %q", got, room.Code)
	}
	teacher.waitFor("the QR code", `(() => { const i = document.querySelector('.room-qr'); return i.complete && i.naturalWidth > 100; })()`)

	// The student types the code, in lower case, at /join.
	student := newBrowserPage(t, 1280, 720, false)
	student.do(chromedp.Do(student.ctx, chromedp.Navigate(base+"/join")))
	student.do(chromedp.Do(student.ctx, chromedp.SendKeys(chromedp.CSS("input[name=code]"), strings.ToLower(room.Code))))
	student.do(chromedp.Do(student.ctx, chromedp.Submit(chromedp.CSS("form.join-form"))))
	student.waitFor("the room's state", `!!window.netstep && !!window.netstep.model().network && location.pathname === '/join/`+room.Code+`'`)
	if !browserEval[bool](student, `document.querySelector('[data-role=step]').disabled`) {
		t.Error("a following student's Step button is enabled")
	}
	teacher.waitFor("the student counted", `document.querySelector('[data-role=room-followers]').textContent === '1 student following'`)

	// The teacher steps; the student's narration follows, word for word.
	teacher.do(chromedp.Do(teacher.ctx, chromedp.SetValue(chromedp.CSS("[data-role=granularity]"), "sample")))
	teacher.click("[data-role=step]")
	teacher.waitFor("the teacher's step", `window.netstep.model().loss !== null && !document.querySelector('.pending')`)
	say := teacher.narration()
	student.waitFor("the student's narration to follow", fmt.Sprintf(`document.querySelector('[data-role=narration] .say').textContent === %q`, say))
	tm := browserEval[float64](teacher, `window.netstep.model().loss.value`)
	if sm := browserEval[float64](student, `window.netstep.model().loss.value`); sm != tm {
		t.Errorf("the student's loss %v, the teacher's %v", sm, tm)
	}

	// The math switch and the step size follow too.
	teacher.key("m")
	student.waitFor("the math on the student's page", `!document.querySelector('[data-role=math]').hidden && !!document.querySelector('[data-role=math] .katex')`)
	teacher.key("2") // step size: phase
	student.waitFor("the step size", `document.querySelector('[data-role=granularity]').value === 'phase'`)

	// A student's keys do not drive the room.
	student.key("3")
	student.do(chromedp.Do(student.ctx, chromedp.Focus(chromedp.CSS("[data-role=room-explore]"))))
	shoot(t, teacher, "presenter.png")
	shoot(t, student, "student-following.png")
	roomT := truePosition(teacher)

	// Explore on my own: a private copy of the room's state, where Step works.
	student.click("[data-role=room-explore]")
	student.waitFor("exploring", `window.netstep.mode() === 'explore' && !document.querySelector('[data-role=step]').disabled && window.netstep.model().position.t === `+fmt.Sprint(roomT))
	student.click("[data-role=step]")
	student.waitFor("the student's own step", `window.netstep.model().canBack && document.querySelector('[data-role=narration] .say').textContent !== `+fmt.Sprintf("%q", say))
	if got := truePosition(student); got <= roomT {
		t.Errorf("the student's step left its fork at t=%v", got)
	}
	if got := truePosition(teacher); got != roomT {
		t.Errorf("the student's exploring moved the teacher's room from t=%v to t=%v", roomT, got)
	}
	shoot(t, student, "student-exploring.png")

	// Meanwhile the teacher goes on; Follow again catches up at once.
	teacher.click("[data-role=step]")
	teacher.waitFor("the teacher's second step", `document.querySelector('[data-role=narration] .say').textContent !== `+fmt.Sprintf("%q", say))
	want := truePosition(teacher)
	student.click("[data-role=room-follow]")
	student.waitFor("following again", `window.netstep.mode() === 'follower' && document.querySelector('[data-role=step]').disabled && window.netstep.model().position.t === `+fmt.Sprint(want))
	teacher.click("[data-role=back]")
	student.waitFor("Back on the student's page", `document.querySelector('[data-role=narration] .say').textContent.startsWith('Went back')`)

	teacher.noErrors()
	student.noErrors()
}

// truePosition asks the server for the page's state and returns its
// micro-step counter t (events alone do not carry it).
func truePosition(p *browserPage) float64 {
	p.t.Helper()
	return browserEval[float64](p, `window.netstep.request({cmd: 'state'}).then(() => window.netstep.model().position.t)`)
}

// shoot saves a screenshot of the page to $NETSTEP_SCREENSHOTS/name, when set.
func shoot(t *testing.T, p *browserPage, name string) {
	t.Helper()
	dir := os.Getenv("NETSTEP_SCREENSHOTS")
	if dir == "" {
		return
	}
	browserEval[any](p, `window.scrollTo(0, 0)`)
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
