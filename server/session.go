package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/engine"
)

// Limits on what one step sends: events are split into frames of about
// eventsFrameBytes, and past maxStepEventBytes the rest are counted, not
// sent (the page then gets a state frame to redraw from).
const (
	eventsFrameBytes  = 256 << 10
	maxStepEventBytes = 4 << 20
)

// progressInterval is the least time between two progress frames: at most
// ~30 a second however fast training runs. boundaryInterval is the least
// time between two heatmap computations (about a millisecond each for a
// 40×40 grid): at most ~10 a second, latest wins.
const (
	progressInterval = time.Second / 30
	boundaryInterval = time.Second / 10
)

// message is what a connection's reader hands its session: a decoded
// command, or the error to answer instead.
type message struct {
	v   *viewer
	cmd command
	err *Error
}

// session is one live training session. Its goroutine (loop) owns the
// trainer and the viewer list; everything else reaches it through in (the
// readers' messages) and ctl (functions run on the session goroutine).
type session struct {
	srv   *Server
	id    string
	token string
	log   *slog.Logger

	in   chan message
	ctl  chan func()
	quit chan struct{} // closed by stop
	done chan struct{} // closed when loop has returned

	stopOnce sync.Once
	stopCode int
	stopText string
	started  time.Time

	// Owned by the session goroutine.
	tr        *engine.Trainer
	suspended suspendedRun // a run waiting for its learner to come back
	viewers   []*viewer
	drivers   int
	buf       []byte
	lagging   []*viewer // resyncLagging's list, reused
	run       runState
	idle      *time.Timer
	orphan    *time.Timer
	orphanTTL time.Duration // how long the session waits for a driver to come back
	idleTTL   time.Duration // how long the session waits for a driver's command
	room      *room         // set for a classroom room (room.go)
	current   []byte        // id of the command being handled, for a panic's error frame
	later     *time.Timer   // fires when a held-back boundary frame is due
	pending   bool          // a boundary frame is held back
	lastHeat  time.Time     // when heatmaps were last computed
	heatEvery time.Duration // the least time between heatmaps: boundaryInterval, more for big networks
	steps     atomic.Int64
	holdsTurn bool      // between taking a run turn and giving it back
	compact   bool      // the owner's events in the engine's compact positional form (?events=compact); fixed at start
	piece     int       // micro-steps per piece of a big step, adapted to SliceBudget
	backPiece int       // micro-steps per piece of a Back replay, adapted to SliceBudget
	held      []message // messages read between the pieces of a long command, handled after it (interrupt.go)

	version    uint64     // counts changes to the trainer: a cached state is current while it is the same
	stateCache stateCache // a room's last encoded state, for late joiners and followers' state; a learner's, asked for twice (statecache.go)
	stateAsked uint64     // a learner's session: 1 + the version its last state command was sent, encoded
	waiting    []stateAsk // followers' state asks held until the next encode is due
	stateLater *time.Timer
	charged    atomic.Int64 // bytes this session adds to the server's memory count (read by memory evictions)

	lastSave       time.Time                     // when save last ran (store.go)
	claim          atomic.Pointer[cluster.Claim] // this instance's ownership of a learner's saved session, or nil (store.go)
	savedRev       uint64                        // the bucket revision of the last save
	savedLesson    *engine.Lesson                // the lesson last saved, and its key
	savedLessonKey string

	// orphaned is when the last driver left (unix nanoseconds), 0 while one
	// is connected: at --max-sessions or --max-memory the server evicts the
	// oldest orphaned sessions to make room for a newcomer (server.go,
	// reserve; memory.go).
	orphaned atomic.Int64
	// parked says an eviction stops the session to be kept in the store
	// (saved, its claim released, resumable as after a restart), not
	// ended for good.
	parked atomic.Bool

	// The loss before any training, which a state frame's losses begin
	// with (epoch 0): measured whenever a state is sent at the start, and
	// kept for the trainer it was measured on.
	startLoss engine.EpochLoss
	startFor  *engine.Trainer
}

func newSession(srv *Server, id, token string) *session {
	return &session{
		srv:       srv,
		id:        id,
		token:     token,
		log:       srv.log.With("session", id),
		in:        make(chan message, 4),
		ctl:       make(chan func()),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
		orphanTTL: srv.cfg.ResumeWindow,
		heatEvery: boundaryInterval,
		idleTTL:   srv.cfg.IdleTimeout,
		started:   time.Now(),
	}
}

