package server

// Rooms across instances, the other instances' side. A follower who joins
// a room held by another instance is served from a mirror: one
// subscription to the room's frames per instance, fanned out to this
// instance's followers as the owner fans out to its own. A joining
// follower first gets what the owner would give it (relaySync), at a known
// sequence number, and then every frame after it; a gap in the sequence
// numbers (NATS dropped a frame for a slow instance) resyncs every
// follower here with a fresh state, as an overflowing queue does. A
// presenter connected here gets a viewer on the owner (relayAttach) whose
// frames come back on a subject of its own. When another instance takes
// the room over (roomlog.go), its frames come under a higher term: every
// follower here resyncs from the new owner, and frames of a lower term (a
// fenced-out old owner's) are dropped, and every follower here takes its
// place again at the new owner (readmit), so that it is counted, its vote
// counts and its commands reach the room.

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/netstep/netstep/cluster"
)

// remoteWait bounds a request to a room's owner.
const remoteWait = 5 * time.Second

// mirror is this instance's copy of a room held by another instance.
type mirror struct {
	srv  *Server
	code string
	sub  *nats.Subscription

	mu      sync.Mutex
	term    uint64              // the owner's term: frames of a lower one are dropped
	last    uint64              // the newest sequence number seen in it
	members map[*viewer]*member // followers here
	ended   bool

	gone chan struct{} // closed when the mirror has no followers left
}

// member is one follower of a mirror. Until its sync arrives it is
// pending and keeps the frames that come meanwhile.
type member struct {
	rc       *remoteConn // its connection here
	pending  bool
	fromTerm uint64 // frames after this term and sequence number are its
	from     uint64
	held     []relayed
}

type relayed struct {
	kind frameKind
	term uint64
	seq  uint64
	data []byte
}

// after reports whether r comes after term and seq.
func (r *relayed) after(term, seq uint64) bool {
	return r.term > term || r.term == term && r.seq > seq
}

// mirrorFor returns the mirror of the room code held elsewhere, subscribing
// to its frames if this is the first follower here.
func (s *Server) mirrorFor(code string) (*mirror, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.mirrors[code]; m != nil {
		return m, nil
	}
	m := &mirror{srv: s, code: code, members: map[*viewer]*member{}}
	sub, err := s.dir.c.NC.Subscribe(roomSubject(code, "f"), m.receive)
	if err != nil {
		return nil, err
	}
	sub.SetPendingLimits(-1, 256<<20)
	m.sub = sub
	m.gone = make(chan struct{})
	s.mirrors[code] = m
	if s.roomData != nil {
		s.wg.Add(1)
		go m.watch()
	}
	return m, nil
}

// watch looks every ownerCheck whether the room's owner still answers,
// while the mirror has followers: when NATS has no subscriber left for it
// (its process is gone), this instance takes the room over (routeRoom),
// so that its followers carry on without waiting for the presenter.
func (m *mirror) watch() {
	defer m.srv.wg.Done()
	t := time.NewTicker(ownerCheck)
	defer t.Stop()
	for {
		select {
		case <-m.gone:
			return
		case <-m.srv.quit:
			return
		case <-t.C:
		}
		_, err := m.srv.dir.c.NC.Request(roomSubject(m.code, "alive"), nil, aliveWait)
		if errors.Is(err, nats.ErrNoResponders) && m.srv.lookupRoom(m.code) == nil {
			m.srv.routeRoom(m.code)
		}
	}
}

