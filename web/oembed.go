package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strconv"

	"github.com/netstep/netstep/external"
)

// The size an embedded lesson asks for when the consumer sets no maxima:
// room for the network, the controls and the narration side by side.
const (
	embedWidth  = 800
	embedHeight = 600
)

// oembedResponse is an oEmbed 1.0 "rich" answer (https://oembed.com, 2.3.4).
type oembedResponse struct {
	Type         string `json:"type"`
	Version      string `json:"version"`
	Title        string `json:"title"`
	ProviderName string `json:"provider_name"`
	ProviderURL  string `json:"provider_url"`
	CacheAge     int    `json:"cache_age"`
	HTML         string `json:"html"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
}

// oembed answers GET /oembed?url=…&format=json[&maxwidth=&maxheight=] for
// this server's lesson pages: 400 for a missing url or bad maxima, 501 for a
// format other than json, 404 for a URL that is not one of its lessons.
func (h *handler) oembed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(status int, msg string) {
		http.Error(w, msg, status)
	}
	raw := q.Get("url")
	if raw == "" {
		fail(http.StatusBadRequest, "oembed: the url parameter is required")
		return
	}
	if f := q.Get("format"); f != "" && f != "json" {
		fail(http.StatusNotImplemented, "oembed: only format=json is supported")
		return
	}
	width, height := embedWidth, embedHeight
	for _, m := range []struct {
		name string
		dst  *int
	}{{"maxwidth", &width}, {"maxheight", &height}} {
		s := q.Get(m.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			fail(http.StatusBadRequest, "oembed: "+m.name+" must be a whole number of pixels from 1 to 100000")
			return
		}
		*m.dst = min(*m.dst, n)
	}
	name, ok := h.lessonName(r, raw)
	if !ok {
		fail(http.StatusNotFound, "oembed: that URL is not a lesson of this netstep server")
		return
	}
	title, _ := h.lessons.Title(name)
	base := external.Base(r, h.trustProxy)
	src := base + "/embed?lesson=" + url.QueryEscape(name)
	res := oembedResponse{
		Type:         "rich",
		Version:      "1.0",
		Title:        title,
		ProviderName: "netstep",
		ProviderURL:  base + "/",
		CacheAge:     86400,
		HTML:         iframeHTML(src, title, width, height),
		Width:        width,
		Height:       height,
	}
	body, err := json.Marshal(res)
	if err != nil {
		fail(http.StatusInternalServerError, "oembed: this is a bug")
		return
	}
	// The answer is public and holds no secrets; a course page's own script
	// may read it.
	setHeaders(w.Header(), kindPublic)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// iframeHTML is the markup a consumer pastes into its page: the embed, at a
// fixed size that /embed.js (if the page includes it) corrects to the
// lesson's real height.
func iframeHTML(src, title string, width, height int) string {
	return `<iframe src="` + html.EscapeString(src) + `" width="` + strconv.Itoa(width) + `" height="` + strconv.Itoa(height) +
		`" title="` + html.EscapeString(title+" · netstep") + `" loading="lazy" style="border:0;max-width:100%" data-netstep></iframe>`
}
