package server

// Keeping sessions across a restart, and moving them between instances.
// With a NATS that keeps what it is given (an embedded node on disk, serve's
// default, or an external NATS with --nats), every session with a lesson is
// written to a JetStream key-value bucket after each command that changed
// it (and about once a second while it plays): the engine's versioned
// snapshot (weights, optimizer state, position, Back history), the lesson
// it runs (stored once per distinct lesson) and, for a room, its code,
// presenter token hash and view.
//
// A learner's session is owned by one instance at a time
// (cluster.Owners): its instance claims it at the first save, renews the
// claim every third of Config.OwnerLease, and every save is fenced by the
// claim, so an instance that lost it can never overwrite the session. A
// resume token that reaches another instance moves the session there: the
// new instance asks the owner to hand it over (the owner saves, releases
// the claim and closes its side), or, when the owner is gone, waits until
// its claim runs out and takes it over from the last save. See
// docs/scaling.md.
//
// With an embedded node on disk, a restarted instance also opens every
// saved room again under its code. A session that ends for good (idle,
// expired, a room ended) is deleted; one that ends because the server
// stops is kept, and its claim released.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/engine"
)

const (
	sessionsBucket = "netstep-sessions"
	savedTTL       = 24 * time.Hour // a saved session nobody writes for this long goes
	saveEvery      = time.Second    // while playing, a session is saved this often
)

// saved is what the bucket holds about one session.
type saved struct {
	ID     string `json:"id"`
	Lesson string `json:"lesson"`         // the key of the lesson's JSON
	Snap   []byte `json:"snap"`           // engine.Trainer.Snapshot
	Room   string `json:"room,omitempty"` // a room's code
	Token  string `json:"token,omitempty"`
	Name   string `json:"name,omitempty"` // a room's lesson name
	Math   *bool  `json:"math,omitempty"` // a room's view
	Gran   string `json:"gran,omitempty"`
	// The loss before training, which state frames' losses begin with
	// (session.startLoss): it cannot be measured again once trained.
	Start *savedLoss `json:"start,omitempty"`
	// Play, if it was on (or waiting for its learner): it carries on
	// wherever the session comes back.
	Run *savedRun `json:"run,omitempty"`
}

// savedRun is a Play as the bucket holds it.
type savedRun struct {
	G   string  `json:"g"`
	SPS float64 `json:"sps"`
}

// savedLoss is an epoch-0 loss as the bucket holds it (engine.EpochLoss
// writes itself for the protocol, which leaves out HasTest).
type savedLoss struct {
	Train   float64 `json:"train"`
	Test    float64 `json:"test"`
	HasTest bool    `json:"hasTest"`
}

// store is the sessions bucket.
type store struct {
	kv     jetstream.KeyValue
	owners *cluster.Owners
	nc     *nats.Conn
	inst   string // this instance, as owner records name it
	// rooms says rooms are saved and restored too: only with an embedded
	// node, whose rooms no other instance could be serving.
	rooms bool
}

func newStore(c *cluster.Conn, lease time.Duration) (*store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ow, err := c.Owners(ctx, sessionsBucket, savedTTL, lease)
	if err != nil {
		return nil, fmt.Errorf("%w: the sessions bucket: %w", ErrCluster, err)
	}
	return &store{kv: ow.KV(), owners: ow, nc: c.NC, inst: c.Instance, rooms: c.Embedded()}, nil
}

func tokenKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return "sess." + hex.EncodeToString(h[:])
}

// storeKey is the session's key in the bucket: its room's code, or its
// resume token's hash.
func (s *session) storeKey() string {
	if s.room != nil {
		return "room." + s.room.code
	}
	return tokenKey(s.token)
}

