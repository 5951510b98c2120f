package e2e

// Class votes in the browser: a presenter and two students on one server.
// The presenter's lesson reaches its first question; both students see it
// and vote; the presenter's tally counts them; Reveal takes the step and
// the answer, the spread and the explanation appear on every page.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// openRoom opens a room with lesson and returns its code and links.
func openRoom(t *testing.T, base, lesson string) (code, presenterURL, joinURL string) {
	t.Helper()
	resp, err := http.Post(base+"/api/rooms", "application/json", strings.NewReader(`{"lesson":"`+lesson+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct {
		Code, PresenterURL, JoinURL string
	}
	err = json.NewDecoder(resp.Body).Decode(&room)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/rooms: %d %v", resp.StatusCode, err)
	}
	return room.Code, room.PresenterURL, room.JoinURL
}

// follow opens a student's page on the room and waits for its state.
func follow(p *browserPage, joinURL string) {
	p.t.Helper()
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(joinURL)))
	p.waitFor("the room's state", `!!window.netstep && !!window.netstep.model().network && !!document.querySelector('[data-role=stage] svg .node-ring')`)
}

func TestBrowserClassVote(t *testing.T) {
	base := startBrowserServer(t)
	_, presenterURL, joinURL := openRoom(t, base, "house-prices")

	teacher := newBrowserPage(t, 1920, 1080, false)
	path, frag, _ := strings.Cut(presenterURL, "#")
	teacher.do(chromedp.Do(teacher.ctx, chromedp.Navigate(path+"#"+frag))) // with the lesson's questions on
	teacher.waitFor("the presenter's page", `!!window.netstep && !!window.netstep.model().network && !document.querySelector('[data-role=step]').disabled`)
	students := []*browserPage{newBrowserPage(t, 390, 844, false), newBrowserPage(t, 1280, 800, false)}
	for _, s := range students {
		follow(s, joinURL)
	}
	teacher.waitFor("two students", `document.querySelector('[data-role=room-followers]').textContent === '2 students following'`)

	// An example at a time: the first step reaches the lesson's first
	// question (will the output's bias go up or down?), which goes to the
	// class instead of the teacher.
	teacher.do(chromedp.Do(teacher.ctx, chromedp.SetValue(chromedp.CSS("[data-role=granularity]"), "sample")))
	teacher.click("[data-role=step]")
	teacher.waitFor("the question to the class", `!document.querySelector('[data-role=vote]').hidden && !!document.querySelector('[data-role=vote-reveal]')`)
	if !browserEval[bool](teacher, `document.querySelector('[data-role=ask]').hidden`) {
		t.Error("the presenter was asked the question too")
	}
	ask := browserEval[string](teacher, `document.querySelector('[data-role=vote] .ask-question').textContent`)
	if !strings.Contains(ask, "bias go up or down") {
		t.Errorf("the class is asked %q", ask)
	}
	for i, s := range students {
		s.waitFor(fmt.Sprintf("the question on student %d's page", i), fmt.Sprintf(`document.querySelector('[data-role=vote] .ask-question')?.textContent === %q && document.querySelectorAll('[data-role=vote] [data-choice]').length === 2`, ask))
	}
	// On the phone the panel is under the diagram: the question comes into
	// view by itself, choices and all.
	students[0].waitFor("the choices on the phone's screen", `(() => { const r = document.querySelector('[data-role=vote] .ask-choices').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`)
	// Every choice's bar has the same track, so equal counts draw equal bars.
	if got := browserEval[int](teacher, `new Set([...document.querySelectorAll('[data-role=vote] .vote-bar')].map((e) => Math.round(e.getBoundingClientRect().width))).size`); got != 1 {
		t.Errorf("the tally's bars have %d different widths, want one", got)
	}
	// The students' narration is the teacher's: the summary of the small
	// steps up to the question, with the guess and the loss in it.
	say := teacher.narration()
	if !strings.Contains(say, "Predicted") && !strings.Contains(say, "guess") {
		t.Logf("the teacher's narration: %q", say)
	}
	for i, s := range students {
		s.waitFor(fmt.Sprintf("the teacher's narration on student %d's page", i), fmt.Sprintf(`document.querySelector('[data-role=narration] .say').textContent === %q`, say))
	}
	// Student 0 says up, then changes its mind; student 1 says down.
	students[0].click(`[data-role=vote] button[data-choice="0"]`)
	students[0].waitFor("the first answer noted", `document.querySelector('[data-role=vote-note]').textContent.startsWith('Your answer: It will go up')`)
	students[0].click(`[data-role=vote] button[data-choice="1"]`)
	students[1].click(`[data-role=vote] button[data-choice="1"]`)
	teacher.waitFor("both votes in the tally", `document.querySelector('[data-role=vote-answered]').textContent === '2 of 2 students answered' && [...document.querySelectorAll('[data-role=vote] .vote-count')].map((e) => e.textContent).join('|') === '0 · 0%|2 · 100%'`)
	students[0].waitFor("the tally on a student's page", `document.querySelector('[data-role=vote-answered]').textContent === '2 of 2 students answered'`)
	shoot(t, teacher, "vote-presenter-tally.png")
	shoot(t, students[0], "vote-student-phone.png")

	// Reveal: the teacher's page takes the step; every page shows the
	// answer the engine's update gave, the spread and the explanation.
	teacher.click("[data-role=vote-reveal]")
	teacher.waitFor("the reveal", `!!document.querySelector('[data-role=vote-detail]')`)
	detail := browserEval[string](teacher, `document.querySelector('[data-role=vote-detail]').textContent`)
	up := strings.Contains(detail, "went up")
	if !strings.HasPrefix(detail, "The bias went ") {
		t.Fatalf("the reveal says %q", detail)
	}
	right := "1"
	if up {
		right = "0"
	}
	for i, p := range append([]*browserPage{teacher}, students...) {
		p.waitFor(fmt.Sprintf("the reveal on page %d", i), fmt.Sprintf(`document.querySelector('[data-role=vote-detail]')?.textContent === %q`, detail))
		if got := browserEval[string](p, `document.querySelector('[data-role=vote] .vote-row[data-right="true"]')?.dataset.choice ?? ''`); got != right {
			t.Errorf("page %d marks choice %q right, want %s (%s)", i, got, right, detail)
		}
		if got := browserEval[string](p, `document.querySelector('[data-role=vote] .ask-why')?.textContent ?? ''`); !strings.Contains(got, "added straight onto the guessed price") {
			t.Errorf("page %d's explanation: %q", i, got)
		}
		if got := browserEval[string](p, `[...document.querySelectorAll('[data-role=vote] .vote-count')].map((e) => e.textContent).join('|')`); got != "0 · 0%|2 · 100%" {
			t.Errorf("page %d's spread: %q", i, got)
		}
	}
	shoot(t, students[0], "vote-student-reveal.png")

	// The class moves on: the teacher's next step clears the answered
	// question from every screen.
	if !browserEval[bool](students[1], `!document.querySelector('[data-role=vote]').hidden`) {
		t.Fatal("the reveal is gone before the class moved on")
	}
	updates := browserEval[int](teacher, `window.netstep.model().position.updates`)
	teacher.click("[data-role=step]")
	teacher.waitFor("the next example", fmt.Sprintf(`window.netstep.model().position.updates > %d`, updates))
	for i, p := range append([]*browserPage{teacher}, students...) {
		p.waitFor(fmt.Sprintf("the reveal gone from page %d", i), `document.querySelector('[data-role=vote]').hidden && !document.querySelector('[data-role=vote-detail]')`)
	}
	for _, p := range append([]*browserPage{teacher}, students...) {
		p.noErrors()
	}
}
