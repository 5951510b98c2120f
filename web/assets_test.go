package web_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/netstep/netstep/static"
	"github.com/netstep/netstep/web"
)

var importMapRE = regexp.MustCompile(`<script type="importmap">([^<]*)</script>`)

// importMapHash is the CSP source of the page's import map.
func importMapHash(t *testing.T, page string) string {
	t.Helper()
	m := importMapRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page has no import map")
	}
	sum := sha256.Sum256([]byte(m[1]))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// do sends one request with the given headers.
func do(t *testing.T, h http.Handler, method, target string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.Bytes()
}

// staticCopy is the embedded static folder as a MapFS that a test may change.
func staticCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newStaticHandler(t *testing.T, fsys fs.FS) http.Handler {
	t.Helper()
	h, err := web.New(web.Options{Lessons: describedCatalog, Static: fsys, Rooms: rooms{}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var assetRef = regexp.MustCompile(`"(/static/[^"?]+)\?v=([0-9a-f]{16})"`)

// pageAssets are the versioned URLs a page names, by path.
func pageAssets(t *testing.T, h http.Handler, path string) map[string]string {
	t.Helper()
	_, body := do(t, h, http.MethodGet, path)
	out := map[string]string{}
	for _, m := range assetRef.FindAllStringSubmatch(string(body), -1) {
		out[m[1]] = m[2]
	}
	if len(out) == 0 {
		t.Fatalf("%s names no versioned static file", path)
	}
	return out
}

func TestCompressedDecodesToTheEmbeddedBytes(t *testing.T) {
	h := newStaticHandler(t, nil)
	// Wait for the brotli copies, made in the background after start.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, _ := do(t, h, http.MethodGet, "/static/vendor/katex/katex.min.js", "Accept-Encoding", "br")
		if res.Header.Get("Content-Encoding") == "br" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no brotli copy of katex.min.js within 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	brotliSeen, gzipSeen := 0, 0
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, _ := fs.ReadFile(static.FS, p)
		plainRes, plain := do(t, h, http.MethodGet, "/static/"+p)
		if plainRes.StatusCode != 200 || plainRes.Header.Get("Content-Encoding") != "" {
			t.Fatalf("%s: status %d, Content-Encoding %q without Accept-Encoding", p, plainRes.StatusCode, plainRes.Header.Get("Content-Encoding"))
		}
		if strings.HasSuffix(p, ".css") {
			// Style sheets name the versioned URLs of their fonts; with the
			// versions taken out they are the embedded bytes.
			plain = regexp.MustCompile(`\?v=[0-9a-f]{16}`).ReplaceAll(plain, nil)
		}
		if want, err = web.MinifyOwn(p, want); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if !bytes.Equal(plain, want) {
			t.Errorf("%s: the plain answer is not the embedded file (minified when it is the page's own)", p)
		}
		_, plain = do(t, h, http.MethodGet, "/static/"+p)
		for _, enc := range []string{"gzip", "br"} {
			res, body := do(t, h, http.MethodGet, "/static/"+p, "Accept-Encoding", enc)
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") && res.Header.Get("Content-Encoding") != "" {
				t.Errorf("%s: compressed without Vary: Accept-Encoding", p)
			}
			var r io.Reader
			switch res.Header.Get("Content-Encoding") {
			case "":
				continue
			case "gzip":
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				r, gzipSeen = zr, gzipSeen+1
			case "br":
				r, brotliSeen = brotli.NewReader(bytes.NewReader(body)), brotliSeen+1
			default:
				t.Fatalf("%s: Content-Encoding %q for Accept-Encoding %s", p, res.Header.Get("Content-Encoding"), enc)
			}
			if res.Header.Get("Content-Encoding") != enc {
				t.Errorf("%s: asked for %s, got %s", p, enc, res.Header.Get("Content-Encoding"))
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("%s (%s): %v", p, enc, err)
			}
			if !bytes.Equal(got, plain) {
				t.Errorf("%s: the %s answer does not decode to the file", p, enc)
			}
			if len(body) >= len(plain) {
				t.Errorf("%s: %s is %d bytes, the file %d", p, enc, len(body), len(plain))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if gzipSeen < 30 || brotliSeen < 30 {
		t.Errorf("only %d gzip and %d brotli answers; the modules and style sheets should all be compressed", gzipSeen, brotliSeen)
	}
	// q=0 refuses a coding; a browser that takes none gets the plain bytes.
	for _, ae := range []string{"br;q=0, gzip;q=0", "identity", "gzip;q=0.0"} {
		res, _ := do(t, h, http.MethodGet, "/static/js/app.js", "Accept-Encoding", ae)
		if enc := res.Header.Get("Content-Encoding"); enc != "" && !strings.Contains(ae, enc+";q=0.0") && strings.Contains(ae, enc) {
			t.Errorf("Accept-Encoding %q: got %s", ae, enc)
		}
	}
	res, _ := do(t, h, http.MethodGet, "/static/js/app.js", "Accept-Encoding", "br;q=0, gzip")
	if got := res.Header.Get("Content-Encoding"); got != "gzip" {
		t.Errorf("br;q=0, gzip: Content-Encoding %q, want gzip", got)
	}
}

func TestPagesAreCompressed(t *testing.T) {
	h := newStaticHandler(t, nil)
	_, plain := do(t, h, http.MethodGet, "/lesson/circle")
	res, body := do(t, h, http.MethodGet, "/lesson/circle", "Accept-Encoding", "gzip, deflate, br")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, plain) {
		t.Error("the gzip page does not decode to the page")
	}
}

func TestAssetURLsFollowTheBytes(t *testing.T) {
	before := newStaticHandler(t, nil)
	changed := staticCopy(t)
	changed["js/state.js"].Data = append(append([]byte{}, changed["js/state.js"].Data...), "\nexport const changed = 1;\n"...)
	font := "vendor/katex/fonts/KaTeX_Main-Regular.woff2"
	changed[font].Data = append(append([]byte{}, changed[font].Data...), 0)
	after := newStaticHandler(t, changed)

	for _, page := range []string{"/", "/embed?lesson=circle", "/lessons"} {
		a, b := pageAssets(t, before, page), pageAssets(t, after, page)
		for p, v := range a {
			if p == "/static/js/state.js" || p == "/static/"+font || p == "/static/vendor/katex/katex.min.css" {
				continue // changed, directly or through its font
			}
			if b[p] != v {
				t.Errorf("%s: %s changed version though its bytes did not (%s, %s)", page, p, v, b[p])
			}
		}
	}
	// The import map carries every module's version: state.js's changed,
	// app.js's did not.
	_, pa := do(t, before, http.MethodGet, "/")
	_, pb := do(t, after, http.MethodGet, "/")
	mapOf := func(page []byte) map[string]string {
		out := map[string]string{}
		for _, m := range regexp.MustCompile(`"(/static/[^"]+)":"[^"?]+\?v=([0-9a-f]{16})"`).FindAllSubmatch(page, -1) {
			out[string(m[1])] = string(m[2])
		}
		return out
	}
	ma, mb := mapOf(pa), mapOf(pb)
	if ma["/static/js/state.js"] == "" || ma["/static/js/state.js"] == mb["/static/js/state.js"] {
		t.Errorf("state.js changed but its version did not: %q, %q", ma["/static/js/state.js"], mb["/static/js/state.js"])
	}
	if ma["/static/js/app.js"] == "" || ma["/static/js/app.js"] != mb["/static/js/app.js"] {
		t.Errorf("app.js did not change but its version did: %q, %q", ma["/static/js/app.js"], mb["/static/js/app.js"])
	}
	// KaTeX's style sheet names its fonts' versions, so a changed font
	// changes the style sheet's URL too.
	if ma["/static/vendor/katex/katex.min.css"] == mb["/static/vendor/katex/katex.min.css"] {
		t.Error("a KaTeX font changed but katex.min.css kept its version")
	}
	_, css := do(t, after, http.MethodGet, "/static/vendor/katex/katex.min.css")
	if !regexp.MustCompile(`url\(fonts/KaTeX_Main-Regular\.woff2\?v=[0-9a-f]{16}\)`).Match(css) {
		t.Error("katex.min.css does not name its font by a versioned URL")
	}
	if importMapHash(t, string(pa)) == importMapHash(t, string(pb)) {
		t.Error("the import map changed but its hash did not")
	}
	res, _ := do(t, after, http.MethodGet, "/")
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), importMapHash(t, string(pb))) {
		t.Error("the CSP lacks the import map's hash")
	}
}

func TestVersionedURLsAreImmutable(t *testing.T) {
	h := newStaticHandler(t, nil)
	refs := pageAssets(t, h, "/")
	for p, v := range refs {
		res, _ := do(t, h, http.MethodGet, p+"?v="+v)
		if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") || !strings.Contains(got, "max-age=31536000") {
			t.Errorf("%s?v=%s: Cache-Control %q, want immutable for a year", p, v, got)
		}
		// An old version's URL gets today's file, revalidated, never cached
		// for a year under the wrong name.
		res, _ = do(t, h, http.MethodGet, p+"?v=0000000000000000")
		if got := res.Header.Get("Cache-Control"); got != "no-cache" || res.StatusCode != 200 {
			t.Errorf("%s with an old version: %d, Cache-Control %q, want 200 no-cache", p, res.StatusCode, got)
		}
	}
}