// save writes the session to the bucket (session goroutine). A learner's
// session is written through its claim, taken at the first save: if the
// claim is lost (another instance took the session over), the write is
// refused and the session ends here.
func (s *session) save() {
	if s.room != nil {
		s.saveRoom() // rooms are kept with their claims (roomlog.go)
		return
	}
	st := s.srv.store
	if st == nil || s.tr == nil || s.room != nil && !st.rooms {
		return
	}
	s.lastSave = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	if l := s.tr.Lesson(); l != s.savedLesson {
		doc, err := l.JSON()
		if err != nil {
			s.log.Warn("saving a session: the lesson", "err", err)
			return
		}
		h := sha256.Sum256(doc)
		key := "lesson." + hex.EncodeToString(h[:])
		if _, err := st.kv.Create(ctx, key, doc); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			s.log.Warn("saving a session: the lesson", "err", err)
			return
		}
		s.savedLesson, s.savedLessonKey = l, key
	}
	rec := saved{ID: s.id, Lesson: s.savedLessonKey, Snap: s.tr.Snapshot()}
	if s.startFor == s.tr {
		rec.Start = &savedLoss{Train: s.startLoss.TrainLoss, Test: s.startLoss.TestLoss, HasTest: s.startLoss.HasTest}
	}
	switch {
	case s.run.on:
		rec.Run = &savedRun{G: s.run.g.String(), SPS: s.run.sps}
	case s.suspended.on:
		rec.Run = &savedRun{G: s.suspended.g.String(), SPS: s.suspended.sps}
	}
	if rm := s.room; rm != nil {
		rec.Room, rec.Token, rec.Name, rec.Math, rec.Gran = rm.code, hex.EncodeToString(rm.tokenHash[:]), rm.lesson, rm.math, rm.gran
	}
	b, _ := json.Marshal(rec)
	if s.room != nil {
		if _, err := st.kv.Put(ctx, s.storeKey(), b); err != nil {
			s.log.Warn("saving a session", "err", err)
		}
		return
	}
	c := s.claim.Load()
	if c == nil {
		var err error
		if c, err = st.owners.Claim(ctx, s.storeKey()); err != nil {
			s.log.Warn("saving a session: claiming it", "err", err)
			return
		}
		s.claim.Store(c)
	}
	for range 2 {
		rev, err := c.Put(ctx, s.storeKey(), b)
		switch {
		case errors.Is(err, cluster.ErrLost):
			if !s.claimLost(c) {
				return
			}
			c = s.claim.Load()
			continue // claimed again: write it
		case err != nil:
			s.log.Warn("saving a session", "err", err)
		default:
			s.savedRev = rev
		}
		return
	}
}

// claimLost handles a claim found lost (session goroutine): by a refused
// save, or by the renewal loop. If nobody else took the session (its claim
// ran out while NATS was unreachable, say) and nobody wrote it since this
// instance's last save, it claims it again and reports true; otherwise the
// session has moved and ends here, its learner's connection closed so that
// the page reconnects and finds it where it is now.
func (s *session) claimLost(c *cluster.Claim) bool {
	if s.claim.Load() != c {
		return false // already handled
	}
	st := s.srv.store
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	if _, rev, err := st.owners.Get(ctx, s.storeKey()); err == nil && rev == s.savedRev {
		if nc, err := st.owners.Claim(ctx, s.storeKey()); err == nil {
			if _, rev, err := st.owners.Get(ctx, s.storeKey()); err == nil && rev == s.savedRev {
				s.claim.Store(nc)
				s.log.Info("session claimed again after its claim ran out")
				return true
			}
			nc.Release(ctx)
		}
	}
	s.claim.Store(nil)
	s.log.Info("session moved to another instance")
	s.stop(websocket.CloseGoingAway, movedText)
	return false
}

// movedText is the close reason of a session that another instance took
// over: the page reconnects and resumes it there.
const movedText = "this session moved to another server"

// unsave deletes a session that has ended for good.
func (s *session) unsave() {
	if s.room != nil {
		s.unsaveRoom()
		return
	}
	st := s.srv.store
	if st == nil || s.tr == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	if s.room != nil {
		if err := st.kv.Delete(ctx, s.storeKey()); err != nil {
			s.log.Warn("deleting a saved session", "err", err)
		}
		return
	}
	c := s.claim.Load()
	if c == nil {
		return // never saved, or moved: not this instance's to delete
	}
	if err := c.Delete(ctx, s.storeKey()); err != nil && !errors.Is(err, cluster.ErrLost) {
		s.log.Warn("deleting a saved session", "err", err)
	}
	s.releaseClaim()
}

// releaseClaim gives up this instance's claim on the session, so that
// another instance can take it at once.
func (s *session) releaseClaim() {
	c := s.claim.Swap(nil)
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	if err := c.Release(ctx); err != nil {
		s.log.Warn("releasing a session's claim", "err", err)
	}
}

