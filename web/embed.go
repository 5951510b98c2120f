package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/netstep/netstep/external"
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

// embedPolicy is the Content-Security-Policy of /embed: the page's own
// (policy), but framable by any site, or by the given origins only. There is
// on purpose no X-Frame-Options, which would forbid framing in browsers that
// check it before the policy.
func embedPolicy(policy string, origins []string) string {
	ancestors := "*"
	if len(origins) > 0 {
		ancestors = strings.Join(origins, " ")
	}
	return strings.Replace(policy, "frame-ancestors 'self'", "frame-ancestors "+ancestors, 1)
}

// embedPage serves /embed?lesson=NAME (or /embed#lesson=… for an inline
// lesson, which the server never sees): the lesson alone, to be framed.
func (h *handler) embedPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := embedData{DefaultLesson: h.defaultLesson, Theme: "auto", Origins: strings.Join(h.embedOrigins, " ")}
	if name := q.Get("lesson"); name != "" {
		title, ok := h.lessons.Title(name)
		if !ok {
			// Said inside the host's frame, so framable like the embed.
			w.Header().Set("Content-Security-Policy", h.embedCSP)
			http.Error(w, "There is no lesson called that on this netstep server.", http.StatusNotFound)
			return
		}
		data.Lesson, data.Title = name, title
	}
	if t := q.Get("theme"); embedThemes[t] {
		data.Theme = t
	}
	h.execute(w, r, h.embed, data, true)
}

// embedScript serves /embed.js, the host page's helper that sizes
// iframe[data-netstep] elements. It is a classic script, so a course page
// can include it with one plain <script src> line; its URL is not versioned,
// so caches keep it five minutes and then revalidate it by its ETag.
func (h *handler) embedScript(w http.ResponseWriter, r *http.Request) {
	f, ok := h.assets.files["js/embed-host.js"]
	if !ok {
		h.log.Error("web: embed-host.js is missing")
		http.Error(w, "embed.js is missing; this is a bug.", http.StatusInternalServerError)
		return
	}
	setHeaders(w.Header(), kindPublic)
	w.Header().Set("Cache-Control", "public, max-age=300")
	f.serve(w, r)
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
