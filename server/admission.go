package server

// Admission across instances: the caps that must hold for netstep as a
// whole, not for one process. Each instance publishes its own counts
// (sessions, rooms, rooms by client address) in the JetStream key-value
// bucket netstep-load under its instance name, and watches everyone
// else's. A cap is checked against this instance's own counts, exact and
// under its lock (places being taken count too), plus the others' latest
// published counts.
//
// How stale: an instance looks at its counts every loadPoll and publishes
// them when they changed (and every loadHeartbeat anyway); the others see
// them a few milliseconds later. So another instance's room or session is
// counted here within about loadPoll of its start; two instances admitting
// at the same moment can each take the last place, which takes a cap past
// its value by at most one per instance for each loadPoll window. An
// instance that stops publishing (it died) stops counting after loadTTL.
// See docs/scaling.md.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	loadBucket    = "netstep-load"
	loadPoll      = 200 * time.Millisecond // how often an instance looks whether its counts changed
	loadHeartbeat = 2 * time.Second        // unchanged counts are published again this often
	loadTTL       = 10 * time.Second       // counts not published again for this long are forgotten
)

// load is what an instance publishes about itself.
type load struct {
	Sessions int            `json:"sessions"`         // live sessions, rooms included, and places being taken
	Rooms    int            `json:"rooms"`            // open rooms, and rooms being opened
	ByAddr   map[string]int `json:"byAddr,omitempty"` // rooms by the key (addrKey) of the address that opened them
}

func (l load) equal(o load) bool {
	return l.Sessions == o.Sessions && l.Rooms == o.Rooms && maps.Equal(l.ByAddr, o.ByAddr)
}

// addrKey is how a client address appears in netstep-load: a hash, so that
// the bucket does not list addresses in the clear (it does not make them
// secret: IPv4 addresses are few enough to try them all).
func addrKey(addr string) string {
	h := sha256.Sum256([]byte("netstep-load " + addr))
	return hex.EncodeToString(h[:12])
}

// board is every other instance's latest load.
type board struct {
	self string
	kv   jetstream.KeyValue

	mu    sync.Mutex
	peers map[string]peerLoad
}

type peerLoad struct {
	load  load
	heard time.Time
}

// newBoard opens netstep-load and starts watching the other instances.
func (s *Server) newBoard() (*board, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := s.dir.c.Bucket(ctx, loadBucket, loadTTL)
	if err != nil {
		return nil, fmt.Errorf("%w: the load bucket: %w", ErrCluster, err)
	}
	b := &board{self: s.dir.c.Instance, kv: kv, peers: map[string]peerLoad{}}
	wctx, stop := context.WithCancel(context.Background()) // its end ends the watch's own goroutine
	w, err := kv.WatchAll(wctx)
	if err != nil {
		stop()
		return nil, fmt.Errorf("%w: watching the load bucket: %w", ErrCluster, err)
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		<-s.quit
		w.Stop()
		stop()
	}()
	go func() {
		defer s.wg.Done()
		for e := range w.Updates() {
			if e != nil {
				b.heard(e)
			}
		}
	}()
	return b, nil
}

// heard records an instance's published load.
func (b *board) heard(e jetstream.KeyValueEntry) {
	if e.Key() == b.self {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(b.peers, e.Key())
		return
	}
	var l load
	if json.Unmarshal(e.Value(), &l) != nil {
		return
	}
	// The time it was heard here, not written there: no clocks to agree.
	// An entry from before this instance started counts from its start.
	b.peers[e.Key()] = peerLoad{load: l, heard: time.Now()}
}

// others sums the other live instances' loads: sessions, rooms, and rooms
// opened from addr.
func (b *board) others(addr string) (sessions, rooms, byAddr int) {
	if b == nil {
		return 0, 0, 0
	}
	key := addrKey(addr)
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, p := range b.peers {
		if now.Sub(p.heard) > loadTTL {
			delete(b.peers, id)
			continue
		}
		sessions += p.load.Sessions
		rooms += p.load.Rooms
		byAddr += p.load.ByAddr[key]
	}
	return sessions, rooms, byAddr
}

// alive reports whether instance has published its load within loadTTL.
func (b *board) alive(instance string) bool {
	if b == nil || instance == b.self {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.peers[instance]
	return ok && time.Since(p.heard) <= loadTTL
}

// localLoad is this instance's load now. s.mu is held.
func (s *Server) localLoadLocked() load {
	l := load{Sessions: len(s.sessions) + s.reserved, Rooms: len(s.rooms)}
	add := func(addr string, n int) {
		if n <= 0 {
			return
		}
		if l.ByAddr == nil {
			l.ByAddr = map[string]int{}
		}
		l.ByAddr[addrKey(addr)] += n
	}
	for _, rm := range s.rooms {
		add(rm.creator, 1)
	}
	for addr, n := range s.opening {
		l.Rooms += n
		add(addr, n)
	}
	return l
}

// publishLoop publishes this instance's load when it changes, and every
// loadHeartbeat, until quit; then it deletes it.
func (s *Server) publishLoop() {
	defer s.wg.Done()
	t := time.NewTicker(loadPoll)
	defer t.Stop()
	var last load
	var at, swept time.Time
	for {
		select {
		case <-s.quit:
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			s.board.kv.Delete(ctx, s.board.self)
			cancel()
			return
		case <-t.C:
		}
		if time.Since(swept) >= loadHeartbeat {
			s.sweepStandIns()
			swept = time.Now()
		}
		s.mu.Lock()
		l := s.localLoadLocked()
		s.mu.Unlock()
		if l.equal(last) && time.Since(at) < loadHeartbeat {
			continue
		}
		data, _ := json.Marshal(l)
		ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
		_, err := s.board.kv.Put(ctx, s.board.self, data)
		cancel()
		if err != nil {
			s.log.Warn("load bucket: publishing this instance's counts", "err", err)
			continue
		}
		last, at = l, time.Now()
	}
}

// roomRefusalLocked says why addr may not open another room now, or "":
// MaxRooms and RoomsPerAddress, over every instance. s.mu is held.
func (s *Server) roomRefusalLocked(addr string) string {
	_, rooms, mine := s.board.others(addr)
	rooms += len(s.rooms)
	for a, n := range s.opening {
		rooms += n
		if a == addr {
			mine += n
		}
	}
	for _, rm := range s.rooms {
		if rm.creator == addr {
			mine++
		}
	}
	if rooms >= s.cfg.MaxRooms {
		return fmt.Sprintf("netstep is full: %d classroom rooms are open, the most it allows. Try again later.", s.cfg.MaxRooms)
	}
	if mine >= s.cfg.RoomsPerAddress {
		return fmt.Sprintf("Your address has %d classroom rooms open, the most one address may have. End one (or let it expire: a room nobody is in ends after %v) and try again.", mine, s.cfg.RoomEmptyTTL)
	}
	return ""
}

// sessionRefusalLocked says why no new session may start now, or "":
// MaxSessions on this instance, MaxClusterSessions over every instance.
// s.mu is held.
func (s *Server) sessionRefusalLocked() string {
	here := len(s.sessions) + s.reserved
	if here >= s.cfg.MaxSessions {
		return fmt.Sprintf("netstep is full: %d sessions are live, the most this server allows. Try again in a minute.", s.cfg.MaxSessions)
	}
	if s.cfg.MaxClusterSessions > 0 {
		if others, _, _ := s.board.others(""); here+others >= s.cfg.MaxClusterSessions {
			return fmt.Sprintf("netstep is full: %d sessions are live on its servers together, the most it allows. Try again in a minute.", s.cfg.MaxClusterSessions)
		}
	}
	return ""
}