// load reads a saved session and rebuilds its trainer; it returns the
// record's revision too.
func (st *store) load(key string) (*saved, *engine.Trainer, uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	v, rev, err := st.owners.Get(ctx, key) // the last save, not a lagging replica's
	if err != nil {
		return nil, nil, 0, err
	}
	var rec saved
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", key, err)
	}
	le, err := st.kv.Get(ctx, rec.Lesson)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: its lesson %s: %w", key, rec.Lesson, err)
	}
	l, err := engine.ParseLesson(le.Value())
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: its lesson: %w", key, err)
	}
	tr, err := engine.Restore(l, rec.Snap)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", key, err)
	}
	return &rec, tr, rev, nil
}

// reopenRoom starts a saved room's session under its code, holding claim
// (roomlog.go), its log written up to entry op; play is a Play to resume
// when the presenter is back.
func (s *Server) reopenRoom(rm *room, rec *saved, tr *engine.Trainer, claim *cluster.Claim, op uint64, play suspendedRun) string {
	if msg, ok := s.reserve(); !ok {
		return msg
	}
	sess := newSession(s, rec.ID, "")
	sess.restoreStart(rec, tr)
	tr.SetMemoryBudget(s.cfg.SessionMemory)
	sess.room, sess.tr = rm, tr
	sess.orphanTTL, sess.idleTTL = s.cfg.RoomTTL, s.cfg.RoomTTL
	sess.suspended = play
	rm.sess = sess
	if rm.math != nil || rm.gran != "" {
		rm.viewJSON = appendViewFrame(nil, rm.math, rm.gran)
	}
	if s.dir != nil {
		if err := s.dir.refresh(rm); err != nil {
			s.release()
			return err.Error()
		}
		if err := s.startRelayWith(rm, claim, op); err != nil {
			s.release()
			return err.Error()
		}
		if claim != nil {
			// The new term's first frame, before anyone can attach: every
			// follower's state, whatever the old owner's last frames were.
			sess.sendState(nil, nil, "resync", true)
		}
	}
	s.mu.Lock()
	s.reserved--
	if s.closing || s.rooms[rm.code] != nil {
		s.mu.Unlock()
		if rm.relay != nil {
			rm.relay.stop()
		}
		return "closing, or the code is taken"
	}
	s.startRoomLocked(rm, sess)
	return ""
}

// revive brings back a learner's saved session for its resume token, or
// returns nil: from another instance that holds it (handed over), or from
// its last save (after a restart, or when its instance died). It holds a
// place like reserve; the session starts running.
func (s *Server) revive(token string) *session {
	st := s.store
	if st == nil || token == "" || len(token) > 64 || strings.ContainsAny(token, " \t") {
		return nil
	}
	key := tokenKey(token)
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	_, _, err := st.owners.Get(ctx, key)
	cancel()
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.log.Warn("reviving a saved session", "err", err)
		}
		return nil
	}
	claim, err := s.takeOver(key)
	if errors.Is(err, errRevivingHere) {
		return s.lookup(token)
	}
	if err != nil {
		s.log.Warn("reviving a saved session", "err", err)
		return nil
	}
	rec, tr, rev, err := st.load(key) // after the claim: nobody else writes it now
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.log.Warn("reviving a saved session", "err", err)
		}
		releaseNow(claim)
		return nil
	}
	if _, ok := s.reserve(); !ok {
		releaseNow(claim)
		return nil
	}
	sess := newSession(s, rec.ID, token)
	tr.SetMemoryBudget(s.cfg.SessionMemory)
	sess.tr = tr
	sess.restoreStart(rec, tr)
	sess.savedLessonKey = rec.Lesson
	sess.savedLesson = tr.Lesson()
	sess.claim.Store(claim)
	sess.savedRev = rev
	if r := rec.Run; r != nil {
		if g, err := engine.ParseGranularity(r.G); err == nil {
			sess.suspended = suspendedRun{on: true, g: g, sps: r.SPS} // Play carries on when the learner is back
		}
	}
	s.mu.Lock()
	s.reserved--
	h := sha256.Sum256([]byte(token))
	if other := s.byToken[h]; other != nil || s.closing {
		s.mu.Unlock()
		releaseNow(claim)
		return other // revived meanwhile by another connection
	}
	s.sessions[sess.id] = sess
	s.byToken[h] = sess
	s.wg.Add(1)
	s.mu.Unlock()
	s.metrics.sessions.Inc()
	s.metrics.started.Inc()
	s.log.Info("session revived", "session", rec.ID)
	go sess.loop()
	return sess
}

func releaseNow(c *cluster.Claim) {
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	c.Release(ctx)
}

