// Package web owns the pages: the learner's page at / and /lesson/{name},
// the gallery at /lessons, the embeddable lesson at /embed with its host
// script /embed.js and oEmbed endpoint /oembed, rendered from templates parsed
// once at construction, the static files under /static/, and the security
// headers every page carries. It knows lessons only through a LessonCatalog,
// so it does not depend on the engine's internals, and it never reads flags
// or the environment.
package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/netstep/netstep/external"
	"github.com/netstep/netstep/static"
	"github.com/netstep/netstep/templates"
)

// LessonCatalog is what the pages need to know about the built-in lessons:
// their names, in the order a learner should meet them, and their titles.
type LessonCatalog interface {
	Names() []string
	Title(name string) (string, bool)
}

// Lesson is one entry of a Catalog. Name and Title are required; the rest
// describes the lesson in the gallery and may be left empty.
type Lesson struct {
	Name    string
	Title   string
	Summary string
	// Layers is the network's shape: the number of inputs, then the size of
	// each layer with weights.
	Layers []int
	// Points are the training samples of a 2-D lesson, at most a few hundred,
	// in the lesson's plane (about −6 to 6 on each axis).
	Points []Point
}

// Point is one 2-D sample of a gallery preview: where it is and which class
// (0 or 1, or the index of the winning output) it belongs to.
type Point struct {
	X1, X2 float64
	Class  int
}

// LessonDescriber is a LessonCatalog that also describes each lesson for the
// gallery. Catalog is one; a catalog without it gets a gallery of titles.
type LessonDescriber interface {
	Describe(name string) (Lesson, bool)
}

// Catalog is a LessonCatalog held in a slice, in order. It is the adapter a
// program builds from the engine's catalog, and what tests use.
type Catalog []Lesson

// Names returns the lessons' names in order.
func (c Catalog) Names() []string {
	names := make([]string, len(c))
	for i, l := range c {
		names[i] = l.Name
	}
	return names
}

// Title returns the title of the lesson called name.
func (c Catalog) Title(name string) (string, bool) {
	for _, l := range c {
		if l.Name == name {
			return l.Title, true
		}
	}
	return "", false
}

// Describe returns the whole entry of the lesson called name.
func (c Catalog) Describe(name string) (Lesson, bool) {
	for _, l := range c {
		if l.Name == name {
			return l, true
		}
	}
	return Lesson{}, false
}

// Options configures New.
type Options struct {
	// Lessons lists the lessons a page may open. Required.
	Lessons LessonCatalog
	// DefaultLesson is the lesson shown at /. It must be in Lessons; when
	// empty, the first of Lessons.Names() is used.
	DefaultLesson string
	// Logger receives template errors. Nil means slog.Default().
	Logger *slog.Logger
	// EmbedOrigins narrows who may frame /embed, and who its postMessage
	// events are addressed to: origins such as https://moodle.example.edu.
	// Empty means any site may embed a lesson.
	EmbedOrigins []string
	// TrustProxy names the reverse proxies in front of the server whose
	// X-Forwarded-Proto and X-Forwarded-Host headers absolute URLs (oEmbed,
	// discovery links, embed snippets, join links and QR codes) follow, on
	// requests that come straight from one of them (package external).
	// The zero value trusts none.
	TrustProxy external.Proxies
	// Rooms finds classroom rooms for /join, /present and the QR codes
	// (rooms.go). Nil: no classroom pages.
	Rooms RoomFinder
	// Addresses are the base URLs (http://192.168.1.20:8080) at which
	// other machines on the network reach this server: the server's own
	// interfaces, as the program found them. A presenter page opened at a
	// loopback address offers them for the join link and QR code
	// (GET /api/addresses); a QR code is drawn only for them or the
	// request's own host.
	Addresses []string
	// Static is the folder served under /static/. Nil means the embedded
	// one (package static); tests give their own.
	Static fs.FS
}

// ContentSecurityPolicy is sent with every page, with the hash of the page's
// import map added to script-src (the one inline script, the same on every
// page; see assets.go). Scripts come only from this server (no other inline
// scripts or handlers); inline style attributes are allowed because KaTeX
// sets them; the websocket may connect to this server.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'self'"

// handler serves the pages; its fields are read-only after New.
type handler struct {
	addresses     []string // Options.Addresses
	lessons       LessonCatalog
	defaultLesson string
	log           *slog.Logger
	page          *template.Template
	embed         *template.Template
	gallery       *template.Template
	embedCSP      string
	embedOrigins  []string
	trustProxy    external.Proxies
	// galleryCards are the gallery's entries with their previews, drawn once.
	galleryCards []galleryCard
	join         *template.Template
	rooms        RoomFinder
	// assets are the static files, prepared once; csp is the pages' policy
	// with the import map's hash.
	assets *assets
	csp    string
	qr     *qrCodes
	pages  pageCache
}

// pageData is what templates/page.html renders.
type pageData struct {
	Title   string
	Lesson  string
	Lessons []Lesson
	// OEmbed is the absolute URL of this lesson's oEmbed answer, for the
	// discovery link; empty on / (which is not a lesson's own address).
	OEmbed string

	Room     string // a classroom room's code, or ""
	RoomRole string // "presenter" or "follower"
	JoinURL  string // the room's join link, for the presenter to show
}

// ErrEmbedOrigin marks the error New returns for an entry of EmbedOrigins
// that is not an origin.
var ErrEmbedOrigin = errors.New("web: embed origin")