// receive runs on the subscription's goroutine, one frame at a time, in
// the order the owner published them.
func (m *mirror) receive(msg *nats.Msg) {
	d := msg.Data
	if len(d) < 1 {
		return
	}
	switch {
	case frameKind(d[0]) == frameHandover && len(d) >= 9:
		m.handover(binary.BigEndian.Uint64(d[1:9]))
		return
	case frameKind(d[0]) == frameClose || len(d) < 17:
		m.end(d)
		return
	}
	r := relayed{kind: frameKind(d[0]), term: binary.BigEndian.Uint64(d[1:9]), seq: binary.BigEndian.Uint64(d[9:17]), data: d[17:]}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.term < m.term {
		return // an old owner's, fenced out
	}
	// A new term is a new owner, whose first frame is a state for every
	// follower (what the old one sent last may not have reached this
	// instance): missing that, every follower here resyncs.
	gap := m.last != 0 && r.seq != m.last+1
	if r.term != m.term {
		gap = m.last != 0 && (r.seq != 1 || r.kind != kindState)
		if m.term != 0 {
			// A new owner, which has never heard of the followers here.
			for _, mb := range m.members {
				go mb.rc.readmit(r.term)
			}
		}
	}
	m.term, m.last = r.term, r.seq
	if gap {
		m.srv.metrics.dropped.Inc()
		for v, mb := range m.members {
			if !mb.pending {
				mb.pending, mb.held = true, nil
				go m.sync(v, "resync", r.term)
			}
		}
	}
	var f *frame
	for v, mb := range m.members {
		if mb.pending {
			mb.held = append(mb.held, r)
			continue
		}
		if !r.after(mb.fromTerm, mb.from) {
			continue
		}
		if f == nil {
			f = newFrame(mirrorKind(r.kind), r.data, len(m.members))
		}
		v.push(f)
	}
}

// mirrorKind is how a mirror queues a frame: progress frames in order (a
// mirror's progress frames each carry only the losses since the one
// before).
func mirrorKind(k frameKind) frameKind {
	if k == kindProgress {
		return kindOrdered
	}
	return k
}

// join adds a follower and asks the owner for what it starts from.
func (m *mirror) join(rc *remoteConn) {
	m.mu.Lock()
	m.members[rc.v] = &member{rc: rc, pending: true}
	term := m.term
	m.mu.Unlock()
	go m.sync(rc.v, "state", term)
}

// sync asks the owner for a follower's starting frames and hands it them
// and every frame that came after.
func (m *mirror) sync(v *viewer, reason string, term uint64) {
	req := nats.NewMsg(roomSubject(m.code, "sync"))
	req.Header.Set(hdrSeat, v.seat)
	req.Header.Set(hdrReason, reason)
	if term != 0 {
		req.Header.Set(hdrTerm, strconv.FormatUint(term, 10))
	}
	resp, err := m.srv.requestOwner(req)
	if err != nil || len(resp.Data) < 16 {
		m.srv.log.Warn("room on another instance: no answer to sync", "room", m.code, "err", err)
		v.close(websocket.CloseServiceRestart, "the room's server does not answer; reconnect")
		return
	}
	d := resp.Data
	term, seq := binary.BigEndian.Uint64(d), binary.BigEndian.Uint64(d[8:])
	d = d[16:]
	m.mu.Lock()
	defer m.mu.Unlock()
	mb := m.members[v]
	if mb == nil {
		return // gone meanwhile
	}
	if m.term == 0 {
		m.term = term // a new term after it is a new owner, even before a frame came
	}
	for len(d) >= 5 {
		kind, n := frameKind(d[0]), int(binary.BigEndian.Uint32(d[1:5]))
		if n > len(d)-5 {
			break
		}
		data := d[5 : 5+n]
		if kind != kindOrdered || reason == "state" { // a resync needs only the state
			v.push(&frame{kind: kind, data: data})
		}
		d = d[5+n:]
	}
	for _, r := range mb.held {
		if r.after(term, seq) {
			v.push(newFrame(mirrorKind(r.kind), r.data, 1))
		}
	}
	mb.pending, mb.fromTerm, mb.from, mb.held = false, term, seq, nil
}

