// Package server owns live sessions: the websocket endpoint at /ws, the
// protocol's frames (docs/protocol.md), one goroutine owning each
// engine.Trainer, resume, and the limits that keep one client from hurting
// another. It never reads flags or the environment: the program passes a
// Config to New. Its HTTP handlers set only what is their own answer
// (Content-Type, Location, Retry-After, Allow); the program wraps them in
// web.Headers, the one place that sets caching and security headers.
//
// # Shape
//
// A session is one goroutine that owns one engine.Trainer and a list of
// viewers. Each websocket connection is one viewer with a reader goroutine
// (read limit, rate limit, strict decoding, then a message to the session)
// and, while it has frames to send, a writer goroutine (write deadline
// before every write; pings, every PingInterval, wake one). An idle session
// is two goroutines and about 45 KiB (docs/benchmarks.md). The session
// handles one message at a time, encodes each frame once (once per form, in
// a room whose viewers read events in both) and hands the same bytes to
// every viewer's bounded queue; it never waits for a viewer. A viewer whose queue overflows is either dropped (the learner's
// own connection: the page reconnects and resumes) or resynced with a fresh
// snapshot (a follower; the followers that fell behind at the same moment
// share one encoded snapshot).
//
// Run mode trains in slices of about 2 ms. A slice needs a turn, and the
// server hands out one turn fewer than it has cores, first come first
// served, so sessions playing at full speed share the cores fairly and a
// core stays free for learners who are stepping. Steps big enough to be
// run-mode work (an epoch of a large lesson) are taken in pieces
// (engine.Trainer.StepLimited), one turn per piece, and so are Back's
// replays (engine.Trainer.BackLimited). Between pieces a driver's Pause or
// other command that changes the training interrupts them (interrupt.go):
// a big step stops where it got to, a Back is given up
// (engine.Trainer.CancelBack).
//
// # Rooms
//
// Classroom rooms fit on top without changing this code: a room is a session
// with one driving viewer (the presenter) and any number of followers
// attached with session.attach and role follower. Frames a command causes go
// to every viewer (broadcast); done and error go only to the viewer that sent
// the command; followers' commands that would change the session are refused
// with not_presenter. A room keeps its session alive while no presenter is
// connected by setting session.orphanTTL.
package server
