package server

// Class votes: peer instruction in a classroom room. The presenter opens a
// question (ask); every follower answers it and may change the answer
// (answer); everyone sees a tally, at most one every tallyInterval however
// many vote; the presenter reveals (reveal) with the answer its page read
// from the step's events. Votes are anonymous: a follower connection has a
// seat, a random name the room gives it so that a reconnecting page keeps
// its vote, and nothing about a seat outlives the question it voted on.
// See docs/classroom.md and the Classroom section of docs/protocol.md.

import (
	"encoding/json/jsontext"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/engine"
)

// tallyInterval is the least time between two tally frames: at most four a
// second, so 500 students answering at once cost the room four frames a
// second to each viewer, not 500.
const tallyInterval = 250 * time.Millisecond

// Limits on the vote commands' fields.
const (
	maxQuestionID = 1 << 30
	maxQuestions  = 1000 // index: a lesson's questions are fewer
	maxVoteText   = 300  // ask's text and reveal's detail, in characters
	maxSeatChars  = 32
)

// quickAsk is what a quick question on a weight asks when the presenter
// gives no text.
const quickAsk = "At the next update, will this weight go up or down?"

// poll is a room's open question. Owned by the session goroutine.
type poll struct {
	id       int             // the room's count of questions asked: answers name it
	index    int             // the lesson's question, or -1 for a quick one
	q        engine.Question // what is asked
	choices  int
	votes    map[string]int // seat → choice
	counts   []int          // the votes of seats connected now, per choice
	answered int            // how many seats connected now have voted
	closed   bool           // the presenter stepped: the answer may be on screen, voting is over
	saved    bool           // the room's bucket has it as it is (saveQuestion)
}

// choiceCount is how many answers a question has: up or down, smaller or
// bigger, or one per output.
func choiceCount(q engine.Question, l *engine.Lesson) int {
	if q.Kind == "winner" {
		return len(l.Network.Outputs)
	}
	return 2
}

// choiceValue is what choice i of q means, in the words of a lesson
// question's answer field (docs/lessons.md): the order pages show them in.
func choiceValue(q engine.Question, i int) string {
	switch {
	case q.Kind == "weight":
		return [...]string{"up", "down"}[i]
	case q.Kind == "loss" && q.Horizon != nil && q.Horizon.Epochs > 0 && q.Horizon.LossBelow > 0:
		return [...]string{"yes", "no"}[i]
	case q.Kind == "loss":
		return [...]string{"smaller", "bigger"}[i]
	}
	return strconv.Itoa(i)
}

// decodeVote reads the fields of ask, answer and reveal.
func decodeVote(c *command, get func(string) jsontext.Value) *Error {
	var e *Error
	switch c.name {
	case "ask":
		c.askIndex = -1
		if raw := get("index"); raw != nil {
			for _, k := range []string{"layer", "to", "from", "bias", "ask"} {
				if get(k) != nil {
					return errorf(CodeBadCommand, "%s: not with index; ask either a lesson's question (index) or a weight (layer, to, from or \"bias\":true)", k)
				}
			}
			c.askIndex, e = wantInt("index", raw, 0, maxQuestions-1)
			return e
		}
		for _, k := range []struct {
			key string
			dst *int
			hi  int
		}{{"layer", &c.layer, engine.MaxLayers - 1}, {"to", &c.to, engine.MaxNeurons - 1}} {
			raw := get(k.key)
			if raw == nil {
				return errorf(CodeBadCommand, "%s: missing; want index (a lesson's question) or layer, to and from (a weight)", k.key)
			}
			if *k.dst, e = wantInt(k.key, raw, 0, k.hi); e != nil {
				return e
			}
		}
		if raw := get("bias"); raw != nil {
			if c.bias, e = wantBool("bias", raw); e != nil {
				return e
			}
		}
		switch raw := get("from"); {
		case raw != nil && c.bias:
			return errorf(CodeBadCommand, "from: not allowed with \"bias\":true; a bias comes from no neuron")
		case raw != nil:
			if c.from, e = wantInt("from", raw, 0, engine.MaxInputs-1); e != nil {
				return e
			}
		case !c.bias:
			return errorf(CodeBadCommand, "from: missing; want the input or neuron the weight comes from, or \"bias\":true")
		}
		if raw := get("ask"); raw != nil {
			if c.text, e = wantString("ask", raw, maxVoteText); e != nil {
				return e
			}
		}
	case "answer":
		raw := get("question")
		if raw == nil {
			return errorf(CodeBadCommand, "question: missing; want the number of the open question")
		}
		if c.question, e = wantInt("question", raw, 1, maxQuestionID); e != nil {
			return e
		}
		raw = get("choice")
		if raw == nil {
			return errorf(CodeBadCommand, "choice: missing; want the number of your answer, from 0")
		}
		c.choice, e = wantInt("choice", raw, 0, engine.MaxOutputs-1)
		return e
	case "reveal":
		c.choice = -1
		if raw := get("answer"); raw != nil && string(raw) != "null" {
			if c.choice, e = wantInt("answer", raw, 0, engine.MaxOutputs-1); e != nil {
				return e
			}
		}
		if raw := get("detail"); raw != nil {
			if c.text, e = wantString("detail", raw, maxVoteText); e != nil {
				return e
			}
		}
	}
	return nil
}

