package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/js"

	"github.com/netstep/netstep/static"
)

// An asset is one static file as the server sends it, prepared once at
// start: its bytes, a hash of them that versions its URL and is its ETag,
// and gzip and brotli copies when the file is text and they are smaller.
type asset struct {
	body []byte
	gz   []byte // nil: not worth compressing
	// br is made in the background after start (brotli's best quality
	// costs seconds of CPU for the whole folder); until it is there, or when
	// it saves nothing over gzip, browsers get gzip.
	br atomic.Pointer[[]byte]
	// hash is the first 16 hex digits of the SHA-256 of body: the v= of the
	// file's content-addressed URL and, quoted, its ETag.
	hash  string
	ctype string
}

// assets are every file of the static folder, by their path in it
// ("js/app.js"), with the import map that sends each module import to the
// file's versioned URL.
type assets struct {
	files map[string]*asset
	// importMap is the <script type="importmap"> element every page carries
	// before its first module, and importMapHash its CSP source
	// ('sha256-…'), which lets that one inline script run.
	importMap     template.HTML
	importMapHash string
	// brotli is closed when every brotli copy is made.
	brotli chan struct{}
}

// compressed lists the extensions of text files worth compressing. Fonts
// (woff2) and images (png) are compressed already.
var compressed = map[string]bool{".js": true, ".css": true, ".svg": true, ".json": true, ".txt": true, ".html": true, "": true}

// cssURL finds url(…) references in a style sheet, quoted or not.
var cssURL = regexp.MustCompile(`url\(\s*(['"]?)([^'")\s]+)(['"]?)\s*\)`)

// newAssets reads every file of fsys, rewrites each style sheet's url(…)
// references to other files of fsys into their versioned URLs (KaTeX's
// fonts), hashes and gzips them, and builds the import map; then it starts
// making the brotli copies in the background (about 2 s of one core for the
// embedded folder, once).
func newAssets(fsys fs.FS) (*assets, error) {
	raw := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		raw[p] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: reading the static files: %w", err)
	}
	a := &assets{files: make(map[string]*asset, len(raw)), brotli: make(chan struct{})}
	names := make([]string, 0, len(raw))
	for p := range raw {
		names = append(names, p)
	}
	sort.Strings(names)
	// Style sheets last: their bytes name the other files' hashes.
	for _, css := range []bool{false, true} {
		for _, p := range names {
			if (path.Ext(p) == ".css") != css {
				continue
			}
			body := minified(p, raw[p])
			if css {
				body = a.versionCSS(p, body)
			}
			a.files[p] = prepare(p, body)
		}
	}
	imports := map[string]string{}
	for _, p := range names {
		if ext := path.Ext(p); ext == ".js" || ext == ".css" {
			imports["/static/"+p] = a.url(p)
		}
	}
	// json.Marshal sorts the keys, so the map and its hash are the same on
	// every start with the same files.
	m, err := json.Marshal(map[string]any{"imports": imports})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(m)
	a.importMap = template.HTML(`<script type="importmap">` + string(m) + `</script>`)
	a.importMapHash = "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	go func() {
		brotliMade.Lock()
		defer brotliMade.Unlock()
		for _, p := range names {
			if f := a.files[p]; f.gz != nil {
				b, ok := brotliMade.copies[f.hash]
				if !ok {
					var br bytes.Buffer
					bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
					bw.Write(f.body)
					bw.Close()
					if br.Len() < len(f.gz) {
						b = br.Bytes()
					}
					brotliMade.copies[f.hash] = b
				}
				if b != nil {
					f.br.Store(&b)
				}
			}
		}
		close(a.brotli)
	}()
	return a, nil
}

// minifier takes the comments and spaces out of the page's own scripts
// and style sheets: they are written to be read, a third of their bytes
// comments, and a first visit over plain HTTP (a classroom's server on its
// network gets gzip, not brotli) was 163 KiB against a budget of 150.
// Names are kept, so a stack trace and the browser's debugger still read.
var minifier = func() *minify.M {
	m := minify.New()
	m.Add("text/javascript", &js.Minifier{KeepVarNames: true})
	m.Add("text/css", &css.Minifier{})
	return m
}()

