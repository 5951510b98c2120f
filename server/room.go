package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/engine"
	"github.com/netstep/netstep/external"
)

// A classroom room is a session with a presenter, who drives it, and
// followers, who watch. It is a session like any other (one goroutine owns
// its trainer; frames are encoded once and fanned out) with three
// differences: it is found by a short code instead of a resume token, it
// waits RoomTTL (not ResumeWindow) for its presenter to come back, and its
// viewers have roles. See docs/classroom.md and the Classroom section of
// docs/protocol.md.

// codeAlphabet is what room codes are made of: digits and capitals with the
// look-alikes left out (0 and O, 1 and I and L, U and V), 30 symbols, so a
// 6-character code is one of 729 million.
const (
	codeAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeLen      = 6
)

// Limits on what creating a room reads: a lesson object (engine.MaxLessonBytes)
// with room to spare for the JSON around it, as a load frame.
const maxCreateBody = engine.MaxLessonBytes + 4<<10

// room is a classroom room: its code, the hash of its presenter token and
// its session.
type room struct {
	code      string
	lesson    string // the lesson it opened with
	relay     *relay // with NATS: its link to the other instances (relay.go)
	tokenHash [32]byte
	sess      *session
	followers atomic.Int32 // followers attached or admitted and on their way (admit)
	creator   string       // the client address that opened it, for RoomsPerAddress

	admitMu sync.Mutex
	byAddr  map[string]int // followers admitted by client address

	// Owned by the session goroutine.
	math     *bool  // the presenter's view: the math shown or not, if said
	gran     string // the presenter's step size, if said
	viewJSON []byte // the last view frame, for late joiners
	ended    bool   // roomEnded has been sent

	// Class votes (vote.go), owned by the session goroutine.
	poll      *poll              // the open question, or nil
	asked     int                // questions asked so far: the next one's number
	seats     map[string]*viewer // the seat of every follower connected
	tallyDue  bool               // a tally frame is owed, on a timer
	lastTally time.Time          // when the last tally frame went out
}

// studentsAre is "1 student is" or "n students are", for the full-room
// reasons.
func studentsAre(n int) string {
	if n == 1 {
		return "1 student is"
	}
	return fmt.Sprintf("%d students are", n)
}

// admit holds a follower's place before the upgrade, so that joins at the
// same moment can never take the room past max followers, nor one address
// past perAddr; it says why not otherwise. leave gives the place back.
func (rm *room) admit(addr string, max, perAddr int) (bool, string) {
	rm.admitMu.Lock()
	defer rm.admitMu.Unlock()
	if int(rm.followers.Load()) >= max {
		return false, fmt.Sprintf("This room is full: %s following, the most this server allows.", studentsAre(max))
	}
	if rm.byAddr[addr] >= perAddr {
		return false, fmt.Sprintf("This room is full for your network: %s following from it, the most one address may have.", studentsAre(perAddr))
	}
	if rm.byAddr == nil {
		rm.byAddr = map[string]int{}
	}
	rm.byAddr[addr]++
	rm.followers.Add(1)
	return true, ""
}

func (rm *room) leave(addr string) {
	rm.admitMu.Lock()
	defer rm.admitMu.Unlock()
	if rm.byAddr[addr]--; rm.byAddr[addr] <= 0 {
		delete(rm.byAddr, addr)
	}
	rm.followers.Add(-1)
}

// CloseRoomFull is the close code a follower gets when its room has no
// place for it (the reason says why): a browser cannot read a refused
// handshake's status, but it can read a close frame.
const CloseRoomFull = 4000

// tokenOK reports whether token is the room's presenter token, in constant
// time.
func (rm *room) tokenOK(token string) bool {
	if token == "" || len(token) > 64 {
		return false
	}
	h := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(h[:], rm.tokenHash[:]) == 1
}

// NormalizeRoomCode returns code as the server spells it (capitals, spaces
// and dashes dropped) and whether it could be a room code at all.
func NormalizeRoomCode(code string) (string, bool) {
	if len(code) > 4*codeLen {
		return "", false
	}
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(code))
	if len(code) != codeLen {
		return "", false
	}
	for i := range len(code) {
		if strings.IndexByte(codeAlphabet, code[i]) < 0 {
			return "", false
		}
	}
	return code, true
}

