package server

// Followers across instances. A room's owner admits every follower of the
// room, wherever it connects: an instance serving a follower of a room held
// elsewhere asks the owner first (netstep.room.CODE.admit), and the owner
// takes the follower's place under the same lock as its own followers'
// (room.admit), so the room's cap and its cap per address are exact across
// instances, and the count the presenter sees and a tally's "following"
// include everyone. The owner keeps a stand-in viewer for each such
// follower: it holds the follower's seat, so its vote counts while it is
// connected, is taken out when it leaves (netstep.room.CODE.leave), and
// comes back when the page reconnects with its seat, on any instance. The
// stand-in is not among the session's viewers: the follower's frames come
// from its own instance's mirror; only the answers to its own commands
// travel through the stand-in.
//
// An instance that dies cannot say its followers left: the owner drops
// the stand-ins of an instance it has not heard from (admission.go's load
// bucket) for loadTTL.

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
)

// Headers of an admit request, besides hdrTo and hdrSeat.
const (
	hdrAddr     = "Netstep-Addr"     // the follower's client address, for the cap per address
	hdrInstance = "Netstep-Instance" // the instance the follower is connected to
	hdrTerm     = "Netstep-Term"     // on a readmit or a sync: the newest term the asker has seen
)

// standIns are the owner's stand-ins for followers connected to other
// instances, for dropping those of an instance that died.
type standIns struct {
	mu sync.Mutex
	m  map[*viewer]standIn
}

type standIn struct {
	rm       *room
	id       string // its key in the room relay's remote viewers
	instance string
	since    time.Time
}

// relayAdmit answers an admit request: "id seat" when the follower has its
// place, "!full reason" when the room has none, "!ended" when the room is
// over; nothing when the follower is meant for a newer owner (hdrTerm).
func (s *Server) relayAdmit(rm *room, m *nats.Msg) {
	addr, to, instance := m.Header.Get(hdrAddr), m.Header.Get(hdrTo), m.Header.Get(hdrInstance)
	if addr == "" || to == "" || instance == "" || len(addr) > 64 {
		m.Respond([]byte("!bad"))
		return
	}
	if superseded(rm, m) {
		// A follower coming to the room's new owner: this instance's
		// answer, if first, would seat it in a room that is over here or
		// say the room has ended.
		return
	}
	if ok, why := rm.admit(addr, s.cfg.MaxFollowers, s.cfg.FollowersPerAddress); !ok {
		m.Respond([]byte("!full " + why))
		return
	}
	v := s.outboxViewer(roleFollower, to)
	v.addr = addr
	if seat := m.Header.Get(hdrSeat); seatOK(seat) {
		v.seat = seat
	}
	id := randomString(18)
	rm.relay.mu.Lock()
	rm.relay.remote[id] = v
	rm.relay.mu.Unlock()
	s.standIns.mu.Lock()
	s.standIns.m[v] = standIn{rm: rm, id: id, instance: instance, since: time.Now()}
	s.standIns.mu.Unlock()
	if !rm.sess.do(func() { rm.sess.remoteFollowerJoined(v) }) {
		s.dropStandIn(rm, id, v)
		rm.leave(addr)
		m.Respond([]byte("!ended"))
		return
	}
	m.Respond([]byte(id + " " + v.seat))
}

// superseded reports whether a request names a newer term than this
// owner's (hdrTerm): another instance has taken the room over, though this
// one may not know yet and is still subscribed. It leaves the answer to
// the new owner.
func superseded(rm *room, m *nats.Msg) bool {
	t, err := strconv.ParseUint(m.Header.Get(hdrTerm), 10, 64)
	return err == nil && t > rm.relay.term
}

// dropStandIn forgets a stand-in; false if it was gone already.
func (s *Server) dropStandIn(rm *room, id string, v *viewer) bool {
	rm.relay.mu.Lock()
	delete(rm.relay.remote, id)
	rm.relay.mu.Unlock()
	s.standIns.mu.Lock()
	defer s.standIns.mu.Unlock()
	_, ok := s.standIns.m[v]
	delete(s.standIns.m, v)
	return ok
}

