package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/netstep/netstep/external"
)

// RoomFinder looks classroom rooms up for the pages. JoinRoom returns the
// room's code as the server spells it and 200, or 404 when there is no such
// room, or 429 when the client's address has guessed too many codes. The
// server (package server) implements it and does the rate limiting.
type RoomFinder interface {
	JoinRoom(r *http.Request, code string) (string, int)
}

// joinData is what templates/join.html renders.
type joinData struct {
	Code    string
	Problem string
}

// joinForm serves /join, where a student types a room code, and
// /join?code=CODE, which the form sends: on to /join/CODE if the room is
// open, or the form again with the problem.
func (h *handler) joinForm(w http.ResponseWriter, r *http.Request) {
	raw, ok := r.URL.Query()["code"]
	if !ok {
		h.renderJoin(w, r, http.StatusOK, joinData{})
		return
	}
	code := ""
	if len(raw) > 0 {
		code = strings.TrimSpace(raw[0])
	}
	canon, status := h.rooms.JoinRoom(r, code)
	if status != http.StatusOK {
		h.renderJoin(w, r, status, joinData{Code: code, Problem: joinProblem(status, code)})
		return
	}
	http.Redirect(w, r, "/join/"+canon, http.StatusSeeOther)
}

// joinRoom serves /join/{code}: the page, following the room.
func (h *handler) joinRoom(w http.ResponseWriter, r *http.Request) {
	h.roomPage(w, r, "follower")
}

// presentRoom serves /present/{code}: the page, driving the room. The
// presenter token is in the URL's fragment, which never reaches the server;
// the page reads it and presents it on the websocket.
func (h *handler) presentRoom(w http.ResponseWriter, r *http.Request) {
	h.roomPage(w, r, "presenter")
}

func (h *handler) roomPage(w http.ResponseWriter, r *http.Request, role string) {
	code := chi.URLParam(r, "code")
	canon, status := h.rooms.JoinRoom(r, code)
	if status != http.StatusOK {
		h.renderJoin(w, r, status, joinData{Code: code, Problem: joinProblem(status, code)})
		return
	}
	if canon != code {
		prefix := "/join/"
		if role == "presenter" {
			prefix = "/present/"
		}
		http.Redirect(w, r, prefix+canon, http.StatusMovedPermanently)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	// The room's lesson is whatever its session runs (a teacher's own, one
	// loaded since): the page names it when the state comes, and until then
	// names the class, not the default lesson.
	h.renderPage(w, r, pageData{Title: "Class " + canon, Room: canon, RoomRole: role, JoinURL: h.joinURL(r, canon)})
}

// roomStatus serves GET /api/rooms/{code}: {"code":"K7M2QX"} when the room
// is open, else the status (404: no such room, or it has ended; 429: too
// many tries) with {"error": why}. A browser cannot see why its websocket
// handshake was refused, so a classroom page asks here before it gives up.
// It counts against the same join limit as /join.
func (h *handler) roomStatus(w http.ResponseWriter, r *http.Request) {
	canon, status := h.rooms.JoinRoom(r, chi.URLParam(r, "code"))
	w.Header().Set("Content-Type", "application/json")
	if status != http.StatusOK {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "10")
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": joinProblem(status, chi.URLParam(r, "code"))})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"code": canon})
}

// roomQR serves /api/rooms/{code}/qr: a PNG QR code of the room's join
// link, for the presenter's screen.
func (h *handler) roomQR(w http.ResponseWriter, r *http.Request) {
	canon, status := h.rooms.JoinRoom(r, chi.URLParam(r, "code"))
	if status != http.StatusOK {
		http.Error(w, joinProblem(status, ""), status)
		return
	}
	link := h.joinURL(r, canon)
	if base := r.URL.Query().Get("base"); base != "" {
		// Only the server's own network addresses: the page offers them
		// when it is open at a loopback address.
		if !slices.Contains(h.addresses, base) {
			http.Error(w, "base: not one of this server's network addresses (GET /api/addresses lists them).", http.StatusBadRequest)
			return
		}
		link = base + "/join/" + canon
	}
	f, ok, err := h.qr.get(link)
	if err != nil {
		h.log.Error("web: drawing a QR code", "err", err)
		http.Error(w, "The QR code could not be drawn; this is a bug.", http.StatusInternalServerError)
		return
	}
	if !ok {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "Too many QR codes drawn just now; try again in a second.", http.StatusTooManyRequests)
		return
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	f.serve(w, r)
}

func (h *handler) renderJoin(w http.ResponseWriter, r *http.Request, status int, data joinData) {
	var buf bytes.Buffer
	if err := h.join.Execute(&buf, data); err != nil {
		h.log.Error("web: rendering the join page", "err", err)
		http.Error(w, "The page could not be drawn; this is a bug.", http.StatusInternalServerError)
		return
	}
	// A form with this client's problem: private (the default kind), but a
	// page, so with the page's policy.
	w.Header().Set("Content-Security-Policy", h.csp)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "10")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func joinProblem(status int, code string) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Too many tries from your network. Wait ten seconds, then try again."
	case http.StatusNotFound:
		if code == "" {
			return "Type the room code your teacher shows."
		}
		return "There is no open room with the code " + code + ". Check it with your teacher: it has six letters and digits."
	}
	return "The room could not be found."
}

// joinURL is the absolute join link of a room, as students open it.
func (h *handler) joinURL(r *http.Request, code string) string {
	return external.Base(r, h.trustProxy) + "/join/" + url.PathEscape(code)
}

// serveAddresses serves GET /api/addresses: {"addresses":["http://192.168.1.20:8080",…]},
// the base URLs at which other machines reach this server (Options.Addresses;
// empty when it listens on loopback only).
func (h *handler) serveAddresses(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	list := h.addresses
	if list == nil {
		list = []string{}
	}
	json.NewEncoder(w).Encode(map[string][]string{"addresses": list})
}
