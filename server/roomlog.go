package server

// Rooms that outlive their instance. When NATS keeps data beyond this
// process (an embedded node on disk, or --nats), the instance serving a
// room holds a fenced claim on it (cluster.Owners) and keeps the room in
// the bucket netstep-room-data:
//
//	own.room.CODE   the owner record: which instance serves the room, a lease it renews
//	room.CODE       the room's snapshot: lesson, engine snapshot, view, the log entry it covers
//	rlog.CODE.N     log entry N mod roomLogSlots: [N, 8 bytes][engine command log]
//	rpoll.CODE      the class's open question and its votes, while one is open
//	lesson.SHA256   a lesson's JSON, once per distinct lesson
//
// Durable before broadcast: every change to the room's trainer (the
// engine's command log: steps, Play's steps, Back, edits) is written to the
// log, acknowledged by JetStream and conditioned on the claim, before any
// frame showing it leaves the owner, to its own viewers or to the other
// instances; a new lesson is written as a snapshot first. A snapshot
// follows each command (and about every second of Play), so a rebuild
// replays at most a few entries.
//
// Takeover: an instance asked for a room it does not serve looks up its
// holder. Nobody (released by a draining instance, or its lease ran out):
// it claims the room. A holder that NATS has no subscriber for (its process
// is gone): it takes the claim over with a compare-and-set at the record it
// read. Either way it rebuilds the trainer from the snapshot and the log
// entries after it and serves the room under a new term; the other
// instances' followers resync to the new term's frames. An old owner that
// is cut off but alive is fenced: its next write is refused, and it stops
// serving the room (its pages reconnect, to the new owner).
//
// Drain: on shutdown an instance writes its rooms' snapshots, releases
// them and says so on each room's subject; an instance with followers of
// the room claims it at once, and the presenter's page, reconnecting,
// reaches whichever instance holds it. See docs/scaling.md.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/engine"
)

const (
	roomDataBucket = "netstep-room-data"
	roomDataKeep   = 24 * time.Hour   // a room's data nobody writes for this long goes
	roomLease      = 10 * time.Second // a dead owner that is not noticed otherwise loses its rooms after this
	roomRenew      = roomLease / 3
	roomLogSlots   = 64 // log entries kept between two snapshots, at most
	roomSnapEvery  = 32 // log entries after which a command's save writes a snapshot
	roomSnapAfter  = 2 * time.Second
	aliveWait      = time.Second
	ownerCheck     = 2 * time.Second // how often an instance with followers of a room elsewhere checks its owner answers
	ownerSettle    = 2 * time.Second // how long a request waits for a room's new owner to subscribe
)

// roomStore is the bucket of rooms' claims, snapshots and logs.
type roomStore struct {
	owners *cluster.Owners
	kv     jetstream.KeyValue
}

func newRoomStore(c *cluster.Conn) (*roomStore, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := c.Owners(ctx, roomDataBucket, roomDataKeep, roomLease)
	if err != nil {
		return nil, fmt.Errorf("%w: the room data bucket: %w", ErrCluster, err)
	}
	return &roomStore{owners: o, kv: o.KV()}, nil
}

func claimName(code string) string { return "room." + code }
func snapKey(code string) string   { return "room." + code }

func pollKey(code string) string { return "rpoll." + code }

func logKey(code string, op uint64) string {
	return "rlog." + code + "." + strconv.FormatUint(op%roomLogSlots, 10)
}

// get reads key's value from the stream's leader (a replica's copy may lag
// the last acknowledged write, which a takeover must not miss).
func (st *roomStore) get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := st.owners.Get(ctx, key)
	return v, err
}

// roomRecord is a room's snapshot as the bucket holds it.
type roomRecord struct {
	saved
	Op    uint64     `json:"op"`              // the last log entry the snapshot includes
	Run   *savedPlay `json:"run,omitempty"`   // Play was on: it resumes when the presenter is back
	Asked int        `json:"asked,omitempty"` // the class's questions asked so far
}

// savedPoll is a room's open question as the bucket holds it: a takeover
// or a restart reopens it with the votes cast so far, which count again
// as their followers' seats come back (on any instance). Its number of
// choices follows from the question and the room's lesson.
type savedPoll struct {
	ID     int             `json:"id"`
	Index  int             `json:"index"`
	Q      engine.Question `json:"q"`
	Votes  map[string]int  `json:"votes"`
	Closed bool            `json:"closed,omitempty"`
}