func TestRevalidationAnswers304(t *testing.T) {
	h := newStaticHandler(t, nil)
	for _, path := range []string{"/", "/lesson/circle", "/embed?lesson=circle", "/lessons", "/embed.js", "/static/js/app.js", "/static/vendor/VERSIONS"} {
		for _, enc := range []string{"", "gzip"} {
			res, _ := do(t, h, http.MethodGet, path, "Accept-Encoding", enc)
			etag := res.Header.Get("ETag")
			if res.StatusCode != 200 || !strings.HasPrefix(etag, `"`) {
				t.Fatalf("%s (%q): status %d, ETag %q; want 200 with a strong ETag", path, enc, res.StatusCode, etag)
			}
			res, body := do(t, h, http.MethodGet, path, "Accept-Encoding", enc, "If-None-Match", etag)
			if res.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("%s (%q): revalidation answered %d with %d bytes, want 304 and none", path, enc, res.StatusCode, len(body))
			}
			res, _ = do(t, h, http.MethodGet, path, "Accept-Encoding", enc, "If-None-Match", `"0000000000000000"`)
			if res.StatusCode != 200 {
				t.Errorf("%s (%q): a stale ETag answered %d, want 200", path, enc, res.StatusCode)
			}
		}
	}
}

// pageRoutes are every page route of package web, with an address that
// answers 200 (rooms: see the fake finder in web_test.go).
var pageRoutes = []string{"/", "/lesson/circle", "/lessons", "/embed?lesson=circle", "/embed", "/embed.js",
	"/oembed?url=http%3A%2F%2Fexample.com%2Flesson%2Fcircle", "/join", "/join/ABCDEF", "/present/ABCDEF",
	"/api/rooms/ABCDEF", "/api/rooms/ABCDEF/qr", "/static/js/app.js"}

