package server

// Memory: every session's trainer has a byte budget (Config.SessionMemory)
// for everything it holds, and the server adds up what its sessions hold.
// Past Config.MaxMemory it refuses new work (loading a lesson, an edit, a
// fork, a new room) with a server_busy error, before the process is in
// danger; stepping, Back and Play go on within each session's budget.

import (
	"github.com/netstep/netstep/engine"
)

// setTrainer gives the session tr, under the session's memory budget.
func (s *session) setTrainer(tr *engine.Trainer) {
	tr.SetMemoryBudget(s.srv.cfg.SessionMemory)
	s.tr = tr
	s.account()
}

// account updates the server's total with what the session holds now.
func (s *session) account() {
	var n int64
	if s.tr != nil {
		n = s.tr.MemoryBytes()
	}
	n += int64(cap(s.stateCache.frame))
	if d := n - s.charged; d != 0 {
		s.charged = n
		s.srv.memUsed.Add(d)
		s.srv.metrics.memory.Add(float64(d))
	}
}

// uncharge takes an ended session's bytes off the server's total.
func (s *session) uncharge() {
	s.srv.memUsed.Add(-s.charged)
	s.srv.metrics.memory.Sub(float64(s.charged))
	s.charged = 0
}

// memoryFull says why new work is refused, or returns nil while the
// sessions hold less than MaxMemory.
func (srv *Server) memoryFull(what string) *Error {
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
