package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/netstep/netstep/web"
)

// describedCatalog has a 2-D lesson with points, for the gallery.
var describedCatalog = web.Catalog{
	{Name: "house-prices", Title: "Guess, measure, adjust, repeat", Summary: "Prices from size, bedrooms and age.", Layers: []int{3, 4, 1}},
	{Name: "cat-or-dog", Title: "Cat or dog?", Summary: "A confidence as the output.", Layers: []int{2, 1}},
	{Name: "circle", Title: "Circle: an easy boundary", Summary: "A boundary in the plane.", Layers: []int{2, 8, 1},
		Points: []web.Point{{X1: 0, X2: 1, Class: 1}, {X1: 4, X2: -4, Class: 0}}},
}

func newEmbedHandler(t *testing.T, opts web.Options) http.Handler {
	t.Helper()
	if opts.Lessons == nil {
		opts.Lessons = describedCatalog
	}
	h, err := web.New(opts)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	return h
}

func TestFrameHeaders(t *testing.T) {
	open := newEmbedHandler(t, web.Options{})
	narrow := newEmbedHandler(t, web.Options{EmbedOrigins: []string{"https://moodle.example.edu", "http://localhost:3000/"}})
	tests := []struct {
		name      string
		h         http.Handler
		path      string
		status    int
		ancestors string
	}{
		{"embed", open, "/embed?lesson=circle", 200, "frame-ancestors *"},
		{"embed inline", open, "/embed", 200, "frame-ancestors *"},
		{"embed unknown lesson", open, "/embed?lesson=nope", 404, "frame-ancestors *"},
		{"embed narrowed", narrow, "/embed?lesson=circle", 200, "frame-ancestors https://moodle.example.edu http://localhost:3000"},
		{"index", open, "/", 200, "frame-ancestors 'self'"},
		{"lesson", open, "/lesson/circle", 200, "frame-ancestors 'self'"},
		{"gallery", open, "/lessons", 200, "frame-ancestors 'self'"},
		{"narrowed index", narrow, "/", 200, "frame-ancestors 'self'"},
		{"not found", open, "/nope", 404, "frame-ancestors 'none'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, tt.h, tt.path)
			if got, want := res.StatusCode, tt.status; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			csp := res.Header.Get("Content-Security-Policy")
			if !strings.HasSuffix(csp, tt.ancestors) {
				t.Errorf("CSP = %q, want it to end with %q", csp, tt.ancestors)
			}
			if tt.status == 200 && !strings.Contains(csp, "script-src 'self' 'sha256-") {
				t.Errorf("CSP = %q lost script-src 'self' and the import map's hash", csp)
			}
			if got := res.Header.Get("X-Frame-Options"); got != "" {
				t.Errorf("X-Frame-Options = %q, want none", got)
			}
			if strings.Contains(body, "<script>") {
				t.Error("page has an inline script")
			}
		})
	}
}

func TestEmbedPage(t *testing.T) {
	h := newEmbedHandler(t, web.Options{EmbedOrigins: []string{"https://a.example"}})
	_, body := get(t, h, "/embed?lesson=circle&theme=dark&controls=step")
	for _, want := range []string{`data-lesson="circle"`, `data-theme="dark"`, `data-origins="https://a.example"`, `src="/static/js/embed-main.js?v=`, "Circle: an easy boundary"} {
		if !strings.Contains(body, want) {
			t.Errorf("embed page lacks %q", want)
		}
	}
	for _, chrome := range []string{`data-role="lesson-select"`, `class="brand"`} {
		if strings.Contains(body, chrome) {
			t.Errorf("embed page has site chrome %q", chrome)
		}
	}
	_, body = get(t, h, "/embed?theme=%22%3E%3Cscript%3E")
	if !strings.Contains(body, `data-theme="auto"`) || strings.Contains(body, "<script>") {
		t.Error("a bad theme is not replaced by auto")
	}
}

