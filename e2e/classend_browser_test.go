package e2e

// The classroom's edges in the browser: the end of a class on both sides,
// the join link when the teacher's page is open at a loopback address, a
// class opened from a lesson of the teacher's own, and a full room.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// endClass presses End the class on the presenter's page, saying yes to
// its confirmation.
func endClass(p *browserPage) {
	p.t.Helper()
	browserEval[bool](p, `(window.confirm = () => true, true)`)
	p.click("[data-role=room-end]")
}

func TestBrowserClassEnds(t *testing.T) {
	base := startBrowserServer(t)
	_, presenterURL, joinURL := openRoom(t, base, "house-prices")
	teacher := newBrowserPage(t, 1920, 1080, false)
	teacher.open(presenterURL)
	students := []*browserPage{newBrowserPage(t, 390, 844, false), newBrowserPage(t, 1280, 800, false)}
	for _, s := range students {
		follow(s, joinURL)
	}
	teacher.waitFor("two students", `document.querySelector('[data-role=room-followers]').textContent === '2 students following'`)
	teacher.click("[data-role=step]")
	teacher.waitFor("the teacher's step", `window.netstep.model().loss !== null`)
	for _, s := range students {
		s.waitFor("the teacher's step on a student's page", `window.netstep.model().loss !== null`)
	}

	endClass(teacher)
	// The teacher's page says so, and offers nothing that drives a class
	// that is gone: no count, no End, no join link, no Step.
	teacher.waitFor("the end on the teacher's page", `document.querySelector('[data-role=room-followers]').textContent.includes('class has ended')`)
	visible := `(sel) => { const e = document.querySelector(sel); return !!e && e.getClientRects().length > 0; }`
	for _, sel := range []string{"[data-role=room-end]", "[data-role=join-card-open]", ".room-qr", ".room-how", "[data-role=vote-ask]"} {
		if browserEval[bool](teacher, "("+visible+")("+fmt.Sprintf("%q", sel)+")") {
			t.Errorf("the teacher's page still shows %s after the class ended", sel)
		}
	}
	if got := browserEval[string](teacher, `document.querySelector('[data-role=room-followers]').textContent`); strings.Contains(got, "following") {
		t.Errorf("the teacher's page still says %q", got)
	}
	if !browserEval[bool](teacher, `document.querySelector('[data-role=step]').disabled`) {
		t.Error("the teacher's Step is enabled in a class that has ended")
	}
	shoot(t, teacher, "presenter-ended.png")

	// Each student's page says so, and the student may go on alone from
	// the last state.
	for i, s := range students {
		s.waitFor("the end on a student's page", `document.querySelector('[data-role=room-mode]').textContent.includes('ended the class')`)
		if got := browserEval[string](s, `document.querySelector('[data-role=room-bar]').innerText`); strings.Contains(got, "You see what your teacher sees") {
			t.Errorf("student %d's bar still says %q", i, got)
		}
		if !browserEval[bool](s, "("+visible+")('[data-role=room-explore]') && !document.querySelector('[data-role=room-explore]').disabled") {
			t.Errorf("student %d cannot explore the last state", i)
		}
		shoot(t, s, fmt.Sprintf("student%d-ended.png", i))
	}
	s := students[0]
	weights := `JSON.stringify([window.netstep.model().network.weights, window.netstep.model().network.biases])`
	last := browserEval[string](s, weights)
	s.click("[data-role=room-explore]")
	s.waitFor("exploring the last state", `window.netstep.mode() === 'explore' && !document.querySelector('[data-role=step]').disabled && document.querySelector('[data-role=room-mode]').textContent.includes('on your own')`)
	if got := browserEval[string](s, weights); got != last {
		t.Errorf("exploring starts with weights %s, the class ended with %s", got, last)
	}
	s.click("[data-role=step]")
	s.waitFor("the student's own step", `window.netstep.model().canBack`)
	teacher.noErrors()
	for _, s := range students {
		s.noErrors()
	}
}