// minified is the static file p as it is sent: the page's own scripts
// (js/) and style sheets (css/) minified, the rest as they are (vendored
// files come minified). A file the minifier cannot read is sent as it is
// (TestOwnFilesMinify fails on it).
func minified(p string, body []byte) []byte {
	out, err := minifyOwn(p, body)
	if err != nil {
		return body
	}
	return out
}

// minifyOwn is minified with the minifier's error.
func minifyOwn(p string, body []byte) ([]byte, error) {
	var mt string
	switch {
	case strings.HasPrefix(p, "js/") && path.Ext(p) == ".js":
		mt = "text/javascript"
	case strings.HasPrefix(p, "css/") && path.Ext(p) == ".css":
		mt = "text/css"
	default:
		return body, nil
	}
	return minifier.Bytes(mt, body)
}

// brotliMade keeps the brotli copies made in this process, by the hash of
// the bytes they compress (nil: brotli saved nothing over gzip), so that a
// second set of assets (a test's handler, a second server in one process)
// does not spend the seconds of CPU again; one set is made at a time.
var brotliMade = struct {
	sync.Mutex
	copies map[string][]byte
}{copies: map[string][]byte{}}

// prepare hashes body and, for text, gzips it.
func prepare(p string, body []byte) *asset {
	sum := sha256.Sum256(body)
	f := &asset{body: body, hash: hex.EncodeToString(sum[:8]), ctype: mime.TypeByExtension(path.Ext(p))}
	if f.ctype == "" {
		f.ctype = "text/plain; charset=utf-8"
	}
	if !compressed[path.Ext(p)] || len(body) < 256 {
		return f
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	// Only when it saves something: a few bytes saved cost the browser a
	// decoder.
	if gz.Len() < len(body)*9/10 {
		f.gz = gz.Bytes()
	}
	return f
}

// versionCSS rewrites the url(…) references of the style sheet at p that
// name another static file into that file's versioned URL, relative as
// before, so a browser caches them for good and a new version has a new URL.
func (a *assets) versionCSS(p string, css []byte) []byte {
	return cssURL.ReplaceAllFunc(css, func(m []byte) []byte {
		sub := cssURL.FindSubmatch(m)
		ref := string(sub[2])
		if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") || strings.ContainsAny(ref, "?#") {
			return m
		}
		target := path.Join(path.Dir(p), ref)
		f, ok := a.files[target]
		if !ok {
			return m
		}
		return []byte("url(" + string(sub[1]) + ref + "?v=" + f.hash + string(sub[3]) + ")")
	})
}

// url is the versioned URL of the static file p ("css/netstep.css"), or an
// error naming it when there is no such file, which fails the page's
// template.
func (a *assets) url(p string) string {
	f, ok := a.files[p]
	if !ok {
		return ""
	}
	return "/static/" + p + "?v=" + f.hash
}

// templateURL is url for the templates' {{asset "…"}}: an unknown file is an
// error, so a typo in a template fails the tests instead of a page.
func (a *assets) templateURL(p string) (string, error) {
	if u := a.url(p); u != "" {
		return u, nil
	}
	return "", fmt.Errorf("web: no static file %q", p)
}

// immutable is how long a versioned URL may be cached: its bytes never
// change, so for as long as caches keep anything.
const immutable = "public, max-age=31536000, immutable"

// ServeHTTP serves the static file at the request's path, which is relative
// to the static folder. With ?v= naming the file's current hash it is
// cached for good; without it, or with an old hash, it is revalidated by its
// ETag (an old page still gets a working file, never a stale one kept for a
// year). The best encoding the browser accepts is chosen, and every answer
// varies on Accept-Encoding.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	cache := "no-cache"
	if r.URL.Query().Get("v") == f.hash {
		cache = immutable
	}
	setHeaders(w.Header(), kindStatic)
	w.Header().Set("Cache-Control", cache)
	switch {
	case strings.HasSuffix(r.URL.Path, "worker.js"):
		// A worker's script is its document: its policy is the worker's
		// (it may load the page's own modules, and nothing else).
		w.Header().Set("Content-Security-Policy", workerPolicy)
	case neverADocument(f.ctype):
		// A policy and a referrer policy apply only to documents and
		// workers: on the scripts, style sheets and fonts of a first visit
		// they were 4 KiB of its 150 KiB nobody read.
		w.Header().Del("Content-Security-Policy")
		w.Header().Del("Referrer-Policy")
	}

	f.serve(w, r)
}