// errRevivingHere: this very instance holds the claim (another connection
// with the same token revived the session a moment ago).
var errRevivingHere = errors.New("the session is being revived on this instance")

// handoverWait bounds how long a resume waits for the session's owner to
// answer a handover request.
const handoverWait = 5 * time.Second

// takeOver claims the session key for this instance. If another instance
// holds it, it asks that instance to hand it over; if that instance does
// not answer (it is gone), it waits for the claim to run out (a lease at
// most) and takes it over.
func (s *Server) takeOver(key string) (*cluster.Claim, error) {
	st := s.store
	ctx, cancel := context.WithTimeout(context.Background(), handoverWait+st.owners.Lease()+2*time.Second)
	defer cancel()
	asked := ""
	for {
		c, err := st.owners.Claim(ctx, key)
		var owned *cluster.OwnedError
		if !errors.As(err, &owned) {
			return c, err
		}
		if owned.Holder == st.inst {
			return nil, errRevivingHere
		}
		if asked != owned.Holder {
			asked = owned.Holder
			rctx, rcancel := context.WithTimeout(ctx, handoverWait)
			m, err := st.nc.RequestWithContext(rctx, handoverSubject(owned.Holder), []byte(key))
			rcancel()
			switch {
			case err == nil && string(m.Data) == "ok":
				s.log.Info("session handed over", "from", owned.Holder)
				continue // released: claim it now
			case errors.Is(err, nats.ErrNoResponders):
				s.log.Info("session's instance is gone; waiting for its claim to run out", "instance", owned.Holder)
			case err != nil:
				s.log.Warn("asking for a session's handover", "instance", owned.Holder, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("still held by %s: %w", owned.Holder, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func handoverSubject(instance string) string { return "netstep.inst." + instance + ".handover" }

// serveHandovers answers other instances' requests for this instance's
// learners' sessions: the session is saved, its claim released and its
// connections closed, then the answer is "ok" ("none" if it is not here).
func (s *Server) serveHandovers() error {
	st := s.store
	_, err := st.nc.Subscribe(handoverSubject(st.inst), func(m *nats.Msg) {
		go func() {
			var h [32]byte
			key := string(m.Data)
			hx, ok := strings.CutPrefix(key, "sess.")
			if n, err := hex.Decode(h[:], []byte(hx)); !ok || err != nil || n != len(h) || len(hx) != 2*len(h) {
				m.Respond([]byte("none"))
				return
			}
			s.mu.Lock()
			sess := s.byToken[h]
			s.mu.Unlock()
			if sess == nil || !sess.do(sess.handOver) {
				m.Respond([]byte("none"))
				return
			}
			m.Respond([]byte("ok"))
		}()
	})
	if err != nil {
		return fmt.Errorf("%w: handover requests: %w", ErrCluster, err)
	}
	return nil
}

// handOver gives the session to another instance (session goroutine): the
// latest position saved, the claim released, the learner's connection (if
// this instance still had it) closed with a reason.
func (s *session) handOver() {
	if s.run.on {
		s.suspended = suspendedRun{on: true, g: s.run.g, sps: s.run.sps}
		s.stopRun()
	}
	s.save()
	s.releaseClaim()
	s.stop(websocket.CloseGoingAway, movedText)
}

// renewLoop renews this instance's claims on its learners' sessions every
// third of the lease until quit. A claim found lost goes to its session.
func (s *Server) renewLoop(quit <-chan struct{}) {
	s.every(quit, s.store.owners.Lease()/3, func() {
		s.mu.Lock()
		sessions := slices.Collect(maps.Values(s.sessions))
		s.mu.Unlock()
		for _, sess := range sessions {
			c := sess.claim.Load()
			if c == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
			err := c.Renew(ctx)
			cancel()
			if errors.Is(err, cluster.ErrLost) {
				go sess.do(func() {
					if sess.claimLost(c) {
						sess.save()
					}
				})
			} else if err != nil {
				sess.log.Warn("renewing a session's claim", "err", err)
			}
		}
	})
}

// restoreStart gives a revived session the loss before training it saved.
func (s *session) restoreStart(rec *saved, tr *engine.Trainer) {
	if st := rec.Start; st != nil {
		s.startLoss, s.startFor = engine.EpochLoss{TrainLoss: st.Train, TestLoss: st.Test, HasTest: st.HasTest}, tr
	}
}
