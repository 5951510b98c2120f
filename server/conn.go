package server

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// stateSlowDown is the message of a state command refused for its rate.
var stateSlowDown = fmt.Sprintf("state: at most %d a second (bursts of %d); every change is sent anyway", statesPerSecond, stateBurst)

// closeGrace is how long a closing side waits for the peer's close frame
// before hanging up.
const closeGrace = time.Second

// conn is one websocket: a reader goroutine for the connection's life and
// a writer goroutine while there is something to write, after gorilla's
// chat example (one reader, one writer at a time). An idle connection has
// no writer: a goroutine's stack is the biggest thing an idle session
// holds besides its trainer. Pings come from a timer that wakes a writer.
type conn struct {
	srv      *Server
	ws       *websocket.Conn
	sess     *session    // the session this connection views, or nil for a room held by another instance
	remote   *remoteConn // the room held elsewhere, when sess is nil (mirror.go)
	v        *viewer
	readDone chan struct{}
	commands *rate.Limiter // commands a second
	bytes    *rate.Limiter // bytes a second: big inline lessons cost parsing time
	strikes  *rate.Limiter // slow_down answers before the connection is closed
	asks     *rate.Limiter // state commands a second (statecache.go)
	ping     *time.Timer

	wmu      sync.Mutex
	writing  bool           // a writer goroutine is running
	again    bool           // woken while writing: look at the queue once more
	pingDue  bool           // the writer owes the peer a ping
	serving  bool           // serve has run: writers may start
	finished bool           // no writer may start: the connection is closing or closed
	writers  sync.WaitGroup // the writer goroutine, if one runs
}

func (s *Server) newConn(ws *websocket.Conn, sess *session) *conn {
	s.track(ws)
	c := &conn{
		srv:      s,
		ws:       ws,
		sess:     sess,
		readDone: make(chan struct{}),
		commands: rate.NewLimiter(rate.Limit(s.cfg.CommandsPerSecond), s.cfg.CommandBurst),
		bytes:    rate.NewLimiter(rate.Limit(s.cfg.BytesPerSecond), int(2*s.cfg.MaxFrameBytes)),
		strikes:  rate.NewLimiter(1, 20),
		asks:     rate.NewLimiter(statesPerSecond, stateBurst),
	}
	c.v = newViewer(roleOwner, s.cfg.MaxQueuedFrames, func() { ws.Close() }, func(n int) { s.metrics.dropped.Add(float64(n)) })
	c.v.wake = c.wake
	return c
}

// wake starts a writer unless one is running (which then looks again).
func (c *conn) wake() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.finished || !c.serving {
		return // before serve, frames wait for it
	}
	if c.writing {
		c.again = true
		return
	}
	c.writing, c.again = true, false
	c.writers.Add(1)
	go c.write()
}

// pingTick asks a writer for a ping, every PingInterval.
func (c *conn) pingTick() {
	c.wmu.Lock()
	if c.finished {
		// Closing: no more pings (and no Reset, which would keep a dead
		// connection's timer alive).
		c.wmu.Unlock()
		return
	}
	c.pingDue = true
	c.wmu.Unlock()
	c.wake()
	c.ping.Reset(c.srv.cfg.PingInterval)
}

// serve starts the connection's reader and writer goroutines and returns,
// so that net/http's goroutine for the request ends and its buffers and
// stack are freed: an idle session then costs less.
func (c *conn) serve() {
	c.srv.mu.Lock()
	if c.srv.closing {
		c.srv.mu.Unlock()
		c.srv.untrack(c.ws)
		c.ws.Close()
		return
	}
	c.srv.wg.Add(1) // the reader, which waits for the writers
	c.srv.mu.Unlock()
	c.ping = time.AfterFunc(c.srv.cfg.PingInterval, c.pingTick)
	c.wmu.Lock()
	c.serving = true
	c.wmu.Unlock()
	c.wake() // frames queued before serve (hello, the state)
	go c.readLoop()
}