// neverADocument says a file of this type cannot become a document when
// opened: a script, a style sheet, a font or a raster image (an SVG or an
// HTML file can, and keeps its policy).
func neverADocument(ctype string) bool {
	t, _, _ := strings.Cut(ctype, ";")
	switch {
	case t == "text/javascript", t == "text/css", strings.HasPrefix(t, "font/"):
		return true
	case strings.HasPrefix(t, "image/"):
		return t != "image/svg+xml"
	}
	return false
}

// serve sends f in the encoding r accepts best, with a strong ETag per
// encoding, answering If-None-Match with 304, HEAD without a body and
// ranges, as http.ServeContent does.
func (f *asset) serve(w http.ResponseWriter, r *http.Request) {
	body, enc := f.body, ""
	if f.gz != nil {
		w.Header().Add("Vary", "Accept-Encoding")
		accepts := acceptedEncodings(r.Header.Get("Accept-Encoding"))
		br := f.br.Load()
		switch {
		case br != nil && accepts["br"]:
			body, enc = *br, "br"
		case accepts["gzip"]:
			body, enc = f.gz, "gzip"
		}
	}
	etag := `"` + f.hash
	if enc != "" {
		w.Header().Set("Content-Encoding", enc)
		etag += "-" + enc
	}
	w.Header().Set("ETag", etag+`"`)
	w.Header().Set("Content-Type", f.ctype)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptedEncodings reads an Accept-Encoding header: the codings it names
// without q=0. "*" is not expanded: a client that wants brotli says so.
func acceptedEncodings(h string) map[string]bool {
	out := map[string]bool{}
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		refused := false
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				v = strings.TrimRight(strings.TrimSpace(v), "0")
				refused = v == "" || v == "0." || v == "0"
			}
		}
		out[name] = !refused
	}
	return out
}

// builtAssets holds what newAssets made of the embedded folder, which is the
// same for every handler of the process: brotli's best quality costs about
// a second, paid once.
var builtAssets struct {
	once sync.Once
	a    *assets
	err  error
}

// sharedAssets is newAssets(fsys), made once for the embedded folder.
func sharedAssets(fsys fs.FS) (*assets, error) {
	if fsys != static.FS {
		return newAssets(fsys)
	}
	builtAssets.once.Do(func() { builtAssets.a, builtAssets.err = newAssets(fsys) })
	return builtAssets.a, builtAssets.err
}

// pageCache keeps the gzip copy of recently sent pages by their hash, so a
// class of 500 opening one lesson compresses its page once. A page is
// rendered for each request (it names the host it was asked on), and the
// cache is emptied when it grows past maxCachedPages.
type pageCache struct {
	mu sync.Mutex
	gz map[string][]byte
}

// maxCachedPages bounds pageCache: a few per lesson and host.
const maxCachedPages = 512

// send sends a rendered page, or a 304 when the browser's copy is current
// (its strong ETag is the hash of the bytes), gzip-compressed when the
// browser accepts it.
func (c *pageCache) send(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	sum := sha256.Sum256(body)
	f := &asset{body: body, hash: hex.EncodeToString(sum[:8]), ctype: ctype}
	if len(body) >= 256 {
		c.mu.Lock()
		gz, ok := c.gz[f.hash]
		c.mu.Unlock()
		if !ok {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			gz = buf.Bytes()
			c.mu.Lock()
			if c.gz == nil || len(c.gz) >= maxCachedPages {
				c.gz = map[string][]byte{}
			}
			c.gz[f.hash] = gz
			c.mu.Unlock()
		}
		f.gz = gz
	}
	f.serve(w, r)
}