func TestBrowserJoinLinkFromLoopback(t *testing.T) {
	// Listening on every interface: the machine's network addresses are
	// offered; the page itself is open at localhost.
	base := startProgram(t, "0.0.0.0:0")
	if !strings.Contains(base, "localhost") {
		t.Fatalf("the page is at %s, want a loopback address", base)
	}
	code, presenterURL, _ := openRoom(t, base, "xor")
	resp, err := http.Get(base + "/api/addresses")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Addresses []string }
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := newBrowserPage(t, 1280, 800, false)
	p.open(presenterURL)
	p.waitFor("the loopback warning", `!!document.querySelector('[data-role=room-warning]')`)
	if got := browserEval[string](p, `document.querySelector('[data-role=room-warning]').textContent`); !strings.Contains(got, "students' phones cannot reach") {
		t.Errorf("the warning says %q", got)
	}
	checkNoInventedAddress(t, p, list.Addresses)
	if len(list.Addresses) == 0 {
		// A machine with no network interface but loopback: nothing to
		// offer, and the page says how to listen on the network.
		p.waitFor("the advice", `document.querySelector('[data-role=room-warning]').textContent.includes('--addr 0.0.0.0:' + location.port)`)
		return
	}
	p.waitFor("the address picker", `!!document.querySelector('[data-role=room-address]')`)
	if got := browserEval[[]string](p, `[...document.querySelector('[data-role=room-address]').options].map((o) => o.value)`); fmt.Sprint(got) != fmt.Sprint(list.Addresses) {
		t.Errorf("the picker offers %v, the server's addresses are %v", got, list.Addresses)
	}
	linkAndQR := `[document.querySelector('.room-link').textContent, document.querySelector('[data-role=join-card-link]').textContent, document.querySelector('.room-qr').getAttribute('src'), document.querySelector('.join-card-qr').getAttribute('src')]`
	for i, a := range list.Addresses {
		if i > 0 {
			p.do(chromedp.Do(p.ctx, chromedp.SetValue(chromedp.CSS("[data-role=room-address]"), a)))
			browserEval[bool](p, `document.querySelector('[data-role=room-address]').dispatchEvent(new Event('change'))`)
		}
		got := browserEval[[]string](p, linkAndQR)
		link, qr := a+"/join/"+code, "/api/rooms/"+code+"/qr?base="+url.QueryEscape(a)
		if want := []string{link, link, qr, qr}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("with %s chosen, the links and QR codes are %q, want %q", a, got, want)
		}
		p.waitFor("the QR code of the chosen address", `(() => { const i = document.querySelector('.room-qr'); return i.complete && i.naturalWidth > 100; })()`)
	}
	p.noErrors()
}

func TestBrowserTeachOwnLesson(t *testing.T) {
	base := startBrowserServer(t)
	// A lesson of the teacher's own, as a #lesson= link carries it.
	raw, err := os.ReadFile("testdata/own-lesson.json")
	if err != nil {
		t.Fatal(err)
	}

	p := newBrowserPage(t, 1280, 800, false)
	p.open(base + "/?questions=off#lesson=" + base64.RawURLEncoding.EncodeToString(raw))
	if got := browserEval[string](p, `document.querySelector('[data-role=lesson-title]').textContent`); got != "Our own OR" {
		t.Fatalf("the page shows lesson %q, want Our own OR", got)
	}
	// The teacher trains a little first: the class starts exactly there.
	p.do(chromedp.Do(p.ctx, chromedp.SetValue(chromedp.CSS("[data-role=granularity]"), "epoch")))
	browserEval[bool](p, `document.querySelector('[data-role=granularity]').dispatchEvent(new Event('change'))`)
	p.click("[data-role=step]")
	p.waitFor("an epoch", `window.netstep.model().canBack && !document.querySelector('.pending') && !window.netstep.model().running`)
	// Where training is, the weights, the losses so far and Back: all of it.
	where := `JSON.stringify([window.netstep.model().position, window.netstep.model().network.weights, window.netstep.model().network.biases, window.netstep.model().losses.map((l) => [l.epoch, l.trainLoss]), window.netstep.model().canBack])`
	want := browserEval[string](p, where)

	p.click("[data-role=start-room]")
	p.waitFor("the presenter's page", `location.pathname.startsWith('/present/') && !!window.netstep && !!window.netstep.model().network`)
	if got := browserEval[string](p, `document.querySelector('[data-role=lesson-title]').textContent`); got != "Our own OR" {
		t.Errorf("the class shows lesson %q, want Our own OR", got)
	}
	if got := browserEval[string](p, `document.querySelector('[data-role=lesson-select]').selectedOptions[0].textContent`); got != "Your own: Our own OR" {
		t.Errorf("the lesson list shows %q, want Your own: Our own OR", got)
	}
	if got := browserEval[string](p, where); got != want {
		t.Errorf("the class starts at %s, the teacher was at %s", got, want)
	}
	shoot(t, p, "presenter-own-lesson.png")
	p.noErrors()
}

