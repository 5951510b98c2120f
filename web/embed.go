package web

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/netstep/netstep/external"
	"github.com/netstep/netstep/static"
)

// embedData is what templates/embed.html renders.
type embedData struct {
	// Lesson is the built-in lesson to load, or empty when the lesson is
	// inline in the URL's fragment (#lesson=…).
	Lesson string
	Title  string
	// DefaultLesson is loaded when there is neither.
	DefaultLesson string
	// Theme is the query's theme when it is one the page knows, so the
	// first paint already has the right colours.
	Theme string
	// Origins are the configured embed origins, space-separated: the page
	// addresses its messages to them and accepts commands only from them.
	// Empty means any.
	Origins string
}

// embedThemes are the themes the embed accepts in its query.
var embedThemes = map[string]bool{"auto": true, "light": true, "dark": true, "projector": true}

// checkOrigins validates and normalises Options.EmbedOrigins: each must be
// an http or https origin, scheme://host[:port], with nothing after it.
func checkOrigins(origins []string) ([]string, error) {
	var out []string
	for _, o := range origins {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Host, " ;,'\"") {
			return nil, fmt.Errorf("%w %q: want scheme://host[:port], like https://course.example.edu", ErrEmbedOrigin, o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// embedPolicy is the Content-Security-Policy of /embed: the page's own, but
// framable by any site, or by the given origins only.
func embedPolicy(origins []string) string {
	ancestors := "*"
	if len(origins) > 0 {
		ancestors = strings.Join(origins, " ")
	}
	return strings.Replace(ContentSecurityPolicy, "frame-ancestors 'self'", "frame-ancestors "+ancestors, 1)
}

// embedHeaders sets the headers of /embed: like every page's, but with the
// embed's frame-ancestors and, on purpose, no X-Frame-Options, which would
// forbid framing in browsers that check it before the policy.
func (h *handler) embedHeaders(hd http.Header) {
	pageHeaders(hd)
	hd.Set("Content-Security-Policy", h.embedCSP)
	hd.Del("X-Frame-Options")
}

// embedPage serves /embed?lesson=NAME (or /embed#lesson=… for an inline
// lesson, which the server never sees): the lesson alone, to be framed.
func (h *handler) embedPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := embedData{DefaultLesson: h.defaultLesson, Theme: "auto", Origins: strings.Join(h.embedOrigins, " ")}
	if name := q.Get("lesson"); name != "" {
		title, ok := h.lessons.Title(name)
		if !ok {
			h.embedHeaders(w.Header())
			http.Error(w, "There is no lesson called that on this netstep server.", http.StatusNotFound)
			return
		}
		data.Lesson, data.Title = name, title
	}
	if t := q.Get("theme"); embedThemes[t] {
		data.Theme = t
	}
	h.execute(w, r, h.embed, data, h.embedHeaders)
}

// embedScript serves /embed.js, the host page's helper that sizes
// iframe[data-netstep] elements. It is a classic script, so a course page
// can include it with one plain <script src> line.
func (h *handler) embedScript(w http.ResponseWriter, r *http.Request) {
	body, err := fs.ReadFile(static.FS, "js/embed-host.js")
	if err != nil {
		h.log.Error("web: embed-host.js is missing", "err", err)
		http.Error(w, "embed.js is missing; this is a bug.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// lessonName returns the lesson a URL of this server shows: /lesson/{name},
// or /embed?lesson=NAME. ok is false for any other URL, another host, or a
// lesson not in the catalog.
func (h *handler) lessonName(r *http.Request, raw string) (name string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, external.Host(r, h.trustProxy)) || u.User != nil {
		return "", false
	}
	switch {
	case strings.HasPrefix(u.Path, "/lesson/"):
		name = strings.TrimPrefix(u.Path, "/lesson/")
	case u.Path == "/embed":
		name = u.Query().Get("lesson")
	}
	if name == "" || strings.Contains(name, "/") {
		return "", false
	}
	if _, ok := h.lessons.Title(name); !ok {
		return "", false
	}
	return name, true
}

// oembedURL is the absolute address of the oEmbed answer for a lesson page.
func (h *handler) oembedURL(r *http.Request, name string) string {
	base := external.Base(r, h.trustProxy)
	return base + "/oembed?format=json&url=" + url.QueryEscape(base+"/lesson/"+url.PathEscape(name))
}
