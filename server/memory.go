package server

// Memory: every session's trainer has a byte budget (Config.SessionMemory)
// for everything it holds, and the server adds up what its sessions hold.
// Past Config.MaxMemory it first evicts sessions whose learner has left
// (they wait for a resume), oldest first, when that makes room: with a
// store they are parked there, saved and resumable as after a restart, so
// nothing is lost. Otherwise it refuses new work (loading a lesson, an
// edit, a fork, a new room) with a server_busy error, before the process
// is in danger; stepping, Back and Play go on within each session's budget.

import (
	"cmp"
	"slices"
	"time"

	"github.com/netstep/netstep/engine"
)

// Bounds of one eviction for memory: how many sessions it may stop, and
// how long the work that asked waits for them to be saved and gone.
const (
	maxMemoryEvictions = 64
	evictWait          = 2 * time.Second
)

// setTrainer gives the session tr, under the session's memory budget.
func (s *session) setTrainer(tr *engine.Trainer) {
	tr.SetMemoryBudget(s.srv.cfg.SessionMemory)
	s.tr = tr
	s.version++ // a state cached for the trainer before is stale
	s.account()
}

// account updates the server's total with what the session holds now.
func (s *session) account() {
	s.dropStale()
	var n int64
	if s.tr != nil {
		n = s.tr.MemoryBytes()
	}
	n += int64(cap(s.stateCache.frame))
	if d := n - s.charged.Load(); d != 0 {
		s.charged.Store(n)
		s.srv.memUsed.Add(d)
		s.srv.metrics.memory.Add(float64(d))
	}
}

// uncharge takes an ended session's bytes off the server's total.
func (s *session) uncharge() {
	n := s.charged.Swap(0)
	s.srv.memUsed.Add(-n)
	s.srv.metrics.memory.Sub(float64(n))
}

// memoryFull says why new work is refused, or returns nil while the
// sessions hold less than MaxMemory.
func (srv *Server) memoryFull(what string) *Error {
	if srv.memUsed.Load() >= srv.cfg.MaxMemory {
		srv.evictForMemory()
	}
	used := srv.memUsed.Load()
	if used < srv.cfg.MaxMemory {
		return nil
	}
	srv.metrics.refused.WithLabelValues("memory").Inc()
	return errorf(CodeServerBusy, "%s: the server is short of memory (its sessions hold %d MiB of the %d MiB it allows); carry on with what you have, or try again in a few minutes",
		what, used>>20, srv.cfg.MaxMemory>>20)
}

// MemoryBytes returns the bytes the server's sessions hold by its own count
// (trainers and cached state frames), which MaxMemory bounds.
func (srv *Server) MemoryBytes() int64 { return srv.memUsed.Load() }

// evictForMemory evicts the sessions whose learners left longest ago
// (rooms never) until what they hold would bring the total under
// MaxMemory, and waits up to evictWait for them to be gone. If all of them
// together could not make room, it evicts none: they are not in the way.
func (srv *Server) evictForMemory() {
	srv.mu.Lock()
	gap := srv.memUsed.Load() - srv.cfg.MaxMemory + 1
	var orphans []*session
	for _, sess := range srv.sessions {
		if sess.orphaned.Load() != 0 && sess.room == nil {
			orphans = append(orphans, sess)
		}
	}
	slices.SortFunc(orphans, func(a, b *session) int { return cmp.Compare(a.orphaned.Load(), b.orphaned.Load()) })
	var freed int64
	n := 0
	for n < len(orphans) && n < maxMemoryEvictions && freed < gap {
		freed += orphans[n].charged.Load()
		n++
	}
	if freed < gap {
		srv.mu.Unlock()
		return
	}
	for _, sess := range orphans[:n] {
		srv.evictLocked(sess)
	}
	srv.mu.Unlock()
	deadline := time.NewTimer(evictWait)
	defer deadline.Stop()
	for _, sess := range orphans[:n] {
		select {
		case <-sess.done:
		case <-deadline.C:
			return
		}
	}
}