// do runs f on the session goroutine and waits for it; it reports false if
// the session has ended.
func (s *session) do(f func()) bool {
	ran := make(chan struct{})
	select {
	case s.ctl <- func() { f(); close(ran) }:
	case <-s.done:
		return false
	}
	select {
	case <-ran:
		return true
	case <-s.done:
		return false
	}
}

// send hands the session a message from a reader; false if it has ended.
func (s *session) send(m message) bool {
	select {
	case s.in <- m:
		return true
	case <-s.done:
		return false
	}
}

// stop ends the session: every viewer gets a close frame with code.
func (s *session) stop(code int, text string) {
	s.stopOnce.Do(func() {
		s.stopCode, s.stopText = code, text
		close(s.quit)
	})
}

// loop is the session goroutine.
func (s *session) loop() {
	defer s.srv.wg.Done()
	defer close(s.done)
	reason := "stopped"
	defer func() {
		if !s.srv.isClosing() && !s.parked.Load() {
			s.unsave() // ended for good
		}
		// The viewers still attached are closed (end) or closing: their
		// detach messages will find no loop, so they stop counting here.
		s.srv.metrics.viewers.Sub(float64(len(s.viewers)))
		s.viewers = nil
		s.srv.forget(s)
		s.uncharge()
		s.log.Info("session end", "reason", reason, "seconds", int(time.Since(s.started).Seconds()), "steps", s.steps.Load())
	}()
	defer func() {
		if p := recover(); p != nil {
			if s.holdsTurn {
				s.srv.turns <- struct{}{}
			}
			reason = "panic"
			s.log.Error("session panicked; ending it", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			s.srv.metrics.errors.WithLabelValues(CodeInternal).Inc()
			e := &Error{Code: CodeInternal, ID: s.current, Message: "the server hit a bug in this session and ended it; reload the page to start again"}
			f := s.frame(kindOrdered, appendError(s.buf[:0], e))
			for _, v := range s.viewers {
				v.push(f)
				v.close(websocket.CloseInternalServerErr, "internal error")
			}
		}
	}()
	s.log.Info("session start")
	s.idle = time.NewTimer(s.idleTTL)
	defer s.idle.Stop()
	wait := s.orphanTTL // a new session's first viewer is on its way
	if s.room != nil {
		wait = s.orphanWait()
	}
	s.orphan = time.NewTimer(wait)
	defer s.orphan.Stop()
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	defer pace.Stop()
	s.later = time.NewTimer(time.Hour)
	s.later.Stop()
	defer s.later.Stop()
	s.stateLater = time.NewTimer(time.Hour)
	s.stateLater.Stop()
	defer s.stateLater.Stop()
	s.account() // a room or a fork starts with its trainer

	for {
		// In run mode, a slice needs a turn: the server hands out fewer
		// turns than it has cores, in order, so sessions playing at full
		// speed share the cores fairly and a core stays free for stepping
		// learners. Waiting for a turn is a select like any other: commands
		// still get in.
		var paceC <-chan time.Time
		var turn chan struct{}
		if s.run.on {
			if wait := time.Until(s.run.next); wait > 0 {
				pace.Reset(wait)
				paceC = pace.C
			} else {
				turn = s.srv.turns
			}
		}
		// The encoding buffer comes from a pool for the time a case takes,
		// so waiting sessions hold none.
		select {
		case m := <-s.in:
			s.buf = getBuf()
			s.handle(m)
			s.handleHeld()
		case f := <-s.ctl:
			s.buf = getBuf()
			f()
		case <-turn:
			s.buf = getBuf()
			s.holdsTurn = true
			s.run.next = time.Now().Add(s.runSlice())
			s.holdsTurn = false
			s.srv.turns <- struct{}{}
		case <-paceC:
		case <-s.later.C:
			s.buf = getBuf()
			if s.pending {
				// Heatmaps take a turn when one is free at once; the
				// session does not wait for one (its learner's next step
				// would wait too), and past boundaryInterval overdue it
				// computes them anyway: heatEvery keeps them under about
				// 5% of a core.
				got := false
				select {
				case <-s.srv.turns:
					s.holdsTurn, got = true, true
				default:
				}
				if got || time.Since(s.lastHeat.Add(s.heatEvery)) > boundaryInterval {
					s.sendBoundary()
					s.giveTurn()
				} else {
					s.later.Reset(turnRetry)
				}
			}
		case <-s.stateLater.C:
			s.buf = getBuf()
			s.answerWaiting()
		case <-s.idle.C:
			s.end(websocket.CloseNormalClosure, "idle for too long")
			reason = "idle"
			return
		case <-s.orphan.C:
			if s.drivers == 0 {
				s.end(websocket.CloseGoingAway, "session expired")
				reason = "expired"
				return
			}
		case <-s.quit:
			if s.parked.Load() {
				s.save() // evicted with a store: it comes back when its learner does
				s.releaseClaim()
			} else if s.srv.isClosing() {
				if s.room != nil {
					s.handRoomOver() // another instance, or this one restarted, carries on (roomlog.go)
				} else {
					s.save() // it comes back when the server does, or on another instance at once
					s.releaseClaim()
				}
			}
			reason = s.end(s.stopCode, s.stopText)
			return
		}
		if s.buf != nil {
			putBuf(s.buf)
			s.buf = nil
		}
		s.account()
	}
}

// takeTurn waits for one of the server's turns (see loop), which every
// piece of heavy work takes: a slice of Play, a piece of a big step or a
// Back replay, a state encode, heatmaps, an edit. It reports false if the
// session is stopping instead.
func (s *session) takeTurn() bool {
	if s.holdsTurn {
		return true
	}
	select {
	case <-s.srv.turns:
		s.holdsTurn = true
		return true
	case <-s.quit:
		return false
	}
}

// giveTurn gives back the turn takeTurn took.
func (s *session) giveTurn() {
	if s.holdsTurn {
		s.holdsTurn = false
		s.srv.turns <- struct{}{}
	}
}

// bufPool holds the buffers sessions encode frames into, so that an idle
// session keeps none (a full state of a 2-D lesson is ~70 KiB).
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) > 0 && cap(b) <= 8<<20 {
		bufPool.Put(&b)
	}
}