func TestHeadOnEveryPageRoute(t *testing.T) {
	h := newStaticHandler(t, nil)
	for _, path := range pageRoutes {
		t.Run(path, func(t *testing.T) {
			get, getBody := do(t, h, http.MethodGet, path, "Accept-Encoding", "gzip")
			head, headBody := do(t, h, http.MethodHead, path, "Accept-Encoding", "gzip")
			if get.StatusCode != 200 {
				t.Fatalf("GET: status %d", get.StatusCode)
			}
			if head.StatusCode != get.StatusCode {
				t.Errorf("HEAD: status %d, GET %d", head.StatusCode, get.StatusCode)
			}
			if len(headBody) != 0 {
				t.Errorf("HEAD: %d bytes of body", len(headBody))
			}
			if len(getBody) == 0 {
				t.Error("GET: no body")
			}
			for _, k := range []string{"Content-Type", "Content-Encoding", "ETag", "Cache-Control", "Content-Security-Policy"} {
				if head.Header.Get(k) != get.Header.Get(k) {
					t.Errorf("HEAD %s = %q, GET %q", k, head.Header.Get(k), get.Header.Get(k))
				}
			}
			opt, _ := do(t, h, http.MethodOptions, path)
			if opt.StatusCode != http.StatusNoContent || opt.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Errorf("OPTIONS: %d, Allow %q; want 204 and GET, HEAD, OPTIONS", opt.StatusCode, opt.Header.Get("Allow"))
			}
			post, _ := do(t, h, http.MethodPost, path)
			if post.StatusCode != http.StatusMethodNotAllowed || post.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Errorf("POST: %d, Allow %q; want 405 and GET, HEAD, OPTIONS", post.StatusCode, post.Header.Get("Allow"))
			}
		})
	}
}