// remoteFollowerJoined seats a follower connected to another instance
// (session goroutine): it counts, its seat keeps its vote, the presenters
// and the tally hear of it.
func (s *session) remoteFollowerJoined(v *viewer) {
	s.srv.metrics.followers.Inc()
	s.seatFollower(v)
	s.roomCount(nil)
	s.tallyChanged()
}

// remoteFollowerLeft is the owner's side of a follower on another
// instance leaving: its place, its count and its vote in the tally go.
func (s *Server) remoteFollowerLeft(rm *room, id string, v *viewer) {
	if !s.dropStandIn(rm, id, v) {
		return
	}
	if !rm.sess.do(func() { rm.sess.followerLeft(v) }) {
		rm.leave(v.addr) // the room has ended; its count goes with it
	}
}

// sweepStandIns drops the stand-ins of rooms that have ended, and of
// instances not heard from for loadTTL (they died with their followers
// connected).
func (s *Server) sweepStandIns() {
	type gone struct {
		v  *viewer
		si standIn
	}
	var dead []gone
	s.mu.Lock()
	s.standIns.mu.Lock()
	for v, si := range s.standIns.m {
		if s.rooms[si.rm.code] != si.rm || (time.Since(si.since) > loadTTL && !s.board.alive(si.instance)) {
			dead = append(dead, gone{v, si})
		}
	}
	s.standIns.mu.Unlock()
	s.mu.Unlock()
	for _, d := range dead {
		s.log.Info("room: dropping a follower of an instance that stopped answering", "room", d.si.rm.code, "instance", d.si.instance)
		s.remoteFollowerLeft(d.si.rm, d.si.id, d.v)
	}
}

// admitRemote asks the owner of the room code for a follower's place.
// It returns the stand-in's id and the follower's seat, or why the room
// refused (full), or an error when the owner did not answer. A readmit
// names the term of the owner it is meant for: an older owner, which may
// not yet know it has lost the room, leaves the answer to the new one.
func (s *Server) admitRemote(code, addr, seat, inbox string, term uint64) (id, seatOut, full string, err error) {
	req := nats.NewMsg(roomSubject(code, "admit"))
	req.Header.Set(hdrAddr, addr)
	req.Header.Set(hdrTo, inbox)
	req.Header.Set(hdrInstance, s.dir.c.Instance)
	if seat != "" {
		req.Header.Set(hdrSeat, seat)
	}
	if term != 0 {
		req.Header.Set(hdrTerm, strconv.FormatUint(term, 10))
	}
	resp, err := s.dir.c.NC.RequestMsg(req, remoteWait)
	if err != nil {
		return "", "", "", err
	}
	d := string(resp.Data)
	if why, ok := strings.CutPrefix(d, "!full "); ok {
		return "", "", why, nil
	}
	id, seatOut, ok := strings.Cut(d, " ")
	if !ok || strings.HasPrefix(d, "!") {
		return "", "", "", errRoomGone
	}
	return id, seatOut, "", nil
}

// errRoomGone is an admit the owner refused because the room has ended.
var errRoomGone = &Error{Code: CodeBadCommand, Message: "the room has ended"}

// leaveRemote tells the owner of the room code that the follower it
// admitted as id has gone. A lost message would leave the follower
// counted, so it is a request, tried twice.
func (s *Server) leaveRemote(code, id string) {
	for range 2 {
		if _, err := s.dir.c.NC.Request(roomSubject(code, "leave"), []byte(id), time.Second); err == nil {
			return
		}
	}
}

// refuseFull upgrades a connection only to close it with CloseRoomFull
// and why: a browser cannot read a refused handshake's status.
func (s *Server) refuseFull(ws *websocket.Conn, why string) {
	s.metrics.refused.WithLabelValues("room_full").Inc()
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseRoomFull, why), time.Now().Add(time.Second))
	ws.Close()
}