// saveQuestion writes the room's open question and its votes if they
// changed since they were last written (session goroutine). It runs with
// each tally, so at most every tallyInterval however many vote.
func (s *session) saveQuestion() {
	rm := s.room
	p := rm.poll
	if p == nil || p.saved {
		return
	}
	b, _ := json.Marshal(savedPoll{ID: p.id, Index: p.index, Q: p.q, Votes: p.votes, Closed: p.closed})
	p.saved = s.writeRoomKey(pollKey(rm.code), b, "saving the class's question")
}

// forgetQuestion deletes the record of a question that has closed.
func (s *session) forgetQuestion() {
	s.writeRoomKey(pollKey(s.room.code), nil, "deleting the class's closed question")
}

// writeRoomKey writes value at key in the room's bucket under the room's
// claim, or deletes key when value is nil, and reports whether it did. A
// lost claim stops serving the room here.
func (s *session) writeRoomKey(key string, value []byte, what string) bool {
	rl := s.room.relay
	if rl == nil || rl.claim == nil || rl.moved {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	var err error
	if value != nil {
		_, err = rl.claim.Put(ctx, key, value)
	} else {
		err = rl.claim.Delete(ctx, key)
	}
	switch {
	case errors.Is(err, cluster.ErrLost):
		s.roomMoved()
	case err != nil:
		s.log.Warn(what, "room", s.room.code, "err", err)
	}
	return err == nil
}

// loadQuestion reads a room's open question, if it had one, as the poll
// it reopens with (the room's lesson is l): its votes are counted as their
// seats come back.
func (st *roomStore) loadQuestion(ctx context.Context, code string, l *engine.Lesson) (*poll, error) {
	b, err := st.get(ctx, pollKey(code))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sp savedPoll
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, fmt.Errorf("room %s: its question: %w", code, err)
	}
	if sp.ID < 1 || sp.Index >= len(l.Questions) {
		return nil, fmt.Errorf("room %s: its question: number %d, the lesson's question %d of %d", code, sp.ID, sp.Index, len(l.Questions))
	}
	n := choiceCount(sp.Q, l)
	p := &poll{id: sp.ID, index: sp.Index, q: sp.Q, choices: n, votes: map[string]int{}, counts: make([]int, n), closed: sp.Closed, saved: true}
	for seat, c := range sp.Votes {
		if seatOK(seat) && c >= 0 && c < n {
			p.votes[seat] = c
		}
	}
	return p, nil
}

// savedPlay is a Play the room was running.
type savedPlay struct {
	G   string  `json:"g"`
	SPS float64 `json:"sps"`
}

// load rebuilds a room's trainer: its snapshot, then every log entry after
// it. The record's Op is the last entry applied.
func (st *roomStore) load(ctx context.Context, code string) (*roomRecord, *engine.Trainer, error) {
	b, err := st.get(ctx, snapKey(code))
	if err != nil {
		return nil, nil, fmt.Errorf("room %s: its snapshot: %w", code, err)
	}
	var rec roomRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, nil, fmt.Errorf("room %s: its snapshot: %w", code, err)
	}
	doc, err := st.get(ctx, rec.Lesson)
	if err != nil {
		return nil, nil, fmt.Errorf("room %s: its lesson %s: %w", code, rec.Lesson, err)
	}
	l, err := engine.ParseLesson(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("room %s: its lesson: %w", code, err)
	}
	tr, err := engine.Restore(l, rec.Snap)
	if err != nil {
		return nil, nil, fmt.Errorf("room %s: %w", code, err)
	}
	for {
		e, err := st.get(ctx, logKey(code, rec.Op+1))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("room %s: log entry %d: %w", code, rec.Op+1, err)
		}
		if len(e) < 8 || binary.BigEndian.Uint64(e) != rec.Op+1 {
			break // an older entry in the slot: the log ends here
		}
		cmds, err := engine.ParseCommands(e[8:])
		if err != nil {
			return nil, nil, fmt.Errorf("room %s: log entry %d: %w", code, rec.Op+1, err)
		}
		if err := tr.Apply(cmds...); err != nil {
			return nil, nil, fmt.Errorf("room %s: log entry %d: %w", code, rec.Op+1, err)
		}
		rec.Op++
	}
	return &rec, tr, nil
}

