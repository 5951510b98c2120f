package server

// A classroom room's state frames: the last one encoded is kept, so that a
// class joining at once, and followers asking for the state, cost the room
// a copy each instead of an encode (a 2-D lesson's full state with its
// heatmaps takes milliseconds). Followers' asks while the trainer changes
// (the presenter playing) are answered together at most every
// followerStateEvery, so followers cannot make the room's goroutine work
// for them.
//
// A learner's session keeps a state frame too, but only once its state
// command asks again for the state it has just encoded (a page asks once,
// when it resumes; a client asking again and again gets a copy, not an
// encode: 1.5 ms of CPU and 330 KB of garbage each on the spiral lesson),
// and only until the trainer changes: an idle session holds none.

import (
	"bytes"
	"time"

	"github.com/netstep/netstep/engine"
)

// followerStateEvery is the least time between two state encodes a room's
// followers can cause. statesPerSecond (in bursts of stateBurst) is how
// often one connection may send state, which a page does only when it
// resumes: a full state of a 2-D lesson is ~100 KB, milliseconds to
// encode, and even a copy costs that on the wire for a 30-byte ask (50
// followers asking 5 times a second made the server send 27 MB a second).
const (
	followerStateEvery = 250 * time.Millisecond
	statesPerSecond    = 1
	stateBurst         = 20
)

// stateCache is one encoded state frame and what it was encoded from.
type stateCache struct {
	frame     []byte // {"type":"state","id":…,"reason":…,"state":{…}}
	body      int    // where ,"state": starts in frame
	version   uint64 // the session's version it shows
	full      bool   // encoded with the data set (State(true))
	lastEpoch int    // the newest epoch loss it carries
	made      time.Time
	plain     *frame // the same state with no id and reason "state", prepared once for every viewer it goes to
}

// keepsState reports whether the state frame being encoded (reason, full)
// goes into the cache: always in a room; in a learner's session when a
// state command asks for the state of the version a state command has
// already been sent, full.
func (s *session) keepsState(reason string, full bool) bool {
	if s.room != nil {
		return true
	}
	if reason != "state" || !full {
		return false
	}
	again := s.stateAsked == s.version+1
	s.stateAsked = s.version + 1
	return again
}

// dropStale frees a learner's cached state once the trainer has changed
// (a room keeps its own: late joiners start from it).
func (s *session) dropStale() {
	if c := &s.stateCache; s.room == nil && c.frame != nil && c.version != s.version {
		*c = stateCache{}
	}
}

// keep copies an encoded state frame into the cache.
func (c *stateCache) keep(frame []byte, version uint64, full bool, last int) {
	i := bytes.Index(frame, []byte(`,"state":`))
	if i < 0 {
		return
	}
	c.frame = append(c.frame[:0], frame...)
	c.body, c.version, c.full, c.lastEpoch, c.made = i, version, full, last, time.Now()
	c.plain = nil
}

// plainFrame returns the cached state as a frame with no id and reason
// "state", which late joiners and followers' asks (a page's state has no
// id) share: one copy and one prepared message for all of them.
func (c *stateCache) plainFrame() *frame {
	if c.plain == nil {
		c.plain = newFrame(kindState, c.reframe(nil, nil, "state"), 2)
	}
	return c.plain
}

// reframe appends the cached frame with another id and reason.
func (c *stateCache) reframe(dst, id []byte, reason string) []byte {
	dst = append(dst, `{"type":"state"`...)
	dst = appendID(dst, id)
	dst = append(dst, `,"reason":`...)
	dst = engine.AppendString(dst, reason)
	return append(dst, c.frame[c.body:]...)
}

// stateAsk is a follower's state command waiting for the next encode.
type stateAsk struct {
	v  *viewer
	id []byte
}

// followerState answers a follower's state command from the cached frame
// when it is current, and reports true. Otherwise it holds the ask and
// reports false: answerWaiting encodes one frame for every held ask (at
// most every followerStateEvery) and sends it with their done frames. The
// room's goroutine never waits for a turn on a follower's behalf: the
// presenter's commands are never queued behind followers' asks. The state
// frame carries no id (every follower asking shares one frame); the done
// that follows it carries the command's.
func (s *session) followerState(v *viewer, id []byte) bool {
	c := &s.stateCache
	if c.frame != nil && c.version == s.version && c.full {
		s.sendState(v, nil, "state", true)
		return true
	}
	for i := range s.waiting {
		if s.waiting[i].v == v {
			s.waiting[i].id = bytes.Clone(id) // the newest ask of each follower
			return false
		}
	}
	if len(s.waiting) == 0 {
		s.stateLater.Reset(max(time.Until(c.made.Add(followerStateEvery)), 0))
	}
	s.waiting = append(s.waiting, stateAsk{v: v, id: bytes.Clone(id)})
	return false
}

// answerWaiting sends the held state asks one state frame, encoded once,
// and their done frames, when a turn is free at once; otherwise it looks
// again shortly.
func (s *session) answerWaiting() {
	if len(s.waiting) == 0 || s.tr == nil {
		s.waiting = nil
		return
	}
	if !s.holdsTurn {
		select {
		case <-s.srv.turns:
			s.holdsTurn = true
		default:
			s.stateLater.Reset(turnRetry)
			return
		}
	}
	defer s.giveTurn()
	asks := s.waiting
	s.waiting = nil
	for _, a := range asks {
		s.current = a.id
		s.sendState(a.v, nil, "state", true) // encoded for the first, shared by the rest
		s.reply(a.v, nil)
	}
}

// turnRetry is how soon a room looks again for a free turn to answer its
// followers' held asks.
const turnRetry = 20 * time.Millisecond
