package server

// Commands: which ones a driver may send, and how the session goroutine
// answers each (load, and the dispatch to stepping and running).

import (
	"sync/atomic"

	"github.com/netstep/netstep/engine"
)

// mutates lists the commands that change the session, which only a driver
// may send.
var mutates = map[string]bool{"load": true, "step": true, "back": true, "run": true, "pause": true, "reset": true, "set": true, "setWeight": true, "view": true, "endRoom": true, "ask": true, "reveal": true}

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
	var err *Error
	switch c.name {
	case "load":
		err = s.load(c)
	case "step":
		err = s.step(c)
	case "back":
		if s.run.on {
			err = errorf(CodeRunning, "back: training is running; pause first")
		} else if s.tr.Back() != nil {
			err = errorf(CodeAtStart, "back: already at the beginning; there is nothing to undo")
		} else {
			s.sendState(nil, c.id, "back", false)
		}
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
		if e := s.tr.Set(c.patch); e != nil {
			err = errorf(CodeBadCommand, "%v", e)
		} else {
			s.sendState(nil, c.id, "set", false)
		}
	case "setWeight":
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
	if err == nil && s.room != nil && v.role.drives() {
		s.voteAfter(c)
	}
	s.reply(v, err)
	s.resyncLagging()
}

func (s *session) load(c *command) *Error {
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
	s.tr = tr
	s.sendState(nil, c.id, "load", true)
	return nil
}