// TestStaticPolicyOnlyWhereADocumentCanBe: scripts, style sheets and fonts
// carry no Content-Security-Policy or Referrer-Policy (they never become a
// document, and a first visit loads 30 of them); an SVG, which opened on
// its own is a document that could run script, keeps the private policy,
// and a worker's script gets the workers' own. Every static file keeps
// nosniff.
func TestStaticPolicyOnlyWhereADocumentCanBe(t *testing.T) {
	h := newStaticHandler(t, nil)
	for path, policy := range map[string]bool{
		"/static/js/app.js":                                  false,
		"/static/css/netstep.css":                            false,
		"/static/vendor/katex/fonts/KaTeX_AMS-Regular.woff2": false,
		"/static/img/favicon.svg":                            true,
		"/static/js/edgeworker.js":                           true,
	} {
		res, _ := do(t, h, http.MethodGet, path)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		if got := res.Header.Get("Content-Security-Policy") != ""; got != policy {
			t.Errorf("GET %s: Content-Security-Policy %q, want one: %v", path, res.Header.Get("Content-Security-Policy"), policy)
		}
		if got := res.Header.Get("Referrer-Policy") != ""; got != policy {
			t.Errorf("GET %s: Referrer-Policy %q, want one: %v", path, res.Header.Get("Referrer-Policy"), policy)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", path)
		}
		if strings.HasSuffix(path, "worker.js") && res.Header.Get("Content-Security-Policy") != "default-src 'none'; script-src 'self'" {
			t.Errorf("GET %s: Content-Security-Policy %q, want the workers' own", path, res.Header.Get("Content-Security-Policy"))
		}
	}
}

// TestOwnFilesMinify: every script and style sheet of the page's own is
// read by the minifier (one it cannot read would be sent whole), comes out
// smaller, and keeps what names it to the rest of the page: its imports'
// paths and its exports' names.
func TestOwnFilesMinify(t *testing.T) {
	specifier := regexp.MustCompile(`from\s*['"](\.[^'"]+)['"]`)
	exported := regexp.MustCompile(`export\s+(?:async\s+)?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*)`)
	n := 0
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasPrefix(p, "js/") || strings.HasPrefix(p, "css/")) {
			return err
		}
		src, _ := fs.ReadFile(static.FS, p)
		out, err := web.MinifyOwn(p, src)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		n++
		if len(out) >= len(src) {
			t.Errorf("%s: %d bytes minified, %d written", p, len(out), len(src))
		}
		for _, m := range specifier.FindAllSubmatch(src, -1) {
			if !bytes.Contains(out, m[1]) {
				t.Errorf("%s: minified, it no longer imports %s", p, m[1])
			}
		}
		for _, m := range exported.FindAllSubmatch(src, -1) {
			if !bytes.Contains(out, m[1]) {
				t.Errorf("%s: minified, it no longer exports %s", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Errorf("%d of the page's own files minified, want all of them (30 or more)", n)
	}
}