// durable writes what changed in the room's trainer since the last write
// to the room's log, before frames showing it go out (session goroutine).
// It reports false once this instance no longer serves the room: nothing
// may go out. If NATS does not answer, the frames go out all the same
// (a class is not stopped by its NATS), and the next write is a snapshot.
func (s *session) durable() bool {
	if s.room == nil || s.room.relay == nil {
		return true
	}
	rl := s.room.relay
	if rl.moved {
		return false
	}
	if rl.claim == nil || s.tr == nil {
		return true
	}
	if s.tr != rl.logged || rl.needSnap || rl.op+1-rl.snapOp >= roomLogSlots {
		return s.snapRoom()
	}
	cmds := s.tr.TakeLog()
	if len(cmds) == 0 {
		return true
	}
	entry := binary.BigEndian.AppendUint64(make([]byte, 0, 64), rl.op+1)
	entry = engine.AppendCommands(entry, cmds)
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	t0 := time.Now()
	_, err := rl.claim.Put(ctx, logKey(s.room.code, rl.op+1), entry)
	s.srv.metrics.logWrite.Observe(time.Since(t0).Seconds())
	switch {
	case errors.Is(err, cluster.ErrLost):
		s.roomMoved()
		return false
	case err != nil:
		s.log.Warn("room log: not written; the next write is a snapshot", "room", s.room.code, "err", err)
		rl.needSnap = true
		return true
	}
	rl.op++
	return true
}

// saveRoom runs after each command that changed the room, and about every
// second of Play (session goroutine): the log has every change already, so
// a snapshot is written only when the log has grown (roomSnapEvery
// entries, or roomSnapAfter since the last), or the presenter's view (not
// in the log) changed. A rebuild thus replays a few entries at most.
func (s *session) saveRoom() {
	rl := s.room.relay
	if rl == nil || rl.claim == nil || !s.durable() {
		return
	}
	if rl.op-rl.snapOp >= roomSnapEvery || rl.op > rl.snapOp && time.Since(rl.snapAt) >= roomSnapAfter || !bytes.Equal(rl.view, s.room.viewJSON) {
		s.snapRoom()
	}
}

// snapRoom writes the room's snapshot, which includes every change so far
// (session goroutine); false once this instance no longer serves the room.
func (s *session) snapRoom() bool {
	rm, rl := s.room, s.room.relay
	if rl == nil {
		return true
	}
	if rl.claim == nil || s.tr == nil {
		return !rl.moved
	}
	if s.tr != rl.logged {
		s.tr.Record(true)
		rl.logged = s.tr
	}
	s.tr.TakeLog() // the snapshot holds these
	rl.needSnap = true
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	if l := s.tr.Lesson(); l != rl.lesson {
		doc, err := l.JSON()
		if err != nil {
			s.log.Warn("saving a room: its lesson", "room", rm.code, "err", err)
			return true
		}
		h := sha256.Sum256(doc)
		key := "lesson." + hex.EncodeToString(h[:])
		if _, err := rl.store.kv.Create(ctx, key, doc); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			s.log.Warn("saving a room: its lesson", "room", rm.code, "err", err)
			return true
		}
		rl.lesson, rl.lessonKey = l, key
	}
	rec := roomRecord{Op: rl.op}
	rec.ID, rec.Lesson, rec.Snap = s.id, rl.lessonKey, s.tr.Snapshot()
	if s.startFor == s.tr {
		rec.Start = &savedLoss{Train: s.startLoss.TrainLoss, Test: s.startLoss.TestLoss, HasTest: s.startLoss.HasTest}
	}
	rec.Room, rec.Token, rec.Name, rec.Math, rec.Gran = rm.code, hex.EncodeToString(rm.tokenHash[:]), rm.lesson, rm.math, rm.gran
	rec.Asked = rm.asked
	if r := s.run; r.on {
		rec.Run = &savedPlay{G: r.g.String(), SPS: r.sps}
	} else if r := s.suspended; r.on {
		rec.Run = &savedPlay{G: r.g.String(), SPS: r.sps}
	}
	b, _ := json.Marshal(rec)
	_, err := rl.claim.Put(ctx, snapKey(rm.code), b)
	switch {
	case errors.Is(err, cluster.ErrLost):
		s.roomMoved()
		return false
	case err != nil:
		s.log.Warn("saving a room", "room", rm.code, "err", err)
		return true
	}
	rl.snapOp, rl.needSnap, rl.snapAt, rl.view = rl.op, false, time.Now(), rm.viewJSON
	return true
}