// end closes every viewer with code and returns the reason for the log.
func (s *session) end(code int, text string) string {
	if s.room != nil {
		moved := s.room.relay != nil && s.room.relay.moved
		if !moved && (s.srv.store == nil || !s.srv.isClosing()) {
			s.roomEnding(text) // a saved room does not end with its server: it comes back
		}
		if rl := s.room.relay; rl != nil {
			rl.publishClose(code, text)
		}
	}
	for _, v := range s.viewers {
		v.close(code, text)
	}
	return text
}

// attach adds a viewer and sends it hello (and, on resume, the state).
// expired says the client asked to resume a session that is gone.
func (s *session) attach(v *viewer, resumed, expired bool) {
	if v.role == roleOwner {
		v.compact = s.compact // a resumed connection reads what the session was opened with
	}
	if v.role.drives() {
		if v.role == roleOwner {
			// One learner, one page: a resume takes over from a connection
			// the server has not yet noticed is dead.
			for _, old := range s.viewers {
				if old.role == roleOwner {
					old.close(websocket.CloseNormalClosure, "resumed on another connection")
				}
			}
		}
		s.drivers++
		s.orphan.Stop()
		s.orphaned.Store(0)
	}
	empty := len(s.viewers) == 0
	s.viewers = append(s.viewers, v)
	if !v.role.drives() && s.drivers == 0 && empty {
		// The first follower in an empty room without its presenter: the
		// room waits RoomTTL now, not the shorter wait of an empty room.
		s.orphan.Reset(s.orphanWait())
	}
	s.srv.metrics.viewers.Inc()
	s.buf = appendHello(s.buf[:0], helloInfo{session: s.id, resume: s.token, resumed: resumed, limits: s.srv.limitsJSON})
	v.push(s.frame(kindOrdered, s.buf))
	if expired {
		s.reply(v, &Error{Code: CodeResumeExpired, Message: "that session has ended or its resume token expired; this is a fresh session"})
	}
	if s.tr != nil {
		reason := "resume"
		if !resumed {
			reason = "state"
		}
		s.sendState(v, nil, reason, true)
	}
	if s.suspended.on && v.role.drives() && s.tr != nil {
		// The learner is back: carry on playing where it stopped.
		sr := s.suspended
		s.suspended = suspendedRun{}
		if err := s.startRun(&command{gran: sr.g, sps: sr.sps}); err != nil {
			s.log.Debug("resuming a suspended run", "err", err)
		}
	}
	if s.room != nil {
		s.roomAttached(v)
	}
}

