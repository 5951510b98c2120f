package server

// Rooms across instances, the owner's side. With NATS, the instance that
// opened a room holds its session (the owner); every frame the room sends
// to all its viewers is also published once, with a sequence number, on
// the room's subject, from which every other instance fans it out to its
// own followers (mirror.go). Other instances reach the owner by request:
//
//	netstep.room.CODE.f       frames: [kind][term, 8 bytes big-endian][seq, 8 bytes][frame]
//	netstep.room.CODE.sync    → [term][seq][frames]: what a joining follower gets (state, room, view, question); names the newest term seen
//	netstep.room.CODE.attach  a presenter on another instance: its frames go to the subject it names
//	netstep.room.CODE.admit   a follower on another instance wants a place (followers.go); a readmit names its owner's term
//	netstep.room.CODE.in      a remote viewer's command, as the page sent it
//	netstep.room.CODE.leave   a remote presenter or follower has gone
//	netstep.room.CODE.alive   answered at once while the owner serves the room
//
// The term is the owner's claim on the room (roomlog.go): a room taken over
// by another instance continues under a higher term, sequence numbers
// starting again from 1, and other instances drop frames of a lower term
// (an old owner's, fenced out). See docs/scaling.md.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/engine"
)

// Headers of the requests between instances.
const (
	hdrViewer = "Netstep-Viewer" // the remote presenter's id the owner gave it
	hdrTo     = "Netstep-To"     // where a remote viewer's frames go
	hdrSeat   = "Netstep-Seat"   // a remote follower's seat, for votes
	hdrToken  = "Netstep-Token"  // the presenter token, on attach
	hdrReason = "Netstep-Reason" // a sync's state frame's reason: state or resync
)

// frameClose is the kind of the last message on a room's subject: the
// room has ended; its data is the close text. frameHandover says the
// owner has released the room (it drains): [kind][term].
const (
	frameClose    frameKind = 255
	frameHandover frameKind = 254
)

func roomSubject(code, what string) string { return "netstep.room." + code + "." + what }

// relay is a room's link to the other instances, and with a room store
// its claim and log (roomlog.go). Everything but remote is owned by the
// session goroutine once it runs; remote by its lock.
type relay struct {
	nc        *nats.Conn
	subject   string
	term      uint64 // the claim's revision when it was made: frames carry it
	seq       uint64
	lossEpoch int // the newest epoch loss published
	subs      []*nats.Subscription
	out       []byte

	store     *roomStore
	claim     *cluster.Claim  // this instance's claim on the room, or nil without a room store
	op        uint64          // the last log entry written
	snapOp    uint64          // the last log entry the last snapshot includes
	logged    *engine.Trainer // the trainer whose changes the log follows
	needSnap  bool            // the next write must be a snapshot
	snapAt    time.Time       // when the last snapshot was written
	view      []byte          // the view frame the last snapshot has
	lesson    *engine.Lesson  // the lesson last saved, and its key
	lessonKey string
	moved     bool // taken over or handed over: nothing goes out from here any more

	mu     sync.Mutex
	remote map[string]*viewer // presenters on other instances, by id
}

// startRelay links rm, a new room, to the other instances; with a room
// store it claims the room and writes its first snapshot. It runs before
// the room's session starts.
func (s *Server) startRelay(rm *room) error {
	var claim *cluster.Claim
	if s.roomData != nil {
		ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
		defer cancel()
		c, err := s.roomData.owners.Claim(ctx, claimName(rm.code))
		if err != nil {
			return err
		}
		claim = c
	}
	return s.startRelayWith(rm, claim, 0)
}

