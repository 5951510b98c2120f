package e2e

import (
	"strings"
	"testing"
)

// TestBrowserServerRestartLosesNothing: the learner steps, edits a weight
// and changes the learning rate; the server restarts (SIGTERM's path: every
// socket closed with 1001); the page reconnects by itself and shows the
// same lesson, settings and weights.
func TestBrowserServerRestartLosesNothing(t *testing.T) {
	first := startServer(t, "127.0.0.1:0")
	addr := strings.TrimPrefix(first.Base, "http://")

	p := newBrowserPage(t, 1280, 720, false)
	p.open("http://" + addr + "/lesson/circle")
	p.click("[data-role=step]")
	p.waitFor("the first step", `window.netstep.model().loss !== null`)
	browserEval[any](p, `window.netstep.request({cmd: 'setWeight', layer: 0, to: 1, from: 0, value: 0.625})`)
	browserEval[any](p, `window.netstep.request({cmd: 'set', learningRate: 0.07})`)
	p.waitFor("the edits", `window.netstep.model().network.weights[0][1][0] === 0.625 && window.netstep.model().training.learningRate === 0.07`)
	before := browserEval[string](p, `JSON.stringify([window.netstep.model().network.weights, window.netstep.model().network.biases])`)

	first.Stop(t)
	startServer(t, addr)
	p.waitFor("the page to reconnect and restore", `document.querySelector('[data-role=status]').textContent.includes('restored')`)
	p.waitFor("the restored state", `window.netstep.model().training && window.netstep.model().training.learningRate === 0.07`)
	after := browserEval[string](p, `JSON.stringify([window.netstep.model().network.weights, window.netstep.model().network.biases])`)
	if after != before {
		t.Errorf("weights after the restart differ:\nbefore %s\nafter  %s", before, after)
	}
	if got := browserEval[string](p, `window.netstep.model().lesson.title`); got != "Circle: an easy boundary" {
		t.Errorf("lesson after the restart: %q", got)
	}
	// And it still trains.
	browserEval[any](p, `window.netstep.request({cmd: 'step', granularity: 'epoch'})`)
	p.waitFor("an epoch after the restart", `window.netstep.model().losses && window.netstep.model().losses.length > 0`)
	p.noErrors()
}

// TestBrowserRestartAfterDivergenceFallsBack: after a few steps of the
// too-fast lesson a weight is past the lesson limits (about 1e7), so the
// page's restore (its lesson with those weights) is a lesson the server
// refuses. The page used to show the validator's error and answer every
// Step with "no lesson is loaded"; now it loads the lesson afresh, says so
// plainly, and steps.
func TestBrowserRestartAfterDivergenceFallsBack(t *testing.T) {
	first := startServer(t, "127.0.0.1:0")
	addr := strings.TrimPrefix(first.Base, "http://")

	p := newBrowserPage(t, 1280, 720, false)
	p.open("http://" + addr + "/lesson/too-fast")
	p.waitFor("the lesson", `window.netstep.model().network !== null`)
	biggest := browserEval[float64](p, `(async () => {
		const big = () => Math.max(...window.netstep.model().network.weights.flat(2).map(Math.abs));
		for (let i = 0; i < 200 && big() <= 1e6 && !window.netstep.model().diverged; i++) {
			await window.netstep.request({cmd: 'step', granularity: 'sample'});
		}
		return big();
	})()`)
	if biggest <= 1e6 {
		t.Fatalf("the too-fast lesson's biggest weight is %g after its steps; the test needs one past 1e6", biggest)
	}

	first.Stop(t)
	startServer(t, addr)
	p.waitFor("the page to say its restore fell back", `document.querySelector('[data-role=status]').textContent.includes('could not take back your trained network')`)
	p.waitFor("the lesson loaded afresh", `window.netstep.model().network && Math.max(...window.netstep.model().network.weights.flat(2).map(Math.abs)) < 1`)
	if got := browserEval[string](p, `window.netstep.model().lesson.title`); got != "Learning rate too high" {
		t.Errorf("lesson after the restart: %q", got)
	}
	// Step works: no "no lesson is loaded".
	browserEval[any](p, `window.netstep.request({cmd: 'step', granularity: 'sample'})`)
	p.waitFor("a step after the restart", `window.netstep.model().position && window.netstep.model().position.t > 0`)
	p.noErrors()
}