// roomMoved stops serving a room another instance has taken over (session
// goroutine): no frame goes out any more, and every connection here closes
// with 1012, so that the pages reconnect and reach the new owner.
func (s *session) roomMoved() {
	rl := s.room.relay
	if rl.moved {
		return
	}
	rl.moved = true
	rl.stop()
	s.log.Warn("room taken over by another instance; its connections here close", "room", s.room.code)
	s.stopRun()
	s.stop(websocket.CloseServiceRestart, "this class moved to another server; reconnecting")
}

// handRoomOver gives the room up as its instance drains (session goroutine):
// the snapshot is written, the claim released and the release said on the
// room's subject, where an instance with followers of the room claims it.
func (s *session) handRoomOver() {
	rl := s.room.relay
	if rl == nil || rl.claim == nil || rl.moved {
		return
	}
	if s.run.on {
		s.suspended = suspendedRun{on: true, g: s.run.g, sps: s.run.sps}
		s.stopRun()
	}
	s.durable()
	if !s.snapRoom() {
		return
	}
	s.saveQuestion() // the votes since the last tally
	rl.moved = true
	rl.stop()
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	if err := rl.claim.Release(ctx); err != nil {
		s.log.Warn("handing a room over: releasing it", "room", s.room.code, "err", err)
	}
	rl.publishHandover()
	s.log.Info("room handed over", "room", s.room.code)
}

// unsaveRoom deletes a room that has ended for good and releases it.
func (s *session) unsaveRoom() {
	rl := s.room.relay
	if rl == nil || rl.claim == nil || rl.moved {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	if err := rl.claim.Delete(ctx, snapKey(s.room.code)); err != nil {
		s.log.Warn("deleting an ended room", "room", s.room.code, "err", err)
	}
	rl.claim.Delete(ctx, pollKey(s.room.code)) // an ended room's open question, if it had one
	rl.claim.Release(ctx)
}

// routeRoom decides who serves the room code, which no session here holds:
// remote (true) when its owner answers on another instance; the room, taken
// over here, when nobody holds it or its holder has gone; neither when it
// cannot tell now (NATS, or a holder that neither answers nor has gone:
// its lease settles it).
func (s *Server) routeRoom(code string) (*room, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	holder, rev, err := s.roomData.owners.Holder(ctx, claimName(code))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		rev = 0 // released, or its lease ran out
	case err != nil:
		s.log.Warn("room data: looking up a room's holder", "room", code, "err", err)
		return nil, false
	case holder == s.dir.c.Instance:
		// Claimed here a moment ago, or being given up.
		if rm := s.waitRoom(code); rm != nil {
			return rm, false
		}
		return nil, false
	default:
		_, err := s.dir.c.NC.Request(roomSubject(code, "alive"), nil, aliveWait)
		if err == nil {
			return nil, true
		}
		if !errors.Is(err, nats.ErrNoResponders) {
			return nil, false
		}
	}
	rm, err := s.takeOverRoom(code, rev)
	if errors.Is(err, cluster.ErrOwned) {
		return nil, true // another instance was faster
	}
	if err != nil {
		s.log.Warn("taking a room over", "room", code, "err", err)
		return nil, false
	}
	return rm, false
}

// waitRoom waits for a takeover of code in progress here, and returns the
// room if it is served here.
func (s *Server) waitRoom(code string) *room {
	s.mu.Lock()
	ch := s.taking[code]
	s.mu.Unlock()
	if ch != nil {
		<-ch
	}
	return s.lookupRoom(code)
}