// startRelayWith links rm to the other instances, holding claim (or nil),
// its log written up to entry op.
func (s *Server) startRelayWith(rm *room, claim *cluster.Claim, op uint64) error {
	nc := s.dir.c.NC
	r := &relay{nc: nc, subject: roomSubject(rm.code, "f"), term: 1, remote: map[string]*viewer{}, store: s.roomData, claim: claim, op: op, snapOp: op}
	if claim != nil {
		r.term = claim.Revision()
	}
	handlers := map[string]nats.MsgHandler{
		"sync":   func(m *nats.Msg) { s.relaySync(rm, m) },
		"attach": func(m *nats.Msg) { s.relayAttach(rm, m) },
		"in":     func(m *nats.Msg) { s.relayIn(rm, m) },
		"leave":  func(m *nats.Msg) { s.relayLeave(rm, m) },
		"admit":  func(m *nats.Msg) { s.relayAdmit(rm, m) }, // followers.go
		"alive":  func(m *nats.Msg) { m.Respond(nil) },
	}
	for what, h := range handlers {
		sub, err := nc.Subscribe(roomSubject(rm.code, what), h)
		if err != nil {
			r.stop()
			return err
		}
		r.subs = append(r.subs, sub)
	}
	rm.relay = r
	if claim != nil && (!rm.sess.snapRoom() || r.needSnap) {
		r.stop()
		rm.relay = nil
		ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
		defer cancel()
		claim.Release(ctx)
		return errors.New("the room's snapshot was not written")
	}
	return nil
}

func (r *relay) stop() {
	for _, sub := range r.subs {
		sub.Unsubscribe()
	}
}

// publish sends one frame to the other instances (session goroutine).
func (r *relay) publish(kind frameKind, data []byte) {
	if r.moved {
		return
	}
	r.seq++
	r.out = append(r.out[:0], byte(kind))
	r.out = binary.BigEndian.AppendUint64(r.out, r.term)
	r.out = binary.BigEndian.AppendUint64(r.out, r.seq)
	r.out = append(r.out, data...)
	r.nc.Publish(r.subject, r.out)
}

// publishHandover tells the other instances the room has been released.
func (r *relay) publishHandover() {
	r.out = binary.BigEndian.AppendUint64(append(r.out[:0], byte(frameHandover)), r.term)
	r.nc.Publish(r.subject, r.out)
	r.nc.Flush()
}

// publishClose tells the other instances the room has ended: their
// followers close with code.
func (r *relay) publishClose(code int, text string) {
	if r.moved {
		return
	}
	r.out = binary.BigEndian.AppendUint16(append(r.out[:0], byte(frameClose)), uint16(code))
	r.nc.Publish(r.subject, append(r.out, text...))
}

// relayOut publishes a frame every viewer gets, if the session is a room
// with a relay.
func (s *session) relayOut(kind frameKind, data []byte) {
	if s.room != nil && s.room.relay != nil {
		s.room.relay.publish(kind, data)
	}
}

// relaySync answers a joining (or resyncing) instance: the sequence number
// and the frames a follower attaching here would get.
func (s *Server) relaySync(rm *room, m *nats.Msg) {
	if superseded(rm, m) {
		return // an old owner's state would be a class that has moved on
	}
	var out []byte
	ok := rm.sess.do(func() {
		sess := rm.sess
		v := newViewer(roleFollower, 1<<20, func() {}, func(int) {})
		v.seat = m.Header.Get(hdrSeat)
		if sess.tr != nil {
			reason := "state"
			if m.Header.Get(hdrReason) == "resync" {
				reason = "resync"
			}
			sess.sendState(v, nil, reason, true)
		}
		sess.buf = appendRoomFrame(sess.buf[:0], rm.code, roleFollower, int(rm.followers.Load()), v.seat)
		v.push(&frame{kind: kindOrdered, data: bytes.Clone(sess.buf)})
		if rm.viewJSON != nil {
			v.push(&frame{kind: kindOrdered, data: rm.viewJSON})
		}
		sess.voteJoined(v)
		out = binary.BigEndian.AppendUint64(out, rm.relay.term)
		out = binary.BigEndian.AppendUint64(out, rm.relay.seq)
		frames, _, _, _, _ := v.take(nil)
		for _, f := range frames {
			out = append(out, byte(f.kind))
			out = binary.BigEndian.AppendUint32(out, uint32(len(f.data)))
			out = append(out, f.data...)
		}
	})
	if !ok {
		return // the room has ended: the asker times out, or has had frameClose
	}
	m.Respond(out)
}