// New returns the handler for /, /lesson/{name} and /static/*. It parses the
// templates once and fails if they are broken or the default lesson is
// unknown.
func New(opts Options) (http.Handler, error) {
	if opts.Lessons == nil {
		return nil, errors.New("web: Options.Lessons is nil")
	}
	names := opts.Lessons.Names()
	if len(names) == 0 {
		return nil, errors.New("web: the lesson catalog is empty")
	}
	def := opts.DefaultLesson
	if def == "" {
		def = names[0]
	}
	if _, ok := opts.Lessons.Title(def); !ok {
		return nil, fmt.Errorf("web: default lesson %q is not in the catalog", def)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	h := &handler{lessons: opts.Lessons, defaultLesson: def, log: log, trustProxy: opts.TrustProxy, rooms: opts.Rooms, addresses: opts.Addresses}
	fsys := opts.Static
	if fsys == nil {
		fsys = static.FS
	}
	a, err := sharedAssets(fsys)
	if err != nil {
		return nil, err
	}
	h.assets = a
	h.qr = newQRCodes()
	h.csp = strings.Replace(ContentSecurityPolicy, "script-src 'self'", "script-src 'self' "+a.importMapHash, 1)
	funcs := template.FuncMap{"asset": a.templateURL, "importMap": func() template.HTML { return a.importMap }}
	for _, t := range []struct {
		dst  **template.Template
		file string
	}{{&h.page, "page.html"}, {&h.embed, "embed.html"}, {&h.gallery, "gallery.html"}, {&h.join, "join.html"}} {
		// partials.html holds the pieces the pages share ({{define}}d).
		tmpl, err := template.New(t.file).Funcs(funcs).ParseFS(templates.FS, t.file, "partials.html")
		if err != nil {
			return nil, fmt.Errorf("web: parsing templates: %w", err)
		}
		*t.dst = tmpl
	}
	origins, err := checkOrigins(opts.EmbedOrigins)
	if err != nil {
		return nil, err
	}
	h.embedOrigins = origins
	h.embedCSP = embedPolicy(h.csp, origins)
	h.galleryCards = galleryCards(opts.Lessons)

	r := chi.NewRouter()
	r.Use(Headers)
	// Every page answers GET, HEAD (the same headers, no body) and OPTIONS.
	page := func(pattern string, fn http.HandlerFunc) {
		r.Get(pattern, fn)
		r.Head(pattern, func(w http.ResponseWriter, r *http.Request) { fn(headWriter{w}, r) })
		r.Options(pattern, options)
	}
	page("/", h.index)
	page("/lesson/{name}", h.lesson)
	page("/lessons", h.galleryPage)
	page("/embed", h.embedPage)
	page("/embed.js", h.embedScript)
	page("/oembed", h.oembed)
	if h.rooms != nil {
		page("/join", h.joinForm)
		page("/join/{code}", h.joinRoom)
		page("/present/{code}", h.presentRoom)
		page("/api/rooms/{code}", h.roomStatus)
		page("/api/rooms/{code}/qr", h.roomQR)
		page("/api/addresses", h.serveAddresses)
	}
	page("/static/*", http.StripPrefix("/static/", h.assets).ServeHTTP)
	r.MethodNotAllowed(methodNotAllowed)
	// Pages link their icon; a browser that asks the old way is sent there.
	page("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/img/favicon.svg", http.StatusMovedPermanently)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found", http.StatusNotFound)
	})
	return r, nil
}

// index serves the page with the default lesson.
func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, h.defaultLesson, "")
}

// lesson serves the page with the named lesson, or 404.
func (h *handler) lesson(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if _, ok := h.lessons.Title(name); !ok {
		http.Error(w, "There is no lesson called that. The lessons are listed at /.", http.StatusNotFound)
		return
	}
	h.render(w, r, name, h.oembedURL(r, name))
}

// render writes the page for the lesson called name, which is in the catalog.
func (h *handler) render(w http.ResponseWriter, r *http.Request, name, oembed string) {
	h.renderPage(w, r, pageData{Lesson: name, OEmbed: oembed})
}

// renderPage writes the page for data.Lesson, which is in the catalog.
func (h *handler) renderPage(w http.ResponseWriter, r *http.Request, data pageData) {
	if data.Title == "" {
		data.Title, _ = h.lessons.Title(data.Lesson)
	}
	for _, n := range h.lessons.Names() {
		t, _ := h.lessons.Title(n)
		data.Lessons = append(data.Lessons, Lesson{Name: n, Title: t})
	}
	h.execute(w, r, h.page, data, false)
}

// execute renders tmpl into a buffer first, so a template error becomes a
// clean 500 rather than half a page, then sends it (send) with the page's
// headers, or the embed's when embed is set.
func (h *handler) execute(w http.ResponseWriter, r *http.Request, tmpl *template.Template, data any, embed bool) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		h.log.Error("web: rendering page", "template", tmpl.Name(), "err", err)
		http.Error(w, "The page could not be drawn; this is a bug.", http.StatusInternalServerError)
		return
	}
	setHeaders(w.Header(), kindPage)
	w.Header().Set("Content-Security-Policy", h.csp)
	if embed {
		w.Header().Set("Content-Security-Policy", h.embedCSP)
	}
	h.pages.send(w, r, "text/html; charset=utf-8", buf.Bytes())
}
