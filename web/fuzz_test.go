package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/netstep/netstep/web"
)

// FuzzOEmbed feeds /oembed any url, format and maxima: the answer is one of
// the documented statuses, never a panic, and a 200 is valid oEmbed JSON
// within the maxima whose iframe points at this server's /embed.
func FuzzOEmbed(f *testing.F) {
	f.Add("http://netstep.example:8080/lesson/circle", "json", "500", "300")
	f.Add("http://netstep.example:8080/embed?lesson=circle&theme=dark", "", "", "")
	f.Add("http://evil.example/lesson/circle", "xml", "-1", "1e99")
	f.Add("javascript:alert(1)", "json", "0", "abc")
	f.Add("http://netstep.example:8080/lesson/%00", "json", "99999999999999999999", "")
	f.Fuzz(func(t *testing.T, target, format, maxw, maxh string) {
		h := newFuzzHandler(t)
		q := url.Values{"url": {target}}
		if format != "" {
			q.Set("format", format)
		}
		if maxw != "" {
			q.Set("maxwidth", maxw)
		}
		if maxh != "" {
			q.Set("maxheight", maxh)
		}
		req := httptest.NewRequest(http.MethodGet, "/oembed?"+q.Encode(), nil)
		req.Host = "netstep.example:8080"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200:
		case 400, 404, 501:
			return
		default:
			t.Fatalf("status %d for %q", rec.Code, req.URL)
		}
		var got struct {
			Type, Version, HTML string
			Width, Height       int
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("200 with invalid JSON %q: %v", rec.Body.String(), err)
		}
		if got.Type != "rich" || got.Version != "1.0" || !strings.Contains(got.HTML, "http://netstep.example:8080/embed?") {
			t.Fatalf("unexpected oEmbed answer %+v", got)
		}
		for _, lim := range []struct {
			raw string
			v   int
		}{{maxw, got.Width}, {maxh, got.Height}} {
			if n, err := strconv.Atoi(lim.raw); err == nil && n > 0 && lim.v > n {
				t.Fatalf("size %d past the maximum %d", lim.v, n)
			}
		}
	})
}

// One handler for every input: templates and previews are built once.
var (
	fuzzOnce    sync.Once
	fuzzHandler http.Handler
)

func newFuzzHandler(t *testing.T) http.Handler {
	fuzzOnce.Do(func() { fuzzHandler = newEmbedHandler(t, web.Options{}) })
	return fuzzHandler
}
