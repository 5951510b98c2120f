package web

import "net/http"

// This file is the one place that decides a response's caching and security
// headers. Headers wraps every route of the program (the pages and the
// server's /ws, /healthz, /metrics and /api/rooms) with the safe defaults;
// setHeaders then loosens them for the kinds of response that need it. A
// handler sets only what is its own answer: Content-Type, Location,
// Retry-After, Allow.

// kind is what a response is, which decides its headers.
type kind int

const (
	// kindPrivate is the default: an answer for this client alone (the API,
	// errors, the join form), never stored, never framed, running nothing.
	kindPrivate kind = iota
	// kindPage is an HTML page: the page's Content-Security-Policy (set by
	// the handler, which knows the import map's hash), revalidated with its
	// ETag on every visit.
	kindPage
	// kindStatic is a static file: readable by any origin, which a sandboxed
	// embed needs for modules and fonts; the Cache-Control depends on whether
	// its URL is versioned (assets.ServeHTTP).
	kindStatic
	// kindPublic is public data any page may read and caches may keep for an
	// hour: the oEmbed answer, /embed.js.
	kindPublic
)

// privatePolicy is the Content-Security-Policy of everything that is not a
// page: nothing in it may run, load anything or be framed.
const privatePolicy = "default-src 'none'; frame-ancestors 'none'"

// workerPolicy is the Content-Security-Policy of the page's workers
// (static/js/*worker.js): they import the page's modules and reach nothing
// else.
const workerPolicy = "default-src 'none'; script-src 'self'"

// Headers sets the headers every response of the program carries, before
// next writes its own: no MIME sniffing, a referrer policy, and the private
// kind's caching and policy, which the pages and static files replace.
func Headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		setHeaders(h, kindPrivate)
		next.ServeHTTP(w, r)
	})
}

// setHeaders sets the caching and security headers of a response of kind k.
func setHeaders(h http.Header, k kind) {
	switch k {
	case kindPrivate:
		h.Set("Content-Security-Policy", privatePolicy)
		h.Set("Cache-Control", "no-store")
		h.Del("Access-Control-Allow-Origin")
	case kindPage:
		h.Set("Cache-Control", "no-cache")
		h.Del("Access-Control-Allow-Origin")
	case kindStatic, kindPublic:
		// The files are public, and browsers fetch module scripts and fonts
		// with CORS: without this a sandboxed embed (origin null) could not
		// load them.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Content-Security-Policy", privatePolicy)
		h.Set("Cache-Control", "public, max-age=3600")
	}
}

// pageMethods are the methods every page and static file answers.
const pageMethods = "GET, HEAD, OPTIONS"

// options answers OPTIONS on a page route: 204 with the methods it allows.
// It is not a CORS preflight answer: the pages need none.
func options(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", pageMethods)
	w.WriteHeader(http.StatusNoContent)
}

// methodNotAllowed answers a method a page route does not serve.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", pageMethods)
	http.Error(w, "405 method not allowed: this address answers "+pageMethods, http.StatusMethodNotAllowed)
}

// headWriter answers HEAD with GET's status and headers and no body, for the
// handlers that write their body themselves (http.ServeContent already
// knows HEAD).
type headWriter struct{ http.ResponseWriter }

func (headWriter) Write(p []byte) (int, error) { return len(p), nil }
