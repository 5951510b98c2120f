package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveOn runs the program on addr until stop is called.
func serveOn(t *testing.T, addr string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr}, func(string) string { return "" }, io.Discard, io.Discard)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("the server did not answer /healthz")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop within 10s")
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestBrowserServerRestartLosesNothing: the learner steps, edits a weight
// and changes the learning rate; the server restarts (SIGTERM's path: every
// socket closed with 1001); the page reconnects by itself and shows the
// same lesson, settings and weights.
func TestBrowserServerRestartLosesNothing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	stop := serveOn(t, addr)

	p := newBrowserPage(t, 1280, 720, false)
	p.open("http://" + addr + "/lesson/circle")
	p.click("[data-role=step]")
	p.waitFor("the first step", `window.netstep.model().loss !== null`)
	browserEval[any](p, `window.netstep.request({cmd: 'setWeight', layer: 0, to: 1, from: 0, value: 0.625})`)
	browserEval[any](p, `window.netstep.request({cmd: 'set', learningRate: 0.07})`)
	p.waitFor("the edits", `window.netstep.model().network.weights[0][1][0] === 0.625 && window.netstep.model().training.learningRate === 0.07`)
	before := browserEval[string](p, `JSON.stringify([window.netstep.model().network.weights, window.netstep.model().network.biases])`)

	stop()
	serveOn(t, addr)
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