// leave removes a follower; the last one here ends the subscription.
func (m *mirror) leave(v *viewer) {
	m.mu.Lock()
	delete(m.members, v)
	empty := len(m.members) == 0
	m.mu.Unlock()
	if !empty {
		return
	}
	m.srv.mu.Lock()
	m.mu.Lock()
	if len(m.members) == 0 && m.srv.mirrors[m.code] == m {
		delete(m.srv.mirrors, m.code)
		m.sub.Unsubscribe()
		close(m.gone)
	}
	m.mu.Unlock()
	m.srv.mu.Unlock()
}

// handover runs when the room's owner has released it (it drains): this
// instance, which has followers of it, claims it, unless it is shutting
// down too; of several instances trying, one gets it and the others'
// followers resync to its frames.
func (m *mirror) handover(term uint64) {
	m.mu.Lock()
	old := term < m.term
	m.mu.Unlock()
	if old || m.srv.roomData == nil || m.srv.isClosing() {
		return
	}
	go func() {
		if _, err := m.srv.takeOverRoom(m.code, 0); err != nil && !errors.Is(err, cluster.ErrOwned) {
			m.srv.log.Warn("taking over a released room", "room", m.code, "err", err)
		}
	}()
}

// end closes every follower here: the room has ended (d is the owner's
// close message) or this instance is shutting down (d nil).
func (m *mirror) end(d []byte) {
	code, text := websocket.CloseGoingAway, "server shutting down"
	if len(d) >= 3 {
		code, text = int(binary.BigEndian.Uint16(d[1:3])), string(d[3:])
	}
	m.mu.Lock()
	m.ended = true
	for v := range m.members {
		v.close(code, text)
	}
	m.mu.Unlock()
}

// hasEnded reports whether the room's end has come through.
func (m *mirror) hasEnded() bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ended
}

// serveRemoteRoom is serveRoom for a room another instance holds: a
// presenter gets a viewer there, a follower joins this instance's mirror.
func (s *Server) serveRemoteRoom(w http.ResponseWriter, r *http.Request, creds Credentials, code string, e roomEntry, fork bool, refuse func(string, int, string)) {
	if fork {
		refuse("room_remote", http.StatusConflict, "Explore on my own is not available on this server for this room yet; reload the page to reach the room's own server.")
		return
	}
	role := roleFollower
	if creds.Token != "" {
		if !tokenHashOK(creds.Token, e.Token) {
			refuse("room_token", http.StatusForbidden, "That presenter link is not valid for this room. Students join without a token, at /join/"+code+".")
			return
		}
		role = rolePresenter
	}
	inbox := "netstep.viewer." + s.dir.c.Instance + "." + randomString(12)
	// A follower's place is taken by the owner, before the upgrade, as
	// the owner's own followers' are (followers.go).
	var id, seat, full string
	if role == roleFollower {
		if seat = creds.Seat; !seatOK(seat) {
			seat = ""
		}
		var err error
		id, seat, full, err = s.admitRemote(code, s.clientAddr(r), seat, inbox, 0)
		if err != nil {
			refuse("room_remote", http.StatusServiceUnavailable, "The room's server does not answer; try again in a few seconds.")
			return
		}
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		if id != "" {
			s.leaveRemote(code, id)
		}
		return
	}
	if full != "" {
		s.refuseFull(ws, full)
		return
	}
	c := s.newConn(ws, nil)
	c.v.role, c.v.seat = role, seat
	sub, err := s.dir.c.NC.Subscribe(inbox, func(msg *nats.Msg) { deliverOutbox(c.v, msg.Data) })
	if err != nil {
		if id != "" {
			s.leaveRemote(code, id)
		}
		s.untrack(ws)
		ws.Close()
		return
	}
	rc := &remoteConn{srv: s, code: code, inbox: inbox, sub: sub, v: c.v, id: id, addr: s.clientAddr(r)}
	c.remote = rc
	if role == rolePresenter {
		req := nats.NewMsg(roomSubject(code, "attach"))
		req.Header.Set(hdrTo, inbox)
		req.Header.Set(hdrToken, creds.Token)
		resp, err := s.requestOwner(req)
		if err != nil || len(resp.Data) == 0 || resp.Data[0] == '!' {
			sub.Unsubscribe()
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseServiceRestart, "the room's server does not answer; try again"), time.Now().Add(time.Second))
			s.untrack(ws)
			ws.Close()
			return
		}
		rc.mu.Lock()
		rc.id = string(resp.Data)
		rc.mu.Unlock()
	} else {
		m, err := s.mirrorFor(code)
		if err != nil {
			sub.Unsubscribe()
			s.leaveRemote(code, id)
			s.untrack(ws)
			ws.Close()
			return
		}
		rc.mirror = m
		c.v.push(&frame{kind: kindOrdered, data: appendHello(nil, helloInfo{session: code, limits: s.limitsJSON})})
		m.join(rc)
	}
	c.serve()
}