// detach removes a viewer whose connection has ended.
func (s *session) detach(v *viewer) {
	i := slices.Index(s.viewers, v)
	if i < 0 {
		return
	}
	s.viewers = slices.Delete(s.viewers, i, i+1)
	s.srv.metrics.viewers.Dec()
	if v.role.drives() {
		s.drivers--
	}
	if s.drivers == 0 && (v.role.drives() || len(s.viewers) == 0) {
		s.orphan.Reset(s.orphanWait())
		if v.role.drives() && s.room == nil {
			s.orphaned.Store(time.Now().UnixNano())
		}
	}
	if len(s.viewers) == 0 && s.run.on {
		s.suspended = suspendedRun{on: true, g: s.run.g, sps: s.run.sps}
		s.stopRun()
	}
	if s.room != nil {
		s.roomDetached(v)
	}
}

// orphanWait is how long the session waits for a driver once none is
// connected: a session that never loaded a lesson (or whose resume failed
// and that has loaded nothing since) holds nothing worth resuming and ends
// at once; a room with nobody in it waits RoomEmptyTTL, a room with
// followers but no presenter RoomTTL; a learner's session the resume
// window.
func (s *session) orphanWait() time.Duration {
	switch {
	case s.room != nil && len(s.viewers) == 0:
		return min(s.srv.cfg.RoomEmptyTTL, s.orphanTTL)
	case s.room != nil:
		return s.orphanTTL
	case s.tr == nil:
		return 0
	}
	return s.orphanTTL
}

// preload loads a built-in lesson for a fresh session (?lesson=NAME): a
// state frame, or an error frame, and no done (no command asked).
func (s *session) preload(v *viewer, name string) {
	s.current = nil
	if err := s.load(&command{name: "load", lessonName: name}); err != nil {
		s.reply(v, err)
	}
}

// frame copies an encoded frame out of the session's buffer. With more
// than one viewer it is prepared once for all of them.
func (s *session) frame(kind frameKind, data []byte) *frame {
	return newFrame(kind, data, len(s.viewers))
}

// newFrame copies data into a frame for n viewers, prepared once when n > 1.
func newFrame(kind frameKind, data []byte, n int) *frame {
	f := &frame{kind: kind, data: bytes.Clone(data)}
	if n > 1 {
		if pm, err := websocket.NewPreparedMessage(websocket.TextMessage, f.data); err == nil {
			f.pm = pm
		}
	}
	return f
}

// broadcast sends a frame to every viewer.
func (s *session) broadcast(kind frameKind, data []byte) {
	if !s.durable() {
		return
	}
	s.relayOut(kind, data)
	f := s.frame(kind, data)
	for _, v := range s.viewers {
		v.push(f)
	}
	s.resyncLagging()
}

// eventForms reports which forms of events frames the viewers read: the
// object form, the compact one, or both (a room whose followers differ).
func (s *session) eventForms() (objects, compact bool) {
	for _, v := range s.viewers {
		if v.compact {
			compact = true
		} else {
			objects = true
		}
	}
	if !objects && !compact || s.room != nil && s.room.relay != nil {
		objects = true // nobody is watching, or other instances are: encode anyway, as a viewer would see it
	}
	return objects, compact
}

// broadcastForm sends an events frame to the viewers that read its form,
// encoded and prepared once for all of them.
func (s *session) broadcastForm(data []byte, compact bool) {
	if !s.durable() {
		return
	}
	if !compact {
		s.relayOut(kindOrdered, data)
	}
	n := 0
	for _, v := range s.viewers {
		if v.compact == compact {
			n++
		}
	}
	f := newFrame(kindOrdered, data, n)
	for _, v := range s.viewers {
		if v.compact == compact {
			v.push(f)
		}
	}
	s.resyncLagging()
}

// resyncLagging sends a full state to followers whose queues overflowed:
// encoded once, as one frame prepared once, shared by every follower that
// needs it now (500 lagging followers cost one encode, not 500).
func (s *session) resyncLagging() {
	lagging := s.lagging[:0]
	for _, v := range s.viewers {
		if v.role == roleFollower && v.takeResync() && s.tr != nil {
			lagging = append(lagging, v)
		}
	}
	if len(lagging) > 0 {
		s.sendStateTo(lagging, nil, "resync", true)
	}
	clear(lagging)
	s.lagging = lagging[:0]
}

// reply sends a done (e == nil) or error frame to the viewer whose command it
// answers.
func (s *session) reply(v *viewer, e *Error) {
	if e == nil {
		s.buf = appendDone(s.buf[:0], s.current)
	} else {
		if e.ID == nil {
			e.ID = s.current
		}
		s.srv.metrics.errors.WithLabelValues(e.Code).Inc()
		s.buf = appendError(s.buf[:0], e)
	}
	v.push(&frame{kind: kindOrdered, data: bytes.Clone(s.buf)})
}