// seatOK reports whether s could be a seat the room gave out (base64url).
func seatOK(s string) bool {
	return s != "" && len(s) <= maxSeatChars && base64url(s)
}

// seatFollower gives a follower that has just joined its seat: the one it
// asked for when it voted on the open question with it (a reconnecting
// page), else a fresh one. A connection the server has not yet noticed is
// dead gives its seat up to the new one.
func (s *session) seatFollower(v *viewer) {
	rm := s.room
	p := rm.poll
	if _, voted := p.vote(v.seat); !voted {
		v.seat = randomString(9)
	} else if old := rm.seats[v.seat]; old != nil {
		// Its vote is counted already; the old connection's detach will
		// find the seat taken and leave the count alone.
		old.close(websocket.CloseNormalClosure, "rejoined on another connection")
	} else {
		p.count(v.seat, +1)
	}
	if rm.seats == nil {
		rm.seats = map[string]*viewer{}
	}
	rm.seats[v.seat] = v
}

// unseatFollower forgets a follower that has gone: its vote stays for the
// question's life (it may come back) but is no longer counted.
func (s *session) unseatFollower(v *viewer) {
	rm := s.room
	if rm.seats[v.seat] != v {
		return // its seat went to a newer connection
	}
	delete(rm.seats, v.seat)
	rm.poll.count(v.seat, -1)
}

// vote returns the seat's vote on the open question, if any.
func (p *poll) vote(seat string) (int, bool) {
	if p == nil || seat == "" {
		return 0, false
	}
	c, ok := p.votes[seat]
	return c, ok
}

// count adds the seat's vote to the tally (+1) or takes it out (-1).
func (p *poll) count(seat string, d int) {
	if c, ok := p.vote(seat); ok {
		p.counts[c] += d
		p.answered += d
	}
}

// ask opens a question for the room: a lesson's (index) or a quick one on
// a weight.
func (s *session) ask(c *command) *Error {
	rm := s.room
	if rm == nil {
		return errorf(CodeBadCommand, "ask: this session is not a classroom room")
	}
	if rm.poll != nil {
		return errorf(CodeQuestionOpen, "ask: question %d is still open; reveal it first", rm.poll.id)
	}
	l := s.tr.Lesson()
	var q engine.Question
	if c.askIndex >= 0 {
		if c.askIndex >= len(l.Questions) {
			if len(l.Questions) == 0 {
				return errorf(CodeBadCommand, "index: this lesson has no questions; ask about a weight with layer, to and from")
			}
			return errorf(CodeBadCommand, "index: want a question of this lesson, 0 to %d; got %d", len(l.Questions)-1, c.askIndex)
		}
		q = l.Questions[c.askIndex]
	} else {
		w := l.Network.Weights
		switch {
		case c.layer >= len(w):
			return errorf(CodeBadCommand, "layer: want a layer from 0 to %d, got %d", len(w)-1, c.layer)
		case c.to >= len(w[c.layer]):
			return errorf(CodeBadCommand, "to: want a neuron from 0 to %d, got %d", len(w[c.layer])-1, c.to)
		case !c.bias && c.from >= len(w[c.layer][c.to]):
			return errorf(CodeBadCommand, "from: want a neuron from 0 to %d, got %d", len(w[c.layer][c.to])-1, c.from)
		}
		q = engine.Question{At: "update", Kind: "weight", Ask: c.text, Layer: c.layer, To: c.to, From: c.from, Bias: c.bias}
		if strings.TrimSpace(q.Ask) == "" {
			q.Ask = quickAsk
		}
	}
	rm.asked++
	n := choiceCount(q, l)
	rm.poll = &poll{id: rm.asked, index: c.askIndex, q: q, choices: n, votes: map[string]int{}, counts: make([]int, n)}
	// Durable before broadcast, as the room's steps are: what the class
	// sees of a question comes back with the room after a takeover.
	s.saveQuestion()
	s.buf = appendQuestion(s.buf[:0], rm.poll, -1)
	s.broadcast(kindOrdered, s.buf)
	s.sendTally()
	return nil
}