func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	defer func() {
		close(c.readDone)
		if c.remote != nil {
			c.remote.leave()
		} else {
			c.sess.do(func() { c.sess.detach(c.v) })
		}
		// No writer starts from here on; one that runs stops at the close.
		c.ping.Stop()
		c.wmu.Lock()
		c.finished = true
		c.wmu.Unlock()
		c.ws.Close()
		c.writers.Wait()
		c.srv.untrack(c.ws)
	}()
	defer func() {
		// A bug in decoding (or in the engine's lesson parser) ends this
		// connection, not the server.
		if p := recover(); p != nil {
			c.srv.log.Error("connection reader panicked; closing it", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			c.srv.metrics.errors.WithLabelValues(CodeInternal).Inc()
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "internal error"), time.Now().Add(closeGrace))
			c.ws.Close()
		}
	}()
	pongWait := 2 * c.srv.cfg.PingInterval
	c.ws.SetReadLimit(c.srv.cfg.MaxFrameBytes)
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				// gorilla has sent 1009 (message too big).
				c.srv.metrics.refused.WithLabelValues("frame_too_big").Inc()
				c.drain()
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		m := message{v: c.v}
		switch {
		case !c.commands.Allow() || !c.bytes.AllowN(time.Now(), len(data)):
			if !c.strikes.Allow() {
				c.closeWith(websocket.ClosePolicyViolation, "too many commands")
				return
			}
			m.err = errorf(CodeSlowDown, "too many commands: at most %g a second (bursts of %d) and %d KiB a second; wait a little",
				c.srv.cfg.CommandsPerSecond, c.srv.cfg.CommandBurst, int(c.srv.cfg.BytesPerSecond)>>10)
			m.err.ID = peekID(data)
		case mt != websocket.TextMessage:
			m.err = errorf(CodeBadJSON, "binary frames are not accepted: send each command as JSON text")
		case !utf8.Valid(data):
			c.closeWith(websocket.CloseInvalidFramePayloadData, "invalid UTF-8")
			return
		default:
			m.cmd, m.err = decodeCommandWith(data, c.srv.lessons.parse)
			if m.err == nil && m.cmd.name == "state" && !c.asks.Allow() {
				// Checked here, not in the session's goroutine: asking for
				// the state again and again costs the session nothing. Each
				// refusal still costs a read and a write, so a client that
				// goes on asking after about 20 of them is closed, as one
				// flooding commands is.
				if !c.strikes.Allow() {
					c.closeWith(websocket.ClosePolicyViolation, "too many commands")
					return
				}
				m.err = &Error{Code: CodeSlowDown, ID: m.cmd.id, Message: stateSlowDown}
			}
		}
		if c.v.role == roleFollower && (m.err != nil || mutates[m.cmd.name]) {
			// A follower's refused command is answered here, not by the
			// room's goroutine: a class sending junk costs the room nothing.
			if m.err == nil {
				m.err = errorf(CodeNotPresenter, "%s: only the presenter can change this room; use \"explore on my own\" to try it yourself", m.cmd.name)
				m.err.ID = m.cmd.id
			}
			c.srv.metrics.errors.WithLabelValues(m.err.Code).Inc()
			c.v.push(&frame{kind: kindOrdered, data: appendError(nil, m.err)})
			continue
		}
		if c.remote != nil {
			// A room held by another instance: its owner answers.
			if m.err != nil {
				c.v.push(&frame{kind: kindOrdered, data: appendError(nil, m.err)})
			} else if !c.remote.forward(data) {
				c.drain()
				return
			}
			continue
		}
		if !c.sess.send(m) {
			return
		}
	}
}

// closeWith has the writer send the frames already queued and then a close
// frame, and waits briefly for the client's answer.
func (c *conn) closeWith(code int, text string) {
	c.v.close(code, text)
	c.drain()
}

// drain reads and discards until the peer's close frame or closeGrace.
func (c *conn) drain() {
	c.ws.SetReadDeadline(time.Now().Add(closeGrace))
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}

// write is the writer goroutine: it writes what is queued (and a ping if
// one is due) and ends when there is nothing left, or when the connection
// is done for.
func (c *conn) write() {
	defer c.writers.Done()
	var spare []*frame
	for {
		c.wmu.Lock()
		ping := c.pingDue
		c.pingDue = false
		c.wmu.Unlock()
		if ping {
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.WriteTimeout)); err != nil {
				c.hangUp()
				return
			}
		}
		frames, progress, closing, code, text := c.v.take(spare)
		for i, f := range frames {
			if !c.writeFrame(f) {
				// Dropped: what it never got counts as dropped frames.
				c.srv.metrics.dropped.Add(float64(len(frames) - i))
				c.hangUp()
				return
			}
		}
		clear(frames)
		spare = frames[:0]
		if progress != nil && !c.writeFrame(progress) {
			c.hangUp()
			return
		}
		if closing {
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(c.srv.cfg.WriteTimeout))
			select {
			case <-c.readDone:
			case <-time.After(closeGrace):
			}
			c.hangUp()
			return
		}
		c.wmu.Lock()
		if !c.again || c.finished {
			c.writing = false
			c.wmu.Unlock()
			return
		}
		c.again = false
		c.wmu.Unlock()
	}
}

// hangUp closes the connection from the writer's side: no writer starts
// again, and the reader's next read fails, which ends the connection.
func (c *conn) hangUp() {
	c.wmu.Lock()
	c.finished, c.writing = true, false
	c.wmu.Unlock()
	c.ws.Close()
}

// writeFrame sends one frame with a deadline; false means the connection
// is done for.
func (c *conn) writeFrame(f *frame) bool {
	c.ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	var err error
	if f.pm != nil {
		err = c.ws.WritePreparedMessage(f.pm)
	} else {
		err = c.ws.WriteMessage(websocket.TextMessage, f.data)
	}
	return err == nil
}
