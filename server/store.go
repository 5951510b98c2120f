package server

// Keeping classes across a restart. With an embedded NATS node storing on
// disk (serve's default), every session with a lesson is written to a
// JetStream key-value bucket after each command that changed it (and about
// once a second while it plays): the engine's versioned snapshot (weights,
// optimizer state, position, Back history), the lesson it runs (stored once
// per distinct lesson) and, for a room, its code, presenter token hash and
// view. A restarted instance opens every saved room again under its code,
// so followers' and presenters' pages reconnect by themselves, and brings
// a learner's session back when the page resumes with its token. A session
// that ends for good (idle, expired, a room ended) is deleted; one that ends
// because the server stops is kept. See docs/scaling.md.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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
	kv jetstream.KeyValue
}

func newStore(c *cluster.Conn) (*store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := c.Bucket(ctx, sessionsBucket, savedTTL)
	if err != nil {
		return nil, fmt.Errorf("%w: the sessions bucket: %w", ErrCluster, err)
	}
	return &store{kv: kv}, nil
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

// save writes the session to the bucket (session goroutine).
func (s *session) save() {
	st := s.srv.store
	if st == nil || s.tr == nil {
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
	if rm := s.room; rm != nil {
		rec.Room, rec.Token, rec.Name, rec.Math, rec.Gran = rm.code, hex.EncodeToString(rm.tokenHash[:]), rm.lesson, rm.math, rm.gran
	}
	b, _ := json.Marshal(rec)
	if _, err := st.kv.Put(ctx, s.storeKey(), b); err != nil {
		s.log.Warn("saving a session", "err", err)
	}
}

// unsave deletes a session that has ended for good.
func (s *session) unsave() {
	if s.srv.store == nil || s.tr == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	if err := s.srv.store.kv.Delete(ctx, s.storeKey()); err != nil {
		s.log.Warn("deleting a saved session", "err", err)
	}
}

// load reads a saved session and rebuilds its trainer.
func (st *store) load(key string) (*saved, *engine.Trainer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	e, err := st.kv.Get(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	var rec saved
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", key, err)
	}
	le, err := st.kv.Get(ctx, rec.Lesson)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: its lesson %s: %w", key, rec.Lesson, err)
	}
	l, err := engine.ParseLesson(le.Value())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: its lesson: %w", key, err)
	}
	tr, err := engine.Restore(l, rec.Snap)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", key, err)
	}
	return &rec, tr, nil
}

// restoreRooms opens every saved room again under its code.
func (s *Server) restoreRooms() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := s.store.kv.ListKeysFiltered(ctx, "room.*")
	if err != nil {
		s.log.Warn("restoring rooms: listing them", "err", err)
		return
	}
	for key := range keys.Keys() {
		rec, tr, err := s.store.load(key)
		if err != nil {
			s.log.Warn("restoring a room", "err", err)
			continue
		}
		var th [32]byte
		if b, err := hex.DecodeString(rec.Token); err != nil || len(b) != len(th) {
			s.log.Warn("restoring a room: its token hash", "room", rec.Room)
			continue
		}
		hex.Decode(th[:], []byte(rec.Token))
		rm := &room{code: rec.Room, tokenHash: th, lesson: rec.Name, math: rec.Math, gran: rec.Gran}
		if msg := s.reopenRoom(rm, rec, tr); msg != "" {
			s.log.Warn("restoring a room", "room", rec.Room, "err", msg)
			continue
		}
		s.log.Info("room restored", "room", rm.code, "session", rec.ID, "lesson", rec.Name)
	}
}

// reopenRoom starts a saved room's session under its code.
func (s *Server) reopenRoom(rm *room, rec *saved, tr *engine.Trainer) string {
	if msg, ok := s.reserve(); !ok {
		return msg
	}
	sess := newSession(s, rec.ID, "")
	sess.restoreStart(rec, tr)
	tr.SetMemoryBudget(s.cfg.SessionMemory)
	sess.room, sess.tr = rm, tr
	sess.orphanTTL, sess.idleTTL = s.cfg.RoomTTL, s.cfg.RoomTTL
	rm.sess = sess
	if rm.math != nil || rm.gran != "" {
		rm.viewJSON = appendViewFrame(nil, rm.math, rm.gran)
	}
	if s.dir != nil {
		if err := s.dir.refresh(rm); err != nil {
			s.release()
			return err.Error()
		}
		if err := s.startRelay(rm); err != nil {
			s.release()
			return err.Error()
		}
	}
	s.mu.Lock()
	s.reserved--
	if s.closing || s.rooms[rm.code] != nil {
		s.mu.Unlock()
		return "closing, or the code is taken"
	}
	s.startRoomLocked(rm, sess)
	return ""
}

// revive brings back a learner's saved session for its resume token, or
// returns nil. It holds a place like reserve; the session starts running.
func (s *Server) revive(token string) *session {
	if s.store == nil || token == "" || len(token) > 64 || strings.ContainsAny(token, " \t") {
		return nil
	}
	rec, tr, err := s.store.load(tokenKey(token))
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.log.Warn("reviving a saved session", "err", err)
		}
		return nil
	}
	if _, ok := s.reserve(); !ok {
		return nil
	}
	sess := newSession(s, rec.ID, token)
	tr.SetMemoryBudget(s.cfg.SessionMemory)
	sess.tr = tr
	sess.restoreStart(rec, tr)
	sess.savedLessonKey = rec.Lesson
	sess.savedLesson = tr.Lesson()
	s.mu.Lock()
	s.reserved--
	h := sha256.Sum256([]byte(token))
	if other := s.byToken[h]; other != nil || s.closing {
		s.mu.Unlock()
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

// restoreStart gives a revived session the loss before training it saved.
func (s *session) restoreStart(rec *saved, tr *engine.Trainer) {
	if st := rec.Start; st != nil {
		s.startLoss, s.startFor = engine.EpochLoss{TrainLoss: st.Train, TestLoss: st.Test, HasTest: st.HasTest}, tr
	}
}