// answer records a follower's vote, or its change of mind.
func (s *session) answer(v *viewer, c *command) *Error {
	rm := s.room
	switch {
	case rm == nil:
		return errorf(CodeBadCommand, "answer: this session is not a classroom room")
	case v.role != roleFollower:
		return errorf(CodeNotFollower, "answer: only students answer; the presenter shows the answer with reveal")
	case rm.poll == nil:
		return errorf(CodeNoQuestion, "answer: no question is open")
	case c.question != rm.poll.id:
		return errorf(CodeNoQuestion, "question: question %d is closed; the open question is %d", c.question, rm.poll.id)
	case rm.poll.closed:
		return errorf(CodeVotingClosed, "answer: voting on question %d has closed; the answer is coming", c.question)
	case c.choice >= rm.poll.choices:
		return errorf(CodeBadCommand, "choice: want 0 to %d, got %d", rm.poll.choices-1, c.choice)
	}
	p := rm.poll
	if old, ok := p.votes[v.seat]; ok && old == c.choice {
		return nil
	}
	p.count(v.seat, -1)
	p.votes[v.seat] = c.choice
	p.saved = false
	p.count(v.seat, +1)
	s.tallyChanged()
	return nil
}

// reveal closes the open question with the answer the presenter's page
// found (or none) and tells every viewer the class's final spread.
func (s *session) reveal(c *command) *Error {
	rm := s.room
	if rm == nil {
		return errorf(CodeBadCommand, "reveal: this session is not a classroom room")
	}
	p := rm.poll
	if p == nil {
		return errorf(CodeNoQuestion, "reveal: no question is open")
	}
	if c.choice >= p.choices {
		return errorf(CodeBadCommand, "answer: want 0 to %d, or null; got %d", p.choices-1, c.choice)
	}
	s.closePoll(c.choice, c.text, false)
	return nil
}

// closePoll ends the open question with a reveal frame to every viewer.
// withdrawn says the presenter loaded or reset instead of revealing.
func (s *session) closePoll(answer int, detail string, withdrawn bool) {
	rm := s.room
	p := rm.poll
	rm.poll, rm.tallyDue = nil, false
	b := append(s.buf[:0], `{"type":"reveal","question":`...)
	b = strconv.AppendInt(b, int64(p.id), 10)
	if p.index >= 0 {
		b = append(b, `,"index":`...)
		b = strconv.AppendInt(b, int64(p.index), 10)
	}
	b = append(b, `,"answer":`...)
	if answer >= 0 {
		b = strconv.AppendInt(b, int64(answer), 10)
	} else {
		b = append(b, "null"...)
	}
	if detail != "" {
		b = append(b, `,"detail":`...)
		b = engine.AppendString(b, detail)
	}
	// The lesson's why explains one outcome (its answer field, when set):
	// when training went another way, it would contradict the numbers.
	if p.q.Why != "" && (p.q.Answer == "" || answer < 0 || choiceValue(p.q, answer) == p.q.Answer) {
		b = append(b, `,"why":`...)
		b = engine.AppendString(b, p.q.Why)
	}
	if withdrawn {
		b = append(b, `,"withdrawn":true`...)
	}
	b = appendCounts(b, p, int(rm.followers.Load()))
	s.buf = append(b, '}')
	s.forgetQuestion()
	s.broadcast(kindOrdered, s.buf)
}

// voteAfter runs after a presenter's command has been carried out: a step
// or a run closes voting (the answer may be on screen), and a new lesson
// or a reset withdraws the open question.
func (s *session) voteAfter(c *command) {
	p := s.room.poll
	if p == nil {
		return
	}
	switch c.name {
	case "step", "run":
		if !p.closed {
			p.closed, p.saved = true, false
			s.sendTally()
		}
	case "load", "reset":
		s.closePoll(-1, "", true)
	}
}