// drawCode draws a room code; tests replace it to force a clash.
var drawCode = newRoomCode

// newRoomCode draws a code uniformly from crypto/rand.
func newRoomCode() string {
	out := make([]byte, 0, codeLen)
	var b [16]byte
	for len(out) < codeLen {
		rand.Read(b[:])
		for _, x := range b {
			// 240 is the largest multiple of 30 in a byte: no bias.
			if x < 240 && len(out) < codeLen {
				out = append(out, codeAlphabet[int(x)%len(codeAlphabet)])
			}
		}
	}
	return string(out)
}

// lookupRoom finds an open room by its (normalized) code.
func (s *Server) lookupRoom(code string) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[code]
}

// Rooms returns how many rooms are open.
func (s *Server) Rooms() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rooms)
}

// JoinRoom is how the join, present and QR pages look a room up: it returns
// the room's code as the server spells it and 200, or 404 when there is no
// such room, or 429 when the client's address has tried too many codes that
// do not exist. Only misses are counted here (a page view holds nothing);
// every websocket to a room is counted (see ServeHTTP).
func (s *Server) JoinRoom(r *http.Request, code string) (string, int) {
	code, ok := NormalizeRoomCode(code)
	if ok && s.lookupRoom(code) != nil {
		return code, http.StatusOK
	}
	if ok && s.dir != nil {
		if _, found := s.dir.lookup(code); found {
			return code, http.StatusOK
		}
	}
	if !s.joins.allow(s.clientAddr(r), time.Now()) {
		s.metrics.refused.WithLabelValues("join_rate").Inc()
		return "", http.StatusTooManyRequests
	}
	return "", http.StatusNotFound
}

// roomCreated is the answer to POST /api/rooms.
type roomCreated struct {
	Code           string `json:"code"`
	PresenterToken string `json:"presenterToken"`
	PresenterURL   string `json:"presenterUrl"`
	JoinURL        string `json:"joinUrl"`
	Lesson         string `json:"lesson"`
	ExpiresSeconds int    `json:"expiresSeconds"` // how long the room waits for a presenter who is not connected
}

