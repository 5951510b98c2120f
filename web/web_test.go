package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/netstep/netstep/external"
	"github.com/netstep/netstep/web"
)

var catalog = web.Catalog{
	{Name: "house-prices", Title: "Guess, measure, adjust, repeat"},
	{Name: "cat-or-dog", Title: "Cat or dog?"},
}

func newHandler(t *testing.T) http.Handler {
	t.Helper()
	h, err := web.New(web.Options{Lessons: catalog, DefaultLesson: "house-prices"})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	return h
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestPages(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		name, path string
		status     int
		contains   []string
	}{
		{"index", "/", 200, []string{"Guess, measure, adjust, repeat", `data-lesson="house-prices"`, `src="/static/js/main.js?v=`, `<link rel="icon" href="/static/img/favicon.svg`}},
		{"lesson", "/lesson/cat-or-dog", 200, []string{"<title>Cat or dog? · netstep</title>", `data-lesson="cat-or-dog"`, `<option value="cat-or-dog" selected>`}},
		{"unknown lesson", "/lesson/nope", 404, []string{"no lesson called"}},
		{"escaped lesson", "/lesson/%3Cscript%3E", 404, nil},
		{"unknown page", "/nope", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, h, tt.path)
			if got, want := res.StatusCode, tt.status; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body does not contain %q", s)
				}
			}
			if strings.Contains(body, "<script>") || strings.Contains(body, " onclick=") {
				t.Errorf("page has an inline script or handler")
			}
			wantCSP := "default-src 'none'; frame-ancestors 'none'"
			if tt.status == 200 {
				wantCSP = strings.Replace(web.ContentSecurityPolicy, "script-src 'self'", "script-src 'self' "+importMapHash(t, body), 1)
			}
			for k, want := range map[string]string{
				"Content-Security-Policy": wantCSP,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "strict-origin-when-cross-origin",
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestCSP(t *testing.T) {
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "frame-ancestors 'self'", "connect-src 'self' ws: wss:"} {
		if !strings.Contains(web.ContentSecurityPolicy, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
}

func TestStatic(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		name, path string
		status     int
		cache      string
		ctype      string
	}{
		{"module", "/static/js/main.js", 200, "no-cache", "text/javascript"},
		{"css", "/static/css/netstep.css", 200, "no-cache", "text/css"},
		{"vendor", "/static/vendor/katex/katex.min.js", 200, "no-cache", "text/javascript"},
		{"vendor font", "/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2", 200, "no-cache", "font/woff2"},
		{"versions", "/static/vendor/VERSIONS", 200, "no-cache", ""},
		{"node test", "/static/js/state.test.js", 404, "", ""},
		{"node tests' folder", "/static/jstest/state.test.js", 404, "", ""},
		{"web/jstest", "/web/jstest/state.test.js", 404, "", ""},
		{"axe-core (tests only)", "/static/vendor/axe-core/axe.min.js", 404, "", ""},
		{"axe-core in e2e", "/static/e2e/testdata/axe-core/axe.min.js", 404, "", ""},
		{"axe-core at the root", "/axe.min.js", 404, "", ""},
		{"directory", "/static/js/", 404, "", ""},
		{"missing", "/static/js/nope.js", 404, "", ""},
		{"go source", "/static/static.go", 404, "", ""},
		{"fetch script", "/static/vendor/fetch.sh", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := get(t, h, tt.path)
			if got, want := res.StatusCode, tt.status; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if tt.status != 200 {
				return
			}
			if got := res.Header.Get("Cache-Control"); !strings.Contains(got, tt.cache) {
				t.Errorf("Cache-Control = %q, want it to contain %q", got, tt.cache)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.ctype) {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts web.Options
	}{
		{"no catalog", web.Options{}},
		{"empty catalog", web.Options{Lessons: web.Catalog{}}},
		{"unknown default", web.Options{Lessons: catalog, DefaultLesson: "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := web.New(tt.opts); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestDefaultLessonIsFirst(t *testing.T) {
	h, err := web.New(web.Options{Lessons: catalog})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, h, "/")
	if !strings.Contains(body, `data-lesson="house-prices"`) {
		t.Error("/ does not show the first lesson")
	}
}

// rooms is a RoomFinder with one open room, ABCDEF.
type rooms struct{}

func (rooms) JoinRoom(r *http.Request, code string) (string, int) {
	if strings.EqualFold(code, "abcdef") {
		return "ABCDEF", http.StatusOK
	}
	return "", http.StatusNotFound
}

func TestRoomStatus(t *testing.T) {
	h, err := web.New(web.Options{Lessons: catalog, DefaultLesson: "house-prices", Rooms: rooms{}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		status     int
		body       string
	}{
		{"open", "/api/rooms/abcdef", 200, `{"code":"ABCDEF"}`},
		{"unknown or ended", "/api/rooms/ZZZZZZ", 404, "There is no open room with the code ZZZZZZ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, h, tt.path)
			if got, want := res.StatusCode, tt.status; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body = %q, want it to contain %q", body, tt.body)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
		})
	}
}

// TestHelpIsShared: the lesson page and the embed list the same keyboard
// shortcuts and the same legend, from one template.
func TestHelpIsShared(t *testing.T) {
	h := newHandler(t)
	for _, path := range []string{"/", "/embed?lesson=cat-or-dog"} {
		t.Run(path, func(t *testing.T) {
			_, body := get(t, h, path)
			if got, want := strings.Count(body, `data-role="help"`), 1; got != want {
				t.Errorf("%d help dialogs, want %d", got, want)
			}
			// The key to the diagram: negative weights are dashed, not only orange.
			if !strings.Contains(body, `data-role="legend"`) || !strings.Contains(body, "negative weight") {
				t.Errorf("no legend of the diagram")
			}
			for _, key := range []string{"<kbd>M</kbd>", "<kbd>T</kbd>", "<kbd>?</kbd>", "<kbd>Tab</kbd>"} {
				if !strings.Contains(body, key) {
					t.Errorf("the help does not list %s", key)
				}
			}
		})
	}
}

// TestJoinLinkTrustsProxyOnlyWhenTold: the join link on the presenter's
// page and in its QR code follows X-Forwarded-* only with TrustProxy.
func TestJoinLinkTrustsProxyOnlyWhenTold(t *testing.T) {
	for _, tt := range []struct {
		trust bool
		want  string
	}{{false, "http://netstep.example/join/ABCDEF"}, {true, "https://course.example.org/join/ABCDEF"}} {
		h, err := web.New(web.Options{Lessons: catalog, DefaultLesson: "house-prices", Rooms: rooms{}, TrustProxy: trusted(tt.trust)})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/present/ABCDEF", nil)
		req.Host = "netstep.example"
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "course.example.org")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("TrustProxy %v: the presenter's page lacks %q", tt.trust, tt.want)
		}
		if other := map[bool]string{false: "course.example.org", true: "http://netstep.example/join"}[tt.trust]; strings.Contains(rec.Body.String(), other) {
			t.Errorf("TrustProxy %v: the presenter's page has %q", tt.trust, other)
		}
	}
}

// TestAddresses: the server's network addresses for a presenter at a
// loopback address, and QR codes only for those.
func TestAddresses(t *testing.T) {
	h, err := web.New(web.Options{Lessons: catalog, DefaultLesson: "house-prices", Rooms: rooms{}, Addresses: []string{"http://192.168.1.20:8080"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, h, "/api/addresses"); strings.TrimSpace(body) != `{"addresses":["http://192.168.1.20:8080"]}` {
		t.Errorf("/api/addresses = %s", body)
	}
	for _, tt := range []struct {
		name, query string
		status      int
	}{
		{"the request's host", "", 200},
		{"a network address", "?base=http%3A%2F%2F192.168.1.20%3A8080", 200},
		{"another host", "?base=http%3A%2F%2Fevil.example", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if res, body := get(t, h, "/api/rooms/ABCDEF/qr"+tt.query); res.StatusCode != tt.status {
				t.Errorf("status %d %.80s, want %d", res.StatusCode, body, tt.status)
			}
		})
	}
	bare, err := web.New(web.Options{Lessons: catalog, DefaultLesson: "house-prices", Rooms: rooms{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, bare, "/api/addresses"); strings.TrimSpace(body) != `{"addresses":[]}` {
		t.Errorf("without addresses: %s", body)
	}
}

// TestFaviconIco: a browser asking for /favicon.ico is sent to the icon
// the pages link, instead of a 404 in its console.
func TestFaviconIco(t *testing.T) {
	h := newHandler(t)
	res, _ := get(t, h, "/favicon.ico")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/static/img/favicon.svg" {
		t.Errorf("/favicon.ico: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := get(t, h, "/static/img/favicon.svg")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "<svg") || !strings.HasPrefix(res.Header.Get("Content-Type"), "image/svg+xml") {
		t.Errorf("the icon: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// trusted is the proxies of the web tests: httptest's requests come from
// 192.0.2.1, which trust names as a proxy.
func trusted(trust bool) external.Proxies {
	if !trust {
		return external.Proxies{}
	}
	p, err := external.ParseProxies([]string{"192.0.2.1"})
	if err != nil {
		panic(err)
	}
	return p
}

// TestRoomPageNamesTheClass: a room's page is served before its state says
// which lesson the room runs (a teacher's own, one loaded since), so it
// names the class, not the server's default lesson.
func TestRoomPageNamesTheClass(t *testing.T) {
	h, err := web.New(web.Options{Lessons: catalog, DefaultLesson: "house-prices", Rooms: rooms{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/present/ABCDEF", "/join/ABCDEF"} {
		_, body := get(t, h, path)
		if !strings.Contains(body, "<title>Class ABCDEF · netstep</title>") || strings.Contains(body, "Guess, measure, adjust, repeat ·") {
			t.Errorf("%s does not name the class in its title", path)
		}
		if strings.Contains(body, `data-lesson="house-prices"`) || strings.Contains(body, `value="house-prices" selected`) {
			t.Errorf("%s names the default lesson as the room's", path)
		}
	}
}