func TestEmbedOriginsChecked(t *testing.T) {
	for _, bad := range []string{"moodle.example.edu", "ftp://a.example", "https://a.example/path", "https://a.example?x", "https://a b", "https://a.example;script-src *", "*"} {
		if _, err := web.New(web.Options{Lessons: describedCatalog, EmbedOrigins: []string{bad}}); err == nil {
			t.Errorf("EmbedOrigins %q accepted", bad)
		}
	}
}

func TestEmbedScript(t *testing.T) {
	res, body := get(t, newEmbedHandler(t, web.Options{}), "/embed.js")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type = %q, want text/javascript", ct)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	// Sent minified: compared without spaces.
	for _, want := range []string{"iframe[data-netstep]", "netstep:resize", "contentWindow===source"} {
		if !strings.Contains(strings.ReplaceAll(body, " ", ""), want) {
			t.Errorf("embed.js lacks %q", want)
		}
	}
}

func TestStaticForSandboxedEmbeds(t *testing.T) {
	h := newEmbedHandler(t, web.Options{})
	for _, path := range []string{"/static/js/embed-main.js", "/static/js/app.js", "/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2"} {
		res, _ := get(t, h, path)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("%s: Access-Control-Allow-Origin = %q; a sandboxed embed (origin null) could not load it", path, got)
		}
	}
}

func getHost(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "netstep.example:8080"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

func TestOEmbed(t *testing.T) {
	h := newEmbedHandler(t, web.Options{})
	q := func(u string, extra string) string {
		return "/oembed?url=" + url.QueryEscape(u) + extra
	}
	const site = "http://netstep.example:8080"
	tests := []struct {
		name          string
		path          string
		status        int
		width, height int
		lesson        string
	}{
		{"lesson page", q(site+"/lesson/circle", "&format=json"), 200, 800, 600, "circle"},
		{"no format means json", q(site+"/lesson/cat-or-dog", ""), 200, 800, 600, "cat-or-dog"},
		{"embed url", q(site+"/embed?lesson=circle&theme=dark", ""), 200, 800, 600, "circle"},
		{"maxwidth", q(site+"/lesson/circle", "&format=json&maxwidth=500"), 200, 500, 600, "circle"},
		{"maxheight", q(site+"/lesson/circle", "&maxheight=300"), 200, 800, 300, "circle"},
		{"both bigger than needed", q(site+"/lesson/circle", "&maxwidth=2000&maxheight=2000"), 200, 800, 600, "circle"},
		{"https link to the same host", q("https://netstep.example:8080/lesson/circle", ""), 200, 800, 600, "circle"},
		{"foreign host", q("http://evil.example/lesson/circle", ""), 404, 0, 0, ""},
		{"same host, other port", q("http://netstep.example:9090/lesson/circle", ""), 404, 0, 0, ""},
		{"unknown lesson", q(site+"/lesson/nope", ""), 404, 0, 0, ""},
		{"not a lesson page", q(site+"/lessons", ""), 404, 0, 0, ""},
		{"embed without lesson", q(site+"/embed", ""), 404, 0, 0, ""},
		{"not http", q("javascript:alert(1)", ""), 404, 0, 0, ""},
		{"xml", q(site+"/lesson/circle", "&format=xml"), 501, 0, 0, ""},
		{"no url", "/oembed?format=json", 400, 0, 0, ""},
		{"bad maxwidth", q(site+"/lesson/circle", "&maxwidth=wide"), 400, 0, 0, ""},
		{"zero maxheight", q(site+"/lesson/circle", "&maxheight=0"), 400, 0, 0, ""},
		{"negative maxwidth", q(site+"/lesson/circle", "&maxwidth=-5"), 400, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := getHost(t, h, tt.path)
			if got, want := res.StatusCode, tt.status; got != want {
				t.Fatalf("status = %d, want %d (%s)", got, want, body)
			}
			if tt.status != 200 {
				return
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			var r map[string]any
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]any{"type": "rich", "version": "1.0", "provider_name": "netstep", "provider_url": site + "/"} {
				if r[k] != want {
					t.Errorf("%s = %v, want %v", k, r[k], want)
				}
			}
			if got, want := int(r["width"].(float64)), tt.width; got != want {
				t.Errorf("width = %d, want %d", got, want)
			}
			if got, want := int(r["height"].(float64)), tt.height; got != want {
				t.Errorf("height = %d, want %d", got, want)
			}
			title, _ := describedCatalog.Title(tt.lesson)
			if r["title"] != title {
				t.Errorf("title = %v, want %q", r["title"], title)
			}
			html, _ := r["html"].(string)
			for _, want := range []string{`<iframe src="` + site + `/embed?lesson=` + tt.lesson + `"`, `data-netstep`, `width="` + strconv.Itoa(tt.width) + `"`, `height="` + strconv.Itoa(tt.height) + `"`} {
				if !strings.Contains(html, want) {
					t.Errorf("html %q lacks %q", html, want)
				}
			}
		})
	}
}