// voteJoined tells a viewer that has just joined the open question, its
// own vote if it has one, and the tally.
func (s *session) voteJoined(v *viewer) {
	p := s.room.poll
	if p == nil {
		return
	}
	mine := -1
	if c, ok := p.vote(v.seat); ok && v.role == roleFollower {
		mine = c
	}
	s.buf = appendQuestion(s.buf[:0], p, mine)
	v.push(newFrame(kindOrdered, s.buf, 1))
	s.buf = appendTally(s.buf[:0], p, int(s.room.followers.Load()))
	v.push(newFrame(kindOrdered, s.buf, 1))
}

// tallyChanged notes that the tally changed: a tally frame goes out now
// or, if one went out less than tallyInterval ago, once the interval is up
// (one frame, with the counts as they are then).
func (s *session) tallyChanged() {
	rm := s.room
	if rm.poll == nil {
		return
	}
	if rm.tallyDue {
		return // a timer will send it
	}
	wait := time.Until(rm.lastTally.Add(tallyInterval))
	if wait <= 0 {
		s.sendTally()
		return
	}
	rm.tallyDue = true
	time.AfterFunc(wait, func() {
		s.do(func() {
			if rm.tallyDue {
				s.sendTally()
			}
		})
	})
}

// sendTally sends the open question's tally to every viewer.
func (s *session) sendTally() {
	rm := s.room
	rm.tallyDue, rm.lastTally = false, time.Now()
	if rm.poll == nil {
		return
	}
	s.saveQuestion()
	s.buf = appendTally(s.buf[:0], rm.poll, int(rm.followers.Load()))
	s.broadcast(kindOrdered, s.buf)
}

// appendQuestion writes a question frame; mine ≥ 0 is the viewer's own
// vote (for a follower that rejoins).
func appendQuestion(dst []byte, p *poll, mine int) []byte {
	dst = append(dst, `{"type":"question","question":`...)
	dst = strconv.AppendInt(dst, int64(p.id), 10)
	if p.index >= 0 {
		dst = append(dst, `,"index":`...)
		dst = strconv.AppendInt(dst, int64(p.index), 10)
	}
	dst = append(dst, `,"at":`...)
	dst = engine.AppendString(dst, p.q.At)
	dst = append(dst, `,"kind":`...)
	dst = engine.AppendString(dst, p.q.Kind)
	dst = append(dst, `,"ask":`...)
	dst = engine.AppendString(dst, p.q.Ask)
	if p.q.Kind == "weight" {
		dst = append(dst, `,"layer":`...)
		dst = strconv.AppendInt(dst, int64(p.q.Layer), 10)
		dst = append(dst, `,"to":`...)
		dst = strconv.AppendInt(dst, int64(p.q.To), 10)
		if p.q.Bias {
			dst = append(dst, `,"bias":true`...)
		} else {
			dst = append(dst, `,"from":`...)
			dst = strconv.AppendInt(dst, int64(p.q.From), 10)
		}
	}
	dst = append(dst, `,"choices":`...)
	dst = strconv.AppendInt(dst, int64(p.choices), 10)
	if mine >= 0 {
		dst = append(dst, `,"yours":`...)
		dst = strconv.AppendInt(dst, int64(mine), 10)
	}
	if p.closed {
		dst = append(dst, `,"closed":true`...)
	}
	return append(dst, '}')
}

func appendTally(dst []byte, p *poll, following int) []byte {
	dst = append(dst, `{"type":"tally","question":`...)
	dst = strconv.AppendInt(dst, int64(p.id), 10)
	if p.closed {
		dst = append(dst, `,"closed":true`...)
	}
	dst = appendCounts(dst, p, following)
	return append(dst, '}')
}

// appendCounts writes ,"answered":A,"following":F,"counts":[…].
func appendCounts(dst []byte, p *poll, following int) []byte {
	dst = append(dst, `,"answered":`...)
	dst = strconv.AppendInt(dst, int64(p.answered), 10)
	dst = append(dst, `,"following":`...)
	dst = strconv.AppendInt(dst, int64(following), 10)
	dst = append(dst, `,"counts":[`...)
	for i, n := range p.counts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(n), 10)
	}
	return append(dst, ']')
}
