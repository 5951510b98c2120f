package e2e

// What a page costs to deliver: the bytes Chromium receives (headers
// included, as the Network domain counts them) on a learner's first visit
// to each page and on a second visit with the browser's cache, held under
// issue 16's limits; and the time to the first drawn network.

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The limits of a visit, in bytes on the wire.
const (
	firstVisitLimit  = 150 << 10
	secondVisitLimit = 12 << 10
)

// wire counts what the browser receives over HTTP, per request, as the
// Network domain reports it (websocket frames are not requests and are not
// counted).
type wire struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string
	bytes    map[network.RequestID]float64
	pending  map[network.RequestID]bool
	fromDisk int
	coded    map[string]int // responses by Content-Encoding ("" for none)
}

func (w *wire) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.urls, w.bytes, w.pending, w.fromDisk = map[network.RequestID]string{}, map[network.RequestID]float64{}, map[network.RequestID]bool{}, 0
	w.coded = map[string]int{}
}

func (w *wire) listen(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if e.Type != network.ResourceTypeWebSocket {
			w.urls[e.RequestID] = e.Request.URL
			w.pending[e.RequestID] = true
		}
	case *network.EventRequestServedFromCache:
		w.fromDisk++
	case *network.EventResponseReceived:
		if e.Type != network.ResourceTypeWebSocket {
			enc, _ := e.Response.Headers["Content-Encoding"].(string)
			if enc == "" {
				enc, _ = e.Response.Headers["content-encoding"].(string)
			}
			w.coded[enc]++
		}
	case *network.EventLoadingFinished:
		if w.pending[e.RequestID] {
			w.bytes[e.RequestID] = e.EncodedDataLength
			delete(w.pending, e.RequestID)
		}
	case *network.EventLoadingFailed:
		delete(w.pending, e.RequestID)
	}
}

// total is the bytes received and the requests that received any.
func (w *wire) total() (bytes float64, requests, inFlight int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.bytes {
		bytes += n
		if n > 0 {
			requests++
		}
	}
	return bytes, requests, len(w.pending)
}

// visit opens url and waits until ready is true and the network has been
// quiet for a second (KaTeX and its fonts load after the first drawing),
// returning the bytes received and the time from the navigation's start to
// the first drawn network (or, on a page without one, the first paint, or
// the parsed document where headless Chromium records no paint), as the
// page's own clock measured it.
func (p *browserPage) visit(w *wire, url, ready string) (received float64, requests int, firstRender time.Duration) {
	p.t.Helper()
	w.reset()
	start := time.Now()
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(url)))
	deadline := start.Add(30 * time.Second)
	for {
		if v, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](ready)); err == nil && v {
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not ready (%s) within 30s", url, ready)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ms, err := chromedp.Run(p.ctx, chromedp.Evaluate[float64](`window.__drawnAt ?? performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? -1`))
	if err != nil || ms < 0 {
		p.t.Fatalf("%s: no time of the first drawing (%v)", url, err)
	}
	firstRender = time.Duration(ms * float64(time.Millisecond))
	quiet, last := time.Now(), -1.0
	for time.Since(quiet) < time.Second {
		n, _, inFlight := w.total()
		if n != last || inFlight > 0 {
			quiet, last = time.Now(), n
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: the network did not settle within 30s", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
	received, requests, _ = w.total()
	return received, requests, firstRender
}

func TestBrowserBytesOnTheWire(t *testing.T) {
	base := startBrowserServer(t)
	// The server makes its brotli copies in the background after start
	// (gzip ones are there at once), and Chromium asks for brotli from a
	// secure origin, which loopback is: measure what a class meets once
	// they are made, a few seconds after start (minutes for this race-built
	// server on a loaded CI machine).
	deadline := time.Now().Add(4 * time.Minute)
	for {
		req, _ := http.NewRequest(http.MethodHead, base+"/static/vendor/uplot/uPlot.min.js", nil)
		req.Header.Set("Accept-Encoding", "br")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("Content-Encoding") == "br" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no brotli copies within 4 minutes of start")
		}
		time.Sleep(200 * time.Millisecond)
	}
	drawn := `!!document.querySelector('[data-role=stage] svg .node-ring')`
	// A classroom's server on the school's network is reached over plain
	// HTTP, not a secure origin: the browser asks for gzip only.
	pages := []struct {
		path, ready string
		gzip        bool
	}{
		{"/", drawn, false},
		{"/", drawn, true},
		{"/lesson/spiral", drawn, false},
		{"/embed?lesson=spiral", drawn, false},
		{"/join", `document.readyState === 'complete' && !!document.querySelector('input')`, false},
	}
	for _, pg := range pages {
		name := pg.path
		if pg.gzip {
			name += " over plain HTTP (gzip)"
		}
		t.Run(name, func(t *testing.T) {
			// A fresh browser profile: an empty cache, as a student's first
			// visit.
			p := newBrowserPage(t, 1280, 800, false)
			w := &wire{}
			w.reset()
			// chromedp enables the Network domain on every tab.
			p.do(chromedp.Listen(p.ctx, w.listen))
			if pg.gzip {
				p.do(chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
					_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Encoding": "gzip, deflate"}})
					return err
				})))
			}
			p.do(chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
					new MutationObserver((_, seen) => {
						if (document.querySelector('[data-role=stage] svg .node-ring')) {
							window.__drawnAt = performance.now();
							seen.disconnect();
						}
					}).observe(document, {subtree: true, childList: true});`})
				return err
			})))
			first, n1, render1 := p.visit(w, base+pg.path, pg.ready)
			if pg.gzip && (w.coded["gzip"] == 0 || w.coded["br"] > 0) {
				t.Errorf("responses by encoding %v, want gzip and no brotli", w.coded)
			}
			// Away and back: a second visit, as a new navigation (not a
			// reload, which would revalidate everything on purpose).
			p.do(chromedp.Do(p.ctx, chromedp.Navigate("about:blank")))
			second, n2, render2 := p.visit(w, base+pg.path, pg.ready)
			t.Logf("%s: first visit %.1f KiB in %d requests, drawn in %v; second visit %.1f KiB in %d requests, drawn in %v",
				pg.path, first/1024, n1, render1.Round(time.Millisecond), second/1024, n2, render2.Round(time.Millisecond))
			if first > firstVisitLimit {
				t.Errorf("first visit: %.1f KiB on the wire, limit %d KiB", first/1024, firstVisitLimit>>10)
			}
			if second > secondVisitLimit {
				t.Errorf("second visit: %.1f KiB on the wire, limit %d KiB", second/1024, secondVisitLimit>>10)
			}
			if first < 1024 {
				t.Errorf("first visit: %.0f bytes; the count is broken", first)
			}
			p.noErrors()
		})
	}
}