func TestOEmbedProxyScheme(t *testing.T) {
	for _, tt := range []struct {
		name  string
		trust bool
		want  string
	}{
		{"ignored by default", false, "http://netstep.example:8080/embed"},
		{"trusted when asked", true, "https://netstep.example:8080/embed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newEmbedHandler(t, web.Options{TrustProxy: trusted(tt.trust)})
			req := httptest.NewRequest(http.MethodGet, "/oembed?url="+url.QueryEscape("https://netstep.example:8080/lesson/circle"), nil)
			req.Host = "netstep.example:8080"
			req.Header.Set("X-Forwarded-Proto", "https")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("answer %s lacks %q", rec.Body.String(), tt.want)
			}
		})
	}
}

func TestOEmbedDiscovery(t *testing.T) {
	h := newEmbedHandler(t, web.Options{})
	_, body := getHost(t, h, "/lesson/circle")
	want := `<link rel="alternate" type="application/json+oembed" href="http://netstep.example:8080/oembed?format=json&amp;url=http%3A%2F%2Fnetstep.example%3A8080%2Flesson%2Fcircle"`
	if !strings.Contains(body, want) {
		t.Errorf("lesson page lacks the discovery link %s", want)
	}
}

func TestGallery(t *testing.T) {
	h := newEmbedHandler(t, web.Options{})
	res, body := get(t, h, "/lessons")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, l := range describedCatalog {
		for _, want := range []string{`href="/lesson/` + l.Name + `"`, l.Summary} {
			if !strings.Contains(body, want) {
				t.Errorf("gallery lacks %q", want)
			}
		}
	}
	if got, want := strings.Count(body, `<svg class="preview"`), len(describedCatalog); got != want {
		t.Errorf("%d previews, want %d", got, want)
	}
	if !strings.Contains(body, "3 inputs → 4 → 1 output") {
		t.Error("the house-prices shape is not described")
	}
	if !strings.Contains(body, `class="preview-points"`) || strings.Count(body, `class="class-`) != 2 {
		t.Error("the circle's points are not drawn")
	}
	// A catalog without descriptions still gets a gallery of titles.
	_, body = get(t, newHandler(t), "/lessons")
	if !strings.Contains(body, "Cat or dog?") {
		t.Error("plain catalog: no titles")
	}
}

// TestOEmbedBehindTrustedProxy: behind a trusted proxy the lesson URL a
// consumer asks about carries the proxy's host, and so do the answer's links.
func TestOEmbedBehindTrustedProxy(t *testing.T) {
	h := newEmbedHandler(t, web.Options{TrustProxy: trusted(true)})
	req := httptest.NewRequest(http.MethodGet, "/oembed?url="+url.QueryEscape("https://course.example.org/lesson/circle"), nil)
	req.Host = "10.0.0.7:8080"
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "course.example.org")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `https://course.example.org/embed?lesson=circle`) {
		t.Errorf("answer %d %s, want the proxy's host in the links", rec.Code, rec.Body.String())
	}
}