// boundary computes the heatmaps for a 2-D lesson, or nil. A held-back
// boundary frame is no longer needed: the caller sends these.
func (s *session) boundary() *engine.Heatmaps {
	if s.tr == nil || !s.tr.Lesson().Is2D() {
		return nil
	}
	start := time.Now()
	hm := s.tr.Boundary(s.srv.cfg.BoundaryGrid)
	s.pending, s.lastHeat = false, time.Now()
	// Big networks take longer: space heatmaps so that they never take
	// more than about 5% of a core.
	s.heatEvery = max(boundaryInterval, 20*s.lastHeat.Sub(start))
	return hm
}

// boundaryChanged notes that the weights changed: a boundary frame goes out
// now or, if heatmaps were computed less than boundaryInterval ago, once
// the interval is up (one frame, with the weights as they are then).
func (s *session) boundaryChanged() {
	if s.tr == nil || !s.tr.Lesson().Is2D() {
		return
	}
	if wait := time.Until(s.lastHeat.Add(s.heatEvery)); wait > 0 {
		if !s.pending {
			s.pending = true
			s.later.Reset(wait)
		}
		return
	}
	s.sendBoundary()
}

func (s *session) sendBoundary() {
	if hm := s.boundary(); hm != nil {
		s.buf = appendBoundaryFrame(s.buf[:0], hm)
		s.broadcast(kindBoundary, s.buf)
	}
}

// sendState sends a state frame to one viewer, or to all when v is nil.
// A room keeps the last one it encoded, so that its late joiners and its
// followers' state asks cost a copy while the trainer has not changed.
func (s *session) sendState(v *viewer, id []byte, reason string, full bool) {
	if !s.durable() {
		return
	}
	if c := &s.stateCache; v != nil && id == nil && reason == "state" && s.room != nil && c.frame != nil && c.version == s.version && c.full == full {
		v.push(c.plainFrame())
		v.lossEpoch = c.lastEpoch
		return
	}
	if v != nil {
		s.sendStateTo([]*viewer{v}, id, reason, full)
		return
	}
	buf, last := s.stateBytes(id, reason, full)
	s.relayOut(kindState, buf)
	if s.room != nil && s.room.relay != nil {
		s.room.relay.lossEpoch = last
	}
	f := s.frame(kindState, buf)
	for _, v := range s.viewers {
		v.push(f)
		v.lossEpoch = last
	}
}

// sendStateTo sends one state frame, encoded once (or taken from a room's
// cache), to the viewers vs: one frame, prepared once when they are many.
func (s *session) sendStateTo(vs []*viewer, id []byte, reason string, full bool) {
	if !s.durable() {
		return
	}
	buf, last := s.stateBytes(id, reason, full)
	f := newFrame(kindState, buf, len(vs))
	for _, v := range vs {
		v.push(f)
		v.lossEpoch = last
	}
}

// stateBytes encodes a state frame into s.buf, or reframes the cached one
// while the trainer has not changed, and returns it with the newest epoch
// loss it carries. A room keeps every state it encodes; a learner's
// session keeps one only when a state command asks again for a state it
// has just encoded for one (statecache.go, keepsState).
func (s *session) stateBytes(id []byte, reason string, full bool) (buf []byte, last int) {
	if c := &s.stateCache; c.frame != nil && c.version == s.version && c.full == full {
		buf, last = c.reframe(s.buf[:0], id, reason), c.lastEpoch
	} else {
		st := s.tr.State(full)
		if st.Position.T == 0 {
			s.startLoss, s.startFor = s.tr.CurrentLoss(), s.tr
		}
		if s.startFor == s.tr && (len(st.Losses) == 0 || st.Losses[0].Epoch > 0) {
			st.Losses = append([]engine.EpochLoss{s.startLoss}, st.Losses...)
		}
		s.srv.metrics.encodes.Inc()
		var err error
		buf, err = appendState(s.buf[:0], id, reason, st, s.boundary())
		if err != nil {
			panic(fmt.Sprintf("encoding state: %v", err)) // a bug: recovered by loop
		}
		last = lastEpoch(st.Losses)
		if s.keepsState(reason, full) {
			s.stateCache.keep(buf, s.version, full, last)
		}
	}
	s.buf = buf
	return buf, last
}
