package server

// Stepping: one step with its events encoded once per form and sent in
// frames of bounded size, and big steps taken in pieces, one turn each.

import (
	"bytes"
	"time"

	"github.com/netstep/netstep/engine"
)

// step takes one step and sends its events, in frames of bounded size, in
// each form the viewers read (objects, compact, or both in a room whose
// followers differ): every frame is encoded once per form.
func (s *session) step(c *command) *Error {
	if s.run.on {
		return errorf(CodeRunning, "step: training is running; pause first")
	}
	if s.tr.Diverged() != "" {
		return errorf(CodeDiverged, "step: %v", engine.ErrDiverged)
	}
	objects, compact := s.eventForms()
	var bo, bc []byte // the object and compact frames being filled; nil when nobody reads that form
	if objects {
		bo = appendEventsHead(s.buf[:0], c.id)
	}
	if compact {
		bc = s.buf[:0]
		if objects {
			bc = getBuf()
		}
		bc = appendEventsHead(bc, c.id)
	}
	head := max(len(bo), len(bc)) // where the first event goes, in either form
	defer func() {
		// The session's buffer goes back to the pool in loop; a second one
		// goes back here.
		if objects {
			s.buf = bo
			if compact {
				putBuf(bc)
			}
		} else {
			s.buf = bc
		}
	}()
	var total, omitted int64
	updated := false
	// A room that writes its log (roomlog.go) holds a big step's frames
	// until the step is done and written: nothing of a step goes out
	// before it is durable.
	var held []heldFrame
	hold := s.room != nil && s.room.relay != nil && s.room.relay.claim != nil
	out := func(data []byte, compact bool) {
		if hold {
			held = append(held, heldFrame{data: bytes.Clone(data), compact: compact})
			return
		}
		s.broadcastForm(data, compact)
	}
	emit := func(e *engine.Event) {
		if e.Type == engine.EventUpdate {
			updated = true
		}
		if total >= maxStepEventBytes {
			omitted++
			return
		}
		if objects {
			if len(bo) > head {
				bo = append(bo, ',')
			}
			n := len(bo)
			bo = e.AppendJSON(bo)
			total += int64(len(bo) - n)
			if len(bo) >= eventsFrameBytes {
				bo = appendEventsMore(bo)
				out(bo, false)
				bo = appendEventsHead(bo[:0], c.id)
			}
		}
		if compact {
			if len(bc) > head {
				bc = append(bc, ',')
			}
			n := len(bc)
			bc = e.AppendCompact(bc)
			if !objects {
				total += int64(len(bc) - n)
			}
			if len(bc) >= eventsFrameBytes {
				bc = appendEventsMore(bc)
				out(bc, true)
				bc = appendEventsHead(bc[:0], c.id)
			}
		}
	}
	var stopped *Error
	if s.bigStep(c.gran) {
		// A step this big is run-mode work: it is taken in pieces of about
		// a slice, each waiting its turn, so that one client's epochs
		// cannot keep a core from everyone else.
		if err := s.stepInPieces(c.gran, emit); err != nil && err.Code != CodeInterrupted {
			return err
		} else if err != nil {
			// Stopped where it got to: the events so far end with that
			// position, and the step's answer says so.
			stopped = err
		}
	} else if err := s.tr.Step(c.gran, emit); err != nil {
		return errorf(CodeDiverged, "step: %v", err)
	}
	s.steps.Add(1)
	s.srv.metrics.steps.Inc()
	for _, h := range held {
		s.broadcastForm(h.data, h.compact)
	}
	if objects {
		bo = appendEventsEnd(bo, omitted, s.tr.Position())
		s.broadcastForm(bo, false)
	}
	if compact {
		bc = appendEventsEnd(bc, omitted, s.tr.Position())
		s.broadcastForm(bc, true)
	}
	if omitted > 0 {
		// The events frames are sent (copied): sendState may reuse s.buf.
		s.sendState(nil, c.id, "step", false)
	} else if updated {
		s.boundaryChanged()
	}
	return stopped
}

// stepInPieces takes a big step with engine.Trainer.StepLimited, one piece
// of about SliceBudget per run turn, giving the turn back between pieces so
// that sessions playing (or taking big steps) interleave with it. Between
// pieces a driver's interrupting command (Pause, another step, Back…)
// stops the step where it has got to, a position the whole step passes
// through (interrupt.go): the error then has code interrupted and says
// where. Other messages wait until the step is done.
func (s *session) stepInPieces(g engine.Granularity, emit func(*engine.Event)) *Error {
	if s.piece <= 0 {
		s.piece = 1024
	}
	budget := s.srv.cfg.SliceBudget
	for {
		select {
		case <-s.srv.turns:
		case <-s.quit:
			return errorf(CodeInternal, "step: the server is shutting down")
		}
		s.holdsTurn = true
		t0 := time.Now()
		done, err := s.tr.StepLimited(g, emit, s.piece)
		took := time.Since(t0)
		s.holdsTurn = false
		s.srv.turns <- struct{}{}
		if err != nil {
			return errorf(CodeDiverged, "step: %v", err)
		}
		if took < budget/2 && s.piece < 1<<24 {
			s.piece *= 2
		} else if took > budget && s.piece > 16 {
			s.piece /= 2
		}
		if done {
			return nil
		}
		select {
		case <-s.quit:
			return errorf(CodeInternal, "step: the server is shutting down")
		default:
		}
		if s.interrupted("step") {
			p := s.tr.Position()
			return errorf(CodeInterrupted, "step: stopped for the command sent after it, after %d epochs and %d samples; Back undoes the part taken", p.Epoch, p.Sample)
		}
	}
}

// bigStepWork is the work (samples × parameters) past which a step waits for
// a run turn: about 2 ms of training.
const bigStepWork = 1 << 21

// bigStep reports whether a step of granularity g is big enough to wait
// for a turn.
func (s *session) bigStep(g engine.Granularity) bool {
	l := s.tr.Lesson()
	samples := 1
	switch g {
	case engine.StepEpoch:
		samples = l.TrainSize()
	case engine.StepBatch:
		samples = s.tr.Training().BatchSize
	}
	return samples*l.ParamCount() > bigStepWork
}

// heldFrame is an events frame a step holds back until it is durable.
type heldFrame struct {
	data    []byte
	compact bool
}
