package server

// Interrupting long commands: a Back replay or a big step runs in pieces,
// and between two pieces the session looks, without waiting, at what its
// readers have sent. A driver's command that changes the training (Pause,
// or another of interrupts) stops the long one: an unfinished Back is
// cancelled (the session stays where it was, engine.Trainer.CancelBack),
// an unfinished step stops where it got to (a position the whole step
// passes through; Back undoes the part taken). Either way every number is
// the one an uninterrupted session has at the position the session then
// reports.

// interrupts lists the commands that stop a driver's long command. The
// others (state, view, ask, answer, reveal) leave the numbers alone, so
// they wait for it rather than throw its work away: a presenter's page
// sends view by itself when the math switch or the step size changes. The
// same command again (Back pressed twice, Step twice) waits too: it asks
// for more of the same, not for something else.
var interrupts = map[string]bool{"pause": true, "step": true, "back": true, "run": true, "reset": true, "set": true, "setWeight": true, "load": true, "endRoom": true}

// interrupting reports whether m stops the long command called running.
func interrupting(m message, running string) bool {
	return m.err == nil && m.v.role.drives() && interrupts[m.cmd.name] && m.cmd.name != running
}

// maxHeld bounds the messages read ahead between pieces. Past it the
// session stops looking until the long command is done, and the readers
// wait, as they do while any command runs.
const maxHeld = 64

// interrupted reports whether a driver has sent a command that stops the
// long command called running since it began. Messages read while looking
// wait in s.held, in order, and are handled once the long command is done
// (handleHeld).
func (s *session) interrupted(running string) bool {
	for _, m := range s.held {
		if interrupting(m, running) {
			return true
		}
	}
	for len(s.held) < maxHeld {
		select {
		case m := <-s.in:
			s.held = append(s.held, m)
			if interrupting(m, running) {
				return true
			}
		default:
			return false
		}
	}
	return false
}

// handleHeld handles the messages read ahead, in the order they came.
func (s *session) handleHeld() {
	for len(s.held) > 0 {
		m := s.held[0]
		s.held[0] = message{}
		s.held = s.held[1:]
		if len(s.held) == 0 {
			s.held = nil
		}
		s.handle(m)
	}
}