// CreateRoom answers POST /api/rooms: it opens a classroom room with a
// lesson loaded (the body may name one: {"lesson":"xor"}; empty means the
// default) and answers 201 with {"code","presenterToken","presenterUrl",
// "joinUrl"}. The token is in presenterUrl's fragment, which browsers never
// send to a server, and never in joinUrl. Creation is limited per client
// address and by MaxRooms; pages from other origins are refused with 403.
func (s *Server) CreateRoom(w http.ResponseWriter, r *http.Request) {
	fail := func(reason string, status int, msg string) {
		s.metrics.refused.WithLabelValues(reason).Inc()
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "60")
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		fail("room_method", http.StatusMethodNotAllowed, "POST to this address to open a classroom room.")
		return
	}
	if !s.originAllowed(r) {
		fail("origin", http.StatusForbidden, "Pages from "+r.Header.Get("Origin")+" may not open rooms here.")
		return
	}
	if !s.roomCreates.allow(s.clientAddr(r), time.Now()) {
		fail("room_rate", http.StatusTooManyRequests, "Too many rooms opened from your address; wait a minute.")
		return
	}
	if e := s.memoryFull("room"); e != nil {
		fail("memory", http.StatusServiceUnavailable, e.Message)
		return
	}
	var req struct {
		Lesson  json.RawMessage `json:"lesson"`
		Session string          `json:"session"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCreateBody+1))
	if err != nil || len(body) > maxCreateBody {
		fail("room_body", http.StatusBadRequest, fmt.Sprintf("The request body must be at most %d bytes of JSON.", maxCreateBody))
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			fail("room_body", http.StatusBadRequest, `The body must be empty, {"lesson":"NAME"}, {"lesson":{…a lesson object…}} or {"session":"RESUME-TOKEN"}: `+err.Error())
			return
		}
	}
	var (
		tr    *engine.Trainer
		name  string
		start *engine.EpochLoss
	)
	if req.Session != "" {
		if len(req.Lesson) > 0 {
			fail("room_body", http.StatusBadRequest, "session: want either session or lesson, not both")
			return
		}
		var e *Error
		if tr, name, start, e = s.forkForRoom(req.Session); e != nil {
			fail("room_session", http.StatusBadRequest, e.Message)
			return
		}
	} else {
		l, n, e := s.roomLesson(req.Lesson)
		if e != nil {
			fail("room_lesson", http.StatusBadRequest, e.Message)
			return
		}
		if tr, err = engine.NewTrainer(l); err != nil {
			fail("room_lesson", http.StatusBadRequest, "The lesson "+n+" does not build: "+err.Error())
			return
		}
		name = n
	}
	token := randomString(24) // 192 bits
	rm, msg := s.openRoom(token, name, s.clientAddr(r), tr)
	if rm == nil {
		fail("full", http.StatusServiceUnavailable, msg)
		return
	}
	if start != nil {
		// The loss before training, which the room's loss chart begins
		// with, as the learner's did: it cannot be measured again.
		rm.sess.do(func() { rm.sess.startLoss, rm.sess.startFor = *start, rm.sess.tr })
	}
	base := external.Base(r, s.cfg.TrustProxy)
	out := roomCreated{
		Code:           rm.code,
		PresenterToken: token,
		PresenterURL:   base + "/present/" + rm.code + "#token=" + token,
		JoinURL:        base + "/join/" + rm.code,
		Lesson:         name,
		ExpiresSeconds: int(min(s.cfg.RoomTTL, s.cfg.RoomEmptyTTL).Seconds()), // nobody is in it yet
	}
	s.log.Info("room opened", "room", rm.code, "session", rm.sess.id, "lesson", name)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", out.PresenterURL[:strings.IndexByte(out.PresenterURL, '#')])
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(out)
}

// roomLesson is the lesson a new room opens with: raw is a built-in
// lesson's name (empty or missing: the default) or a lesson object, the
// one a learner's page has loaded ("Teach a class" from a lesson of one's
// own, or from where the learner has trained to), checked exactly as a load
// command's lesson is, with errors that name the field. name is what the
// room calls it: the lesson's name, or its title for a lesson without one.
func (s *Server) roomLesson(raw json.RawMessage) (l *engine.Lesson, name string, e *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		if len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &name); err != nil {
				return nil, "", errorf(CodeBadCommand, "lesson: want a lesson's name or a lesson object, got %s", engine.Describe(raw))
			}
		}
		if name == "" {
			name = defaultLessonName(s.cfg.Lessons)
		}
		l, ok := s.cfg.Lessons.Lookup(name)
		if !ok {
			return nil, "", errorf(CodeBadCommand, "lesson: there is no lesson called %s; the lessons are %s.", engine.Describe(raw), joinQuoted(s.cfg.Lessons.Names()))
		}
		return l, name, nil
	}
	l, err := s.lessons.parse(raw)
	if err != nil {
		return nil, "", lessonError(err)
	}
	name = l.Name
	if name == "" {
		name = l.Title
	}
	return l, name, nil
}

// forkForRoom copies the live learner's session a resume token names (its
// weights, optimizer state, position and Back history, as "Explore on my
// own" copies a room's) for a new room: "Teach a class" starts the class
// exactly where the teacher is. start is the session's loss before
// training, when it knows it.
func (s *Server) forkForRoom(token string) (tr *engine.Trainer, name string, start *engine.EpochLoss, e *Error) {
	sess := s.lookup(token)
	if sess == nil || sess.room != nil {
		return nil, "", nil, errorf(CodeNotFound, "session: no live session on this server has that token (it may have ended, or live on another instance)")
	}
	sess.do(func() {
		if sess.tr == nil {
			return
		}
		tr = sess.tr.Fork()
		if sess.startFor == sess.tr {
			st := sess.startLoss
			start = &st
		}
	})
	if tr == nil {
		return nil, "", nil, errorf(CodeNotFound, "session: that session has no lesson loaded")
	}
	l := tr.Lesson()
	if name = l.Name; name == "" {
		name = l.Title
	}
	return tr, name, start, nil
}

// openRoom starts a room's session with tr loaded, or says why it cannot.
// With NATS, the room's code is claimed in the directory first, so that no
// other instance hands it out.
func (s *Server) openRoom(token, lesson, creator string, tr *engine.Trainer) (*room, string) {
	msg, ok := s.reserve()
	if !ok {
		return nil, msg
	}
	rm := &room{tokenHash: sha256.Sum256([]byte(token)), lesson: lesson, creator: creator}
	sess := newSession(s, randomString(9), "") // no resume token: the room's code and presenter token find it
	tr.SetMemoryBudget(s.cfg.SessionMemory)
	sess.room, sess.tr = rm, tr
	sess.orphanTTL, sess.idleTTL = s.cfg.RoomTTL, s.cfg.RoomTTL
	rm.sess = sess
	// The room's place is held (s.opening) from the check until it is
	// open or given up, so that rooms opened at once never pass the caps
	// (admission.go).
	s.mu.Lock()
	if why := s.roomRefusalLocked(creator); why != "" {
		s.reserved--
		s.mu.Unlock()
		return nil, why
	}
	s.opening[creator]++
	s.mu.Unlock()
	opened := false
	defer func() {
		if !opened {
			s.mu.Lock()
			s.openedLocked(creator)
			s.mu.Unlock()
		}
	}()
	for attempt := 0; s.dir != nil; attempt++ {
		rm.code = drawCode()
		if s.lookupRoom(rm.code) != nil {
			continue
		}
		ok, err := s.dir.claim(rm.code, rm)
		if err != nil || (!ok && attempt >= maxCodeAttempts) {
			s.release()
			s.log.Error("room directory: claiming a code", "err", err, "attempts", attempt+1)
			return nil, "netstep cannot reach its room directory (NATS) right now; try again in a minute."
		}
		if ok {
			break
		}
	}
	if s.dir != nil {
		if err := s.startRelay(rm); err != nil {
			s.release()
			s.wg.Add(1)
			go s.releaseCode(rm.code)
			s.log.Error("room relay: subscribing", "err", err)
			return nil, "netstep cannot reach its room directory (NATS) right now; try again in a minute."
		}
	}
	s.mu.Lock()
	s.reserved--
	for s.dir == nil && (rm.code == "" || s.rooms[rm.code] != nil) {
		rm.code = drawCode()
	}
	if s.closing {
		if s.dir != nil {
			s.wg.Add(1)
			go s.releaseCode(rm.code)
		}
		s.mu.Unlock()
		return nil, "netstep is restarting; try again in a few seconds."
	}
	s.openedLocked(creator)
	opened = true
	s.startRoomLocked(rm, sess)
	return rm, ""
}

// openedLocked gives back the place openRoom held for a room from addr:
// the room is open (and counted in s.rooms) or given up. s.mu is held.
func (s *Server) openedLocked(addr string) {
	if s.opening[addr]--; s.opening[addr] <= 0 {
		delete(s.opening, addr)
	}
}

// serveRoom is /ws?room=CODE (a follower), /ws?room=CODE&token=TOKEN (the
// presenter) and /ws?fork=CODE (a private session forked from the room's
// current state). Every attempt counts against the client address's join
// limit; an unknown code is 404 and a wrong token 403, before the upgrade.
//
// compact (?events=compact) asks for events frames in the compact form. A
// room encodes each events frame once per form its viewers read, so a room
// with both kinds of followers prepares two messages per frame, never more.
func (s *Server) serveRoom(w http.ResponseWriter, r *http.Request, q url.Values, creds Credentials, compact bool, refuse func(string, int, string)) {
	if !s.joins.allow(s.clientAddr(r), time.Now()) {
		refuse("join_rate", http.StatusTooManyRequests, "Too many tries at room codes from your address; wait a few seconds.")
		return
	}
	raw, fork := q.Get("room"), false
	if !q.Has("room") {
		raw, fork = q.Get("fork"), true
	}
	code, _ := NormalizeRoomCode(raw)
	rm := s.lookupRoom(code)
	if rm == nil && s.dir != nil && code != "" {
		if e, found := s.dir.lookup(code); found {
			remote := e.Owner != s.dir.c.Instance
			if s.roomData != nil {
				// Its owner may have gone or released it: then it is
				// taken over here (roomlog.go).
				rm, remote = s.routeRoom(code)
				if rm == nil && !remote {
					refuse("room_moving", http.StatusServiceUnavailable, "This class's server is not answering; it carries on elsewhere in a few seconds.")
					return
				}
			}
			if remote {
				s.serveRemoteRoom(w, r, creds, code, e, fork, refuse)
				return
			}
		}
	}
	if rm == nil {
		refuse("room", http.StatusNotFound, "There is no classroom room with that code; check it with your teacher.")
		return
	}
	if fork {
		s.serveFork(w, r, rm, compact, refuse)
		return
	}
	role := roleFollower
	if creds.Token != "" {
		if !rm.tokenOK(creds.Token) {
			refuse("room_token", http.StatusForbidden, "That presenter link is not valid for this room. Students join without a token, at /join/"+rm.code+".")
			return
		}
		role = rolePresenter
	}
	addr := s.clientAddr(r)
	admitted, why := role == rolePresenter, ""
	if role == roleFollower {
		admitted, why = rm.admit(addr, s.cfg.MaxFollowers, s.cfg.FollowersPerAddress)
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		if admitted && role == roleFollower {
			rm.leave(addr)
		}
		return // the upgrader has answered
	}
	if !admitted {
		// Upgraded only to say so: the student's page shows the reason
		// instead of reconnecting for ever.
		s.refuseFull(ws, why)
		return
	}
	c := s.newConn(ws, rm.sess)
	c.v.role, c.v.compact, c.v.addr = role, compact, addr
	if seat := creds.Seat; role == roleFollower && seatOK(seat) {
		c.v.seat = seat // kept only if it voted on the open question
	}
	if !rm.sess.do(func() { rm.sess.attach(c.v, false, false) }) {
		if role == roleFollower {
			rm.leave(addr)
		}
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "the room has ended"), time.Now().Add(time.Second))
		s.untrack(ws)
		ws.Close()
		return
	}
	c.serve()
}

// serveFork starts a private session whose trainer is a fork of the room's:
// the same weights, position and history, from which the student explores
// alone. The room is untouched.
func (s *Server) serveFork(w http.ResponseWriter, r *http.Request, rm *room, compact bool, refuse func(string, int, string)) {
	if err := s.memoryFull("fork"); err != nil {
		refuse("memory", http.StatusServiceUnavailable, err.Message)
		return
	}
	var tr *engine.Trainer
	if !rm.sess.do(func() {
		if rm.sess.tr != nil {
			tr = rm.sess.tr.Fork()
		}
	}) || tr == nil {
		refuse("room", http.StatusNotFound, "That room has ended.")
		return
	}
	if msg, ok := s.reserve(); !ok {
		refuse("full", http.StatusServiceUnavailable, msg)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.release()
		return
	}
	sess := s.start(compact)
	c := s.newConn(ws, sess)
	if !sess.do(func() {
		sess.setTrainer(tr)
		sess.attach(c.v, false, false)
	}) {
		s.untrack(ws)
		ws.Close()
		return
	}
	c.serve()
}

// roomAttached runs on the session goroutine after a viewer of a room has
// had hello and the state: it tells the viewer the room's code and the
// presenter's view, and the presenters how many follow.
func (s *session) roomAttached(v *viewer) {
	rm := s.room
	if v.role == roleFollower {
		s.srv.metrics.followers.Inc() // its place was taken by admit
		s.seatFollower(v)
	}
	s.buf = appendRoomFrame(s.buf[:0], rm.code, v.role, int(rm.followers.Load()), v.seat)
	v.push(&frame{kind: kindOrdered, data: bytes.Clone(s.buf)})
	if rm.viewJSON != nil {
		v.push(&frame{kind: kindOrdered, data: rm.viewJSON})
	}
	s.voteJoined(v)
	if v.role == roleFollower {
		s.roomCount(v)
		s.tallyChanged()
	}
}

// roomDetached runs when a room's viewer has gone.
func (s *session) roomDetached(v *viewer) {
	if v.role == roleFollower {
		s.followerLeft(v)
	}
}

// followerLeft gives a follower's place back and takes it out of the
// count and the tally: one connected here, or on another instance
// (followers.go).
func (s *session) followerLeft(v *viewer) {
	s.room.leave(v.addr)
	s.srv.metrics.followers.Dec()
	s.unseatFollower(v)
	s.roomCount(nil)
	s.tallyChanged()
}

// roomCount sends the number of followers to every presenter (except skip).
func (s *session) roomCount(skip *viewer) {
	rm := s.room
	var f *frame
	for _, p := range s.viewers {
		if p.role != rolePresenter || p == skip {
			continue
		}
		if f == nil {
			s.buf = appendRoomFrame(s.buf[:0], rm.code, rolePresenter, int(rm.followers.Load()), "")
			f = &frame{kind: kindOrdered, data: bytes.Clone(s.buf)}
		}
		p.push(f)
	}
}

// roomEnding tells every viewer the room is over, once, before their
// connections close.
func (s *session) roomEnding(reason string) {
	if s.room.ended {
		return
	}
	s.room.ended = true
	s.buf = append(s.buf[:0], `{"type":"roomEnded","code":`...)
	s.buf = engine.AppendString(s.buf, s.room.code)
	s.buf = append(s.buf, `,"reason":`...)
	s.buf = engine.AppendString(s.buf, reason)
	s.buf = append(s.buf, '}')
	s.broadcast(kindOrdered, s.buf)
}

// view applies a view command: the presenter's page shows the math or not,
// and steps at some granularity. Every viewer gets a view frame; in a room
// late joiners get the latest one.
func (s *session) view(c *command) {
	var math *bool
	gran := c.viewGran
	if rm := s.room; rm != nil {
		if c.viewMath != nil {
			rm.math = c.viewMath
		}
		if gran != "" {
			rm.gran = gran
		}
		math, gran = rm.math, rm.gran
	} else {
		math = c.viewMath
	}
	s.buf = appendViewFrame(s.buf[:0], math, gran)
	if s.room != nil {
		s.room.viewJSON = bytes.Clone(s.buf)
	}
	if c.viewSay != "" {
		// The presenter's narration goes to the followers now only: a late
		// joiner's page narrates the state it joins at itself.
		s.buf = append(s.buf[:len(s.buf)-1], `,"say":`...)
		s.buf = engine.AppendString(s.buf, c.viewSay)
		s.buf = append(s.buf, '}')
	}
	s.broadcast(kindOrdered, s.buf)
}

// appendViewFrame writes a view frame.
func appendViewFrame(dst []byte, math *bool, gran string) []byte {
	dst = append(dst, `{"type":"view"`...)
	if math != nil {
		dst = append(dst, `,"math":`...)
		dst = strconv.AppendBool(dst, *math)
	}
	if gran != "" {
		dst = append(dst, `,"granularity":`...)
		dst = engine.AppendString(dst, gran)
	}
	return append(dst, '}')
}

// endRoom ends the room at the presenter's word: every viewer gets
// roomEnded, the presenter its done, and then a close (1000).
func (s *session) endRoom() *Error {
	if s.room == nil {
		return errorf(CodeBadCommand, "endRoom: this session is not a classroom room")
	}
	const why = "the presenter ended the room"
	s.roomEnding(why) // the students' pages say their teacher ended it (docs/protocol.md)
	s.stop(websocket.CloseNormalClosure, why)
	return nil
}

// appendRoomFrame writes a room frame; a follower's carries its seat,
// which it gives back (?seat=) when it reconnects, to keep its vote.
func appendRoomFrame(dst []byte, code string, r role, followers int, seat string) []byte {
	dst = append(dst, `{"type":"room","code":`...)
	dst = engine.AppendString(dst, code)
	dst = append(dst, `,"role":`...)
	if r == roleFollower {
		dst = append(dst, `"follower"`...)
	} else {
		dst = append(dst, `"presenter"`...)
	}
	dst = append(dst, `,"followers":`...)
	dst = strconv.AppendInt(dst, int64(followers), 10)
	if seat != "" {
		dst = append(dst, `,"seat":`...)
		dst = engine.AppendString(dst, seat)
	}
	return append(dst, '}')
}

// defaultLessonName is the lesson a room opens with when none is named.
func defaultLessonName(cat *engine.Catalog) string {
	if _, ok := cat.Lookup(engine.DefaultLesson); ok {
		return engine.DefaultLesson
	}
	return cat.Names()[0]
}

// startRoomLocked registers a room and its session, unlocks s.mu (held by
// the caller, who checked the limits under it) and starts the session.
func (s *Server) startRoomLocked(rm *room, sess *session) {
	s.rooms[rm.code] = rm
	s.sessions[sess.id] = sess
	s.wg.Add(1)
	s.mu.Unlock()
	s.metrics.sessions.Inc()
	s.metrics.started.Inc()
	s.metrics.rooms.Inc()
	go sess.loop()
}