// relayAttach attaches a presenter connected to another instance: a viewer
// here whose frames are published to the subject the request names.
func (s *Server) relayAttach(rm *room, m *nats.Msg) {
	to := m.Header.Get(hdrTo)
	h := sha256.Sum256([]byte(m.Header.Get(hdrToken)))
	if to == "" || subtle.ConstantTimeCompare(h[:], rm.tokenHash[:]) != 1 {
		m.Respond([]byte("!token"))
		return
	}
	id := randomString(18)
	v := s.outboxViewer(rolePresenter, to)
	rm.relay.mu.Lock()
	rm.relay.remote[id] = v
	rm.relay.mu.Unlock()
	if !rm.sess.do(func() { rm.sess.attach(v, false, false) }) {
		m.Respond([]byte("!ended"))
		return
	}
	m.Respond([]byte(id))
}

// relayIn hands a remote viewer's command to the session, as its viewer
// here's: a presenter's, or a follower's stand-in (followers.go).
func (s *Server) relayIn(rm *room, m *nats.Msg) {
	rm.relay.mu.Lock()
	v := rm.relay.remote[m.Header.Get(hdrViewer)]
	rm.relay.mu.Unlock()
	if v == nil {
		m.Respond([]byte("!viewer"))
		return
	}
	msg := message{v: v}
	msg.cmd, msg.err = decodeCommandWith(m.Data, s.lessons.parse)
	if !rm.sess.send(msg) {
		m.Respond([]byte("!ended"))
		return
	}
	m.Respond(nil)
}

// relayLeave detaches a remote presenter, or lets a remote follower go
// (followers.go).
func (s *Server) relayLeave(rm *room, m *nats.Msg) {
	defer m.Respond(nil) // a follower's leave is a request
	rm.relay.mu.Lock()
	v := rm.relay.remote[string(m.Data)]
	if v != nil && v.role == roleFollower {
		rm.relay.mu.Unlock()
		s.remoteFollowerLeft(rm, string(m.Data), v)
		return
	}
	delete(rm.relay.remote, string(m.Data))
	rm.relay.mu.Unlock()
	if v != nil {
		rm.sess.do(func() { rm.sess.detach(v) })
	}
}

// outboxViewer is a viewer whose frames are published, in order, to a
// subject on another instance: [kind][frame] each; a close is frameClose
// with the close code (2 bytes) and text.
func (s *Server) outboxViewer(r role, to string) *viewer {
	nc := s.dir.c.NC
	var mu sync.Mutex
	running := false
	var v *viewer
	v = newViewer(r, s.cfg.MaxQueuedFrames, func() {}, func(n int) { s.metrics.dropped.Add(float64(n)) })
	var drain func()
	drain = func() {
		var spare []*frame
		var out []byte
		for {
			frames, progress, closing, code, text := v.take(spare)
			if progress != nil {
				frames = append(frames, progress)
			}
			for _, f := range frames {
				out = append(append(out[:0], byte(f.kind)), f.data...)
				nc.Publish(to, out)
			}
			clear(frames)
			spare = frames[:0]
			if closing {
				out = binary.BigEndian.AppendUint16(append(out[:0], byte(frameClose)), uint16(code))
				nc.Publish(to, append(out, text...))
				v.mu.Lock()
				v.gone = true
				v.mu.Unlock()
			}
			mu.Lock()
			if !v.hasWork() || closing {
				running = false
				mu.Unlock()
				return
			}
			mu.Unlock()
		}
	}
	v.wake = func() {
		mu.Lock()
		defer mu.Unlock()
		if running {
			return
		}
		running = true
		go drain()
	}
	return v
}

// hasWork reports whether the viewer has frames or a close waiting.
func (v *viewer) hasWork() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.queue) > 0 || v.progress != nil || (v.closing && !v.gone)
}

// tokenHashOK reports whether token hashes to hexHash, in constant time.
func tokenHashOK(token, hexHash string) bool {
	want, err := hex.DecodeString(hexHash)
	if err != nil || token == "" || len(token) > 64 {
		return false
	}
	h := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(h[:], want) == 1
}