// takeOverRoom claims the room code (rev 0: nobody holds it; otherwise the
// owner record of a holder that has gone), rebuilds it from its snapshot
// and log, and starts its session here. One takeover of a code at a time.
func (s *Server) takeOverRoom(code string, rev uint64) (*room, error) {
	s.mu.Lock()
	if rm := s.rooms[code]; rm != nil {
		s.mu.Unlock()
		return rm, nil
	}
	if ch := s.taking[code]; ch != nil {
		s.mu.Unlock()
		<-ch
		if rm := s.lookupRoom(code); rm != nil {
			return rm, nil
		}
		return nil, cluster.ErrOwned
	}
	ch := make(chan struct{})
	s.taking[code] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.taking, code)
		s.mu.Unlock()
		close(ch)
	}()

	// Answer for the room while it is rebuilt here, so that no other
	// instance takes it for gone meanwhile (its requests are retried).
	if sub, err := s.dir.c.NC.Subscribe(roomSubject(code, "alive"), func(m *nats.Msg) { m.Respond(nil) }); err == nil {
		defer sub.Unsubscribe()
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var claim *cluster.Claim
	var err error
	if rev == 0 {
		claim, err = s.roomData.owners.Claim(ctx, claimName(code))
	} else {
		claim, err = s.roomData.owners.TakeOver(ctx, claimName(code), rev)
	}
	if err != nil {
		return nil, err
	}
	rec, tr, err := s.roomData.load(ctx, code)
	if err != nil {
		claim.Release(ctx)
		return nil, err
	}
	rm, err := s.roomFromRecord(&rec.saved)
	if err != nil {
		claim.Release(ctx)
		return nil, err
	}
	rm.asked = rec.Asked
	// The class's open question, with the votes cast so far: a question
	// that cannot be read is lost, not the class.
	if p, err := s.roomData.loadQuestion(ctx, code, tr.Lesson()); err != nil {
		s.log.Warn("taking a room over: its open question", "room", code, "err", err)
	} else if p != nil {
		rm.poll, rm.asked = p, max(rm.asked, p.id)
	}
	var play suspendedRun // a Play resumes when the presenter is back
	if p := rec.Run; p != nil {
		if g, err := engine.ParseGranularity(p.G); err == nil && p.SPS >= 0 && p.SPS <= maxStepsPerSecond {
			play = suspendedRun{on: true, g: g, sps: p.SPS}
		}
	}
	if msg := s.reopenRoom(rm, &rec.saved, tr, claim, rec.Op, play); msg != "" {
		claim.Release(ctx)
		return nil, errors.New(msg)
	}
	s.metrics.takeovers.Inc()
	s.log.Info("room taken over", "room", code, "term", claim.Revision(), "entries", rec.Op, "ms", time.Since(t0).Milliseconds())
	return rm, nil
}

// roomFromRecord is the room a saved record describes, not yet started.
func (s *Server) roomFromRecord(rec *saved) (*room, error) {
	b, err := hex.DecodeString(rec.Token)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("room %s: its token hash is damaged", rec.Room)
	}
	rm := &room{code: rec.Room, lesson: rec.Name, math: rec.Math, gran: rec.Gran}
	copy(rm.tokenHash[:], b)
	return rm, nil
}

// restoreRooms brings back, at start, every room this instance's embedded
// node kept (nobody else can hold them: the node is this process's own).
func (s *Server) restoreRooms() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := s.roomData.kv.ListKeysFiltered(ctx, "room.*")
	if err != nil {
		s.log.Warn("restoring rooms: listing them", "err", err)
		return
	}
	for key := range keys.Keys() {
		code := key[len("room."):]
		_, rev, err := s.roomData.owners.Holder(ctx, claimName(code))
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.log.Warn("restoring a room", "room", code, "err", err)
			continue
		}
		if _, err := s.takeOverRoom(code, rev); err != nil {
			s.log.Warn("restoring a room", "room", code, "err", err)
			continue
		}
		s.log.Info("room restored", "room", code)
	}
}

// renewRooms renews the claims of the rooms served here; a room whose claim
// is lost stops being served here.
func (s *Server) renewRooms() {
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, rm := range s.rooms {
		if rm.relay != nil && rm.relay.claim != nil {
			rooms = append(rooms, rm)
		}
	}
	s.mu.Unlock()
	for _, rm := range rooms {
		ctx, cancel := context.WithTimeout(context.Background(), roomRenew)
		err := rm.relay.claim.Renew(ctx)
		cancel()
		if errors.Is(err, cluster.ErrLost) {
			go rm.sess.do(rm.sess.roomMoved)
		} else if err != nil {
			s.log.Warn("room data: renewing a room's claim", "room", rm.code, "err", err)
		}
	}
}

// requestOwner sends a request to a room's owner, and sends it again for up
// to ownerSettle while nobody answers: a room just taken over or handed
// over subscribes a moment after its claim.
func (s *Server) requestOwner(req *nats.Msg) (*nats.Msg, error) {
	deadline := time.Now().Add(ownerSettle)
	for {
		resp, err := s.dir.c.NC.RequestMsg(req, remoteWait)
		if !errors.Is(err, nats.ErrNoResponders) || time.Now().After(deadline) {
			return resp, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
