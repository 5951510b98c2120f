package server

// The room directory: with NATS (Config.Cluster), every open room has an
// entry in a JetStream key-value bucket under its code, created with a
// create-if-absent, so that two instances sharing NATS never hand out the
// same code. The instance whose session holds the room refreshes its
// entries while the room lives and deletes them when it ends; an entry
// whose instance died without deleting it expires. See docs/scaling.md.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netstep/netstep/cluster"
)

// ErrCluster marks the errors New returns because NATS did not answer (as
// opposed to a mistake in the Config).
var ErrCluster = errors.New("server: NATS")

const (
	roomsBucket     = "netstep-rooms"
	roomEntryTTL    = 5 * time.Minute // an entry nobody refreshes for this long goes
	roomRefresh     = time.Minute     // how often an instance refreshes its rooms' entries
	directoryWait   = 5 * time.Second // the longest a room's creation waits for NATS
	maxCodeAttempts = 8               // codes drawn before giving up (a clash is one in 729 million per open room)
)

// roomEntry is what the directory holds about a room.
type roomEntry struct {
	Owner  string `json:"owner"`  // the instance whose session holds the room
	Token  string `json:"token"`  // the presenter token's SHA-256, in hex
	Lesson string `json:"lesson"` // the lesson it opened with
}

// directory is the room directory in NATS.
type directory struct {
	c  *cluster.Conn
	kv jetstream.KeyValue
}

func newDirectory(c *cluster.Conn) (*directory, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := c.Bucket(ctx, roomsBucket, roomEntryTTL)
	if err != nil {
		return nil, fmt.Errorf("%w: the rooms bucket: %w", ErrCluster, err)
	}
	return &directory{c: c, kv: kv}, nil
}

func (d *directory) entry(rm *room) []byte {
	b, _ := json.Marshal(roomEntry{Owner: d.c.Instance, Token: hex.EncodeToString(rm.tokenHash[:]), Lesson: rm.lesson})
	return b
}

// claim creates code's entry for rm; false if another room has the code.
func (d *directory) claim(code string, rm *room) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	_, err := d.kv.Create(ctx, code, d.entry(rm))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	return err == nil, err
}

// lookup finds code's entry.
func (d *directory) lookup(code string) (roomEntry, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	var e roomEntry
	kve, err := d.kv.Get(ctx, code)
	if err != nil || json.Unmarshal(kve.Value(), &e) != nil {
		return e, false
	}
	return e, true
}

// refresh rewrites rm's entry, which keeps it from expiring.
func (d *directory) refresh(rm *room) error {
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	_, err := d.kv.Put(ctx, rm.code, d.entry(rm))
	return err
}

// release deletes code's entry: the code may be drawn again.
func (d *directory) release(code string) error {
	ctx, cancel := context.WithTimeout(context.Background(), directoryWait)
	defer cancel()
	return d.kv.Delete(ctx, code)
}

// refreshLoop keeps this instance's rooms in the directory until quit.
func (s *Server) refreshLoop(quit <-chan struct{}) {
	s.every(quit, roomRefresh, func() {
		s.mu.Lock()
		rooms := slices.Collect(maps.Values(s.rooms))
		s.mu.Unlock()
		for _, rm := range rooms {
			if err := s.dir.refresh(rm); err != nil {
				s.log.Warn("room directory: refreshing an entry", "room", rm.code, "err", err)
			}
		}
	})
}

// releaseCode takes an ended room out of the directory.
func (s *Server) releaseCode(code string) {
	defer s.wg.Done()
	if err := s.dir.release(code); err != nil {
		s.log.Warn("room directory: deleting an entry", "room", code, "err", err)
	}
}