func TestBrowserRoomFull(t *testing.T) {
	// Every page here comes from one address: one student per address.
	base := startProgram(t, "127.0.0.1:0", "--followers-per-address", "1")
	_, presenterURL, joinURL := openRoom(t, base, "xor")
	teacher := newBrowserPage(t, 1280, 800, false)
	teacher.open(presenterURL)
	first := newBrowserPage(t, 390, 844, false)
	follow(first, joinURL)
	teacher.waitFor("one student", `document.querySelector('[data-role=room-followers]').textContent === '1 student following'`)

	late := newBrowserPage(t, 390, 844, false)
	late.do(chromedp.Do(late.ctx, chromedp.Navigate(joinURL)))
	late.waitFor("the room-full message", `document.querySelector('[data-role=status]').textContent.includes('This room is full')`)
	time.Sleep(2 * time.Second) // longer than the first reconnection's back-off
	status := browserEval[string](late, `document.querySelector('[data-role=status]').textContent`)
	if !strings.Contains(status, "This room is full") || strings.Contains(status, "Reconnecting") {
		t.Errorf("the late student's page says %q, want that the room is full", status)
	}
	if got := late.narration(); !strings.Contains(got, "This room is full") {
		t.Errorf("the late student's narration says %q", got)
	}
	if got := browserEval[string](late, `document.querySelector('[data-role=room-bar]').innerText`); strings.Contains(got, "You see what your teacher sees") || strings.Contains(got, "Explore") {
		t.Errorf("the late student's bar says %q, as if following", got)
	}
	shoot(t, late, "student-room-full.png")
	if got := browserEval[string](teacher, `document.querySelector('[data-role=room-followers]').textContent`); got != "1 student following" {
		t.Errorf("the teacher's page says %q, want 1 student following", got)
	}
	late.noErrors()
}

// TestBrowserJoinLinkLoopbackOnly: a server listening on this computer
// only has no network address to offer; the warning says how to listen on
// the network, at this port, and shows no made-up address.
func TestBrowserJoinLinkLoopbackOnly(t *testing.T) {
	base := startProgram(t, "127.0.0.1:0")
	_, presenterURL, _ := openRoom(t, base, "xor")
	p := newBrowserPage(t, 1280, 800, false)
	p.open(presenterURL)
	p.waitFor("the advice", `(document.querySelector('[data-role=room-warning]')?.textContent ?? '').includes('--addr 0.0.0.0:' + location.port)`)
	checkNoInventedAddress(t, p, nil)
	if n := browserEval[int](p, `document.querySelectorAll('[data-role=room-address]').length`); n != 0 {
		t.Errorf("%d address pickers with no address to offer", n)
	}
	p.noErrors()
}

// checkNoInventedAddress fails when the loopback warning names an IPv4
// address other than the server's own network addresses.
func checkNoInventedAddress(t *testing.T, p *browserPage, own []string) {
	t.Helper()
	// The words only: a picker's options are the server's own addresses.
	said := browserEval[string](p, `(() => { const w = document.querySelector('[data-role=room-warning]').cloneNode(true); w.querySelectorAll('select').forEach((s) => s.remove()); return w.textContent; })()`)
	// The page's own host (127.0.0.1) and the flag's every-interface
	// 0.0.0.0 are no invention.
	page := browserEval[string](p, `location.hostname`)
	for _, ip := range regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+\b`).FindAllString(said, -1) {
		if ip == "0.0.0.0" || ip == page || slices.ContainsFunc(own, func(a string) bool { return strings.Contains(a, ip) }) {
			continue
		}
		t.Errorf("the warning names %s, which is not one of this server's addresses %v: %q", ip, own, said)
	}
}
