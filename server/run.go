package server

// Run mode (Play): training in slices of about 2 ms, each of which waits
// for a turn, with progress frames at most ~30 a second.

import (
	"bytes"
	"fmt"
	"time"

	"github.com/netstep/netstep/engine"
)

// suspendedRun is a run that stopped because its last viewer went away: it
// starts again when a driver comes back (a resume), so an abandoned tab
// that was playing does not train on for the whole resume window.
type suspendedRun struct {
	on  bool
	g   engine.Granularity
	sps float64
}

// runState is what run mode keeps between slices.
type runState struct {
	on           bool
	g            engine.Granularity
	sps          float64 // steps per second; 0 = as fast as possible
	start        time.Time
	next         time.Time // when the next slice is due
	steps        int64     // steps taken since start, for pacing
	perCall      int       // steps per engine Run call, adapted to the slice budget
	lastProgress time.Time
	dirty        bool // trained since the last progress frame
}

func (s *session) startRun(c *command) *Error {
	if s.tr.Diverged() != "" {
		return errorf(CodeDiverged, "run: %v", engine.ErrDiverged)
	}
	now := time.Now()
	if !s.run.on {
		last := lastEpoch(s.tr.Losses())
		for _, v := range s.viewers {
			v.lossEpoch = last
		}
		s.run = runState{perCall: 1, lastProgress: now}
	}
	s.run.on, s.run.g, s.run.sps = true, c.gran, c.sps
	s.run.start, s.run.steps, s.run.next = now, 0, now
	return nil
}

// stopRun leaves run mode, forgetting progress frames not yet written so
// that none follows the state the caller sends next.
func (s *session) stopRun() {
	if !s.run.on {
		return
	}
	s.run.on = false
	for _, v := range s.viewers {
		v.clearProgress()
	}
}

// runSlice trains for at most one slice budget and sends a progress frame
// when one is due. It returns how long to wait before the next slice (0 or
// less: as soon as there is a turn).
func (s *session) runSlice() time.Duration {
	r := &s.run
	now := time.Now()
	n := r.perCall
	if r.sps > 0 {
		due := int64(now.Sub(r.start).Seconds()*r.sps) - r.steps
		if due > int64(n) {
			// Behind schedule: do one slice's worth and forget the debt.
			r.steps += due - int64(n)
			due = int64(n)
		}
		n = int(max(due, 0))
	}
	if n > 0 {
		t0 := time.Now()
		s.tr.Run(r.g, n, nil)
		s.version++
		took := time.Since(t0)
		r.steps += int64(n)
		s.steps.Add(int64(n))
		s.srv.metrics.steps.Add(float64(n))
		r.dirty = true
		budget := s.srv.cfg.SliceBudget
		if took < budget/2 && n == r.perCall && r.perCall < 1<<20 {
			r.perCall *= 2
		} else if took > budget && r.perCall > 1 {
			r.perCall /= 2
		}
		if reason := s.tr.Diverged(); reason != "" {
			s.stopRun()
			s.sendState(nil, nil, "diverged", false)
			s.buf = appendError(s.buf[:0], &Error{Code: CodeDiverged, Message: "training diverged and stopped: " + reason + "; go back or reset"})
			s.srv.metrics.errors.WithLabelValues(CodeDiverged).Inc()
			s.broadcast(kindOrdered, s.buf)
			return 0
		}
	}
	now = time.Now()
	if r.dirty && now.Sub(r.lastProgress) >= progressInterval {
		s.sendProgress()
		r.lastProgress, r.dirty = now, false
		if now.Sub(s.lastSave) >= saveEvery {
			s.save()
		}
	}
	if r.sps == 0 {
		return 0
	}
	next := r.start.Add(time.Duration(float64(r.steps+1) / r.sps * float64(time.Second))).Sub(now)
	if r.dirty {
		next = min(next, r.lastProgress.Add(progressInterval).Sub(now))
	}
	return max(next, time.Millisecond)
}

// sendProgress offers every viewer a progress frame. Viewers that still
// hold the previous one are skipped (latest wins: they get a newer one
// later). The losses in a frame are those after the viewer's newest, so
// viewers that skipped frames lose no loss points; viewers in step share
// one encoded frame.
func (s *session) sendProgress() {
	rl := (*relay)(nil)
	if s.room != nil {
		rl = s.room.relay
	}
	if len(s.viewers) == 0 && rl == nil || !s.durable() {
		return
	}
	var hm *engine.Heatmaps
	if time.Since(s.lastHeat) >= s.heatEvery {
		hm = s.boundary()
	}
	last := lastEpoch(s.tr.Losses())
	if rl != nil {
		// Other instances get every progress frame, each with the losses
		// since the one before.
		s.buf = appendProgress(s.buf[:0], s.tr, rl.lossEpoch, hm)
		rl.publish(kindProgress, s.buf)
		rl.lossEpoch = last
	}
	done := make([]bool, len(s.viewers))
	for i, v := range s.viewers {
		if done[i] {
			continue
		}
		since := v.lossEpoch
		s.buf = appendProgress(s.buf[:0], s.tr, since, hm)
		f := s.frame(kindProgress, s.buf)
		for j := i; j < len(s.viewers); j++ {
			w := s.viewers[j]
			if !done[j] && w.lossEpoch == since {
				done[j] = true
				if w.offerProgress(f) {
					w.lossEpoch = last
				}
			}
		}
	}
}

func joinQuoted(names []string) string {
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}
