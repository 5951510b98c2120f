package server

// Commands: which ones a driver may send, and how the session goroutine
// answers each (load, and the dispatch to stepping and running).

import (
	"sync/atomic"
	"time"

	"github.com/netstep/netstep/engine"
)

// mutates lists the commands that change the session, which only a driver
// may send.
var mutates = map[string]bool{"load": true, "step": true, "back": true, "run": true, "pause": true, "reset": true, "set": true, "setWeight": true, "view": true, "endRoom": true, "ask": true, "reveal": true}

// heavy lists the commands whose work (a state encode with heatmaps, an
// edit's copy, a replay) waits for a turn, as Play's slices do, so that a
// client sending them without end gets at most its share of the cores.
var heavy = map[string]bool{"load": true, "back": true, "pause": true, "reset": true, "set": true, "setWeight": true, "state": true}

// testHook, when set by a test, sees every command before it is handled.
var testHook atomic.Pointer[func(*command)]

// handle answers one message.
func (s *session) handle(m message) {
	v := m.v
	if m.err != nil {
		s.current = m.err.ID
		s.reply(v, m.err)
		return
	}
	c := &m.cmd
	s.current = c.id
	if h := testHook.Load(); h != nil {
		(*h)(c)
	}
	if mutates[c.name] && !v.role.drives() {
		s.reply(v, errorf(CodeNotPresenter, "%s: only the presenter can change this room; use \"explore on my own\" to try it yourself", c.name))
		return
	}
	if v.role.drives() {
		s.idle.Reset(s.idleTTL)
	}
	if c.name != "load" && s.tr == nil {
		s.reply(v, errorf(CodeNoLesson, "%s: no lesson is loaded; send load first", c.name))
		return
	}
	if mutates[c.name] {
		s.version++
	}
	if c.name == "state" && v.role == roleFollower {
		if s.followerState(v, c.id) {
			s.reply(v, nil)
		}
		return
	}
	if heavy[c.name] {
		if !s.takeTurn() {
			s.reply(v, errorf(CodeInternal, "%s: the server is shutting down", c.name))
			return
		}
		defer s.giveTurn()
	}
	var err *Error
	switch c.name {
	case "load":
		err = s.load(c)
	case "step":
		err = s.step(c)
	case "back":
		err = s.back(c)
	case "run":
		err = s.startRun(c)
	case "pause":
		s.stopRun()
		s.sendState(nil, c.id, "pause", false)
	case "reset":
		s.stopRun()
		s.tr.Reset()
		s.sendState(nil, c.id, "reset", true)
	case "set":
		err = s.srv.memoryFull("set")
		if err != nil {
			break
		}
		if e := s.tr.Set(c.patch); e != nil {
			err = errorf(CodeBadCommand, "%v", e)
		} else {
			s.sendState(nil, c.id, "set", false)
		}
	case "setWeight":
		err = s.srv.memoryFull("setWeight")
		if err != nil {
			break
		}
		if e := s.tr.SetWeight(c.layer, c.to, c.from, c.bias, c.value); e != nil {
			err = errorf(CodeBadCommand, "%v", e)
		} else {
			s.sendState(nil, c.id, "setWeight", false)
		}
	case "state":
		s.sendState(v, c.id, "state", true)
	case "view":
		s.view(c)
	case "endRoom":
		err = s.endRoom()
	case "ask":
		err = s.ask(c)
	case "answer":
		err = s.answer(v, c)
	case "reveal":
		err = s.reveal(c)
	}
	// A step stopped part way by the next command has still moved.
	changed := err == nil || (c.name == "step" && err.Code == CodeInterrupted)
	if changed && s.room != nil && v.role.drives() {
		s.voteAfter(c)
	}
	s.reply(v, err)
	s.resyncLagging()
	if changed && mutates[c.name] && c.name != "endRoom" {
		s.save()
	}
}

func (s *session) load(c *command) *Error {
	if err := s.srv.memoryFull("load"); err != nil {
		return err
	}
	l := c.lesson
	if l == nil {
		var ok bool
		if l, ok = s.srv.cfg.Lessons.Lookup(c.lessonName); !ok {
			return errorf(CodeNotFound, "name: there is no lesson called %q; the lessons are %s", c.lessonName, joinQuoted(s.srv.cfg.Lessons.Names()))
		}
	}
	tr, err := engine.NewTrainer(l)
	if err != nil {
		return errorf(CodeBadLesson, "lesson: %v", err)
	}
	s.stopRun()
	s.setTrainer(tr)
	s.sendState(nil, c.id, "load", true)
	return nil
}

// back undoes the last step. Its replay (seconds of CPU after a long Play)
// is taken in pieces of about a slice, each in a turn of its own, so that
// sessions playing interleave with it. Between pieces a driver's
// interrupting command or a shutdown gives the Back up: the trainer is put
// back exactly where it was (engine.Trainer.CancelBack), so what a
// shutdown saves and what the next command starts from is the position the
// page shows.
func (s *session) back(c *command) *Error {
	if s.run.on {
		return errorf(CodeRunning, "back: training is running; pause first")
	}
	if s.backPiece <= 0 {
		s.backPiece = 1024
	}
	budget := s.srv.cfg.SliceBudget
	for {
		if !s.takeTurn() {
			s.tr.CancelBack()
			return errorf(CodeInternal, "back: the server is shutting down")
		}
		t0 := time.Now()
		done, err := s.tr.BackLimited(s.backPiece)
		took := time.Since(t0)
		if err != nil {
			return errorf(CodeAtStart, "back: already at the beginning; there is nothing to undo")
		}
		if took < budget/2 && s.backPiece < 1<<24 {
			s.backPiece *= 2
		} else if took > budget && s.backPiece > 16 {
			s.backPiece /= 2
		}
		if done {
			break
		}
		s.giveTurn()
		select {
		case <-s.quit:
			s.tr.CancelBack()
			return errorf(CodeInternal, "back: the server is shutting down")
		default:
		}
		if s.interrupted("back") {
			s.tr.CancelBack()
			return errorf(CodeInterrupted, "back: given up for the command sent after it; nothing was undone")
		}
	}
	s.sendState(nil, c.id, "back", false)
	return nil
}