// deliverOutbox hands a frame from the owner's outbox viewer to the local
// one.
func deliverOutbox(v *viewer, d []byte) {
	if len(d) < 1 {
		return
	}
	if frameKind(d[0]) == frameClose {
		code, text := websocket.CloseGoingAway, ""
		if len(d) >= 3 {
			code, text = int(binary.BigEndian.Uint16(d[1:3])), string(d[3:])
		}
		v.close(code, text)
		return
	}
	v.push(&frame{kind: mirrorKind(frameKind(d[0])), data: d[1:]})
}

// remoteConn is a connection here to a room held elsewhere: its commands
// go to the owner by request.
type remoteConn struct {
	srv    *Server
	code   string
	inbox  string
	sub    *nats.Subscription
	v      *viewer
	addr   string  // the client's address, for the room's cap per address
	mirror *mirror // a follower's mirror

	mu   sync.Mutex
	id   string // its viewer on the owner: a presenter's, or a follower's stand-in (followers.go)
	left bool   // the connection has ended: a place taken again after it is given back
}

// viewerID is the connection's viewer on the owner.
func (rc *remoteConn) viewerID() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.id
}

// readmit takes a follower's place again at the room's new owner (another
// instance took the room over): it is counted there, its seat brings its
// vote back, and its commands reach the room. If the new owner cannot take
// it, the page reconnects.
func (rc *remoteConn) readmit(term uint64) {
	id, _, full, err := rc.srv.admitRemote(rc.code, rc.addr, rc.v.seat, rc.inbox, term)
	if err != nil || full != "" {
		rc.v.close(websocket.CloseServiceRestart, "this class moved to another server; reconnecting")
		return
	}
	rc.mu.Lock()
	rc.id = id
	left := rc.left
	rc.mu.Unlock()
	if left {
		rc.srv.leaveRemote(rc.code, id) // it ended while the place was taken
	}
}

// forward sends a command to the owner; false when the owner does not
// answer (the connection then closes and the page reconnects).
func (rc *remoteConn) forward(data []byte) bool {
	req := nats.NewMsg(roomSubject(rc.code, "in"))
	req.Data = data
	req.Header.Set(hdrViewer, rc.viewerID())
	resp, err := rc.srv.dir.c.NC.RequestMsg(req, remoteWait)
	if err != nil || (len(resp.Data) > 0 && resp.Data[0] == '!') {
		rc.v.close(websocket.CloseServiceRestart, "the room's server does not answer; reconnect")
		return false
	}
	return true
}

// leave runs when the connection has ended.
func (rc *remoteConn) leave() {
	rc.mu.Lock()
	rc.left = true
	rc.mu.Unlock()
	rc.sub.Unsubscribe()
	if rc.mirror != nil {
		rc.mirror.leave(rc.v)
	}
	switch {
	case rc.v.role == roleFollower && !rc.mirror.hasEnded():
		rc.srv.leaveRemote(rc.code, rc.viewerID())
	case rc.viewerID() != "":
		rc.srv.dir.c.NC.Publish(roomSubject(rc.code, "leave"), []byte(rc.viewerID()))
	}
}
