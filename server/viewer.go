package server

import (
	"sync"

	"github.com/gorilla/websocket"
)

// frame is one encoded frame, shared read-only by every viewer it goes to.
type frame struct {
	kind frameKind
	data []byte
	pm   *websocket.PreparedMessage // set when more than one viewer gets it
}

// role is what a viewer may do with its session.
type role uint8

const (
	roleOwner     role = iota // the learner who started the session: drives it
	rolePresenter             // a classroom room's presenter: drives it
	roleFollower              // a classroom student: watches, may ask for state
)

func (r role) drives() bool { return r != roleFollower }

// viewer is one connection's side of a session: a bounded queue that the
// session fills and the connection's writer drains. The session never
// waits for a viewer: pushing a frame takes a short lock and returns.
//
// Frames are kept in order, except that a state or boundary frame replaces
// an older one of its kind still waiting (latest wins) and progress frames
// have a slot of their own that the session fills only when the writer has
// taken the previous one. When the queue holds maxQueued frames anyway the
// viewer has fallen too far behind: a follower is resynced (its queue
// emptied and a fresh snapshot sent), anyone else is dropped (its
// connection closed; the page reconnects and resumes).
type viewer struct {
	role      role
	compact   bool   // events frames in the compact form; set before the viewer is attached
	seat      string // a follower's anonymous name for its vote (vote.go); session goroutine only once attached
	addr      string // a follower's client address, which its room counts followers by (room.go); set before attach
	maxQueued int
	drop      func() // closes the connection at once
	dropped   func(n int)
	notify    chan struct{} // capacity 1: "there is something to write", when wake is nil
	wake      func()        // called instead of notifying: starts the connection's writer

	mu        sync.Mutex
	queue     []*frame
	progress  *frame
	closing   bool
	closeCode int
	closeText string
	resync    bool // overflowed: the session owes this viewer a snapshot
	gone      bool // overflowed and dropped: push does nothing

	lossEpoch int // session goroutine only: newest epoch loss this viewer has
}

func newViewer(r role, maxQueued int, drop func(), dropped func(int)) *viewer {
	return &viewer{role: r, maxQueued: maxQueued, drop: drop, dropped: dropped, notify: make(chan struct{}, 1)}
}

func (v *viewer) signal() {
	if v.wake != nil {
		v.wake()
		return
	}
	select {
	case v.notify <- struct{}{}:
	default:
	}
}

// push queues f, coalescing state-like frames, and reports whether it was
// queued.
func (v *viewer) push(f *frame) bool {
	v.mu.Lock()
	if v.closing || v.gone {
		v.mu.Unlock()
		return false
	}
	if f.kind == kindState || f.kind == kindBoundary {
		kept := v.queue[:0]
		for _, q := range v.queue {
			if q.kind != f.kind {
				kept = append(kept, q)
			}
		}
		if n := len(v.queue) - len(kept); n > 0 {
			clear(v.queue[len(kept):])
			v.dropped(n)
		}
		v.queue = kept
	}
	if f.kind == kindState && v.progress != nil {
		// A state carries everything a waiting progress frame would.
		v.progress = nil
		v.dropped(1)
	}
	if len(v.queue) >= v.maxQueued {
		n := len(v.queue)
		clear(v.queue)
		v.queue = v.queue[:0]
		v.progress = nil
		if v.role == roleFollower {
			v.resync = true
			v.mu.Unlock()
			v.dropped(n)
			return false
		}
		v.gone = true
		v.mu.Unlock()
		v.dropped(n)
		v.drop()
		return false
	}
	v.queue = append(v.queue, f)
	v.mu.Unlock()
	v.signal()
	return true
}

// offerProgress puts f in the progress slot if the writer has taken the
// previous progress frame, and reports whether it did.
func (v *viewer) offerProgress(f *frame) bool {
	v.mu.Lock()
	if v.progress != nil || v.closing || v.gone || v.resync {
		v.mu.Unlock()
		return false
	}
	v.progress = f
	v.mu.Unlock()
	v.signal()
	return true
}

// clearProgress forgets a progress frame not yet taken: after pause, a
// stale progress frame must not follow the state.
func (v *viewer) clearProgress() {
	v.mu.Lock()
	if v.progress != nil {
		v.progress = nil
		v.dropped(1)
	}
	v.mu.Unlock()
}

// takeResync reports whether the viewer overflowed since it was last asked,
// and clears the mark.
func (v *viewer) takeResync() bool {
	v.mu.Lock()
	r := v.resync
	v.resync = false
	v.mu.Unlock()
	return r
}

// close asks the writer to send a close frame with code and text after the
// frames already queued, and then to hang up.
func (v *viewer) close(code int, text string) {
	v.mu.Lock()
	if !v.closing {
		v.closing, v.closeCode, v.closeText = true, code, text
	}
	v.mu.Unlock()
	v.signal()
}

// take hands the writer everything queued, swapping in spare (emptied) as
// the new queue so that the steady state allocates nothing.
func (v *viewer) take(spare []*frame) (frames []*frame, progress *frame, closing bool, code int, text string) {
	v.mu.Lock()
	frames, v.queue = v.queue, spare[:0]
	progress, v.progress = v.progress, nil
	closing, code, text = v.closing, v.closeCode, v.closeText
	v.mu.Unlock()
	return frames, progress, closing, code, text
}
