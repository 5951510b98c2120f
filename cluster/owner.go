package cluster

// Fenced ownership. Some things must be served by exactly one instance at a
// time (a learner's session, a room), yet must move to another instance
// when theirs stops or dies. An owner record says which instance holds a
// thing; it lives in the same JetStream key-value bucket as the thing's
// durable data, which is what lets every write of that data be conditioned
// on the record.
//
// The contract:
//
//   - Claim creates the owner record of a name only if it is absent
//     (JetStream's expected-last-subject-sequence 0). Of two instances
//     claiming at once, exactly one gets it; the other gets an *OwnedError
//     naming the holder (errors.Is(err, ErrOwned)).
//   - Every owner record is written with a per-message TTL, the lease. A
//     record nobody renews for a lease is removed by the NATS server itself
//     (its clock alone: instances' clocks never matter). A stale record is
//     thus an absent one, and Claim takes it over with a compare-and-set at
//     the revision it read (the delete marker's).
//   - Renew rewrites the record at the revision this claim holds. If
//     anything else wrote it meanwhile (a newer owner after the lease ran
//     out, a revocation), the revision does not match and the claim is
//     lost for good: ErrLost, and Lost() is closed.
//   - Put and Delete write the owned thing's data in the same bucket,
//     each conditioned on the owner record's last revision still being
//     this claim's (JetStream's Nats-Expected-Last-Subject-Sequence-Subject
//     header, checked atomically by the stream). A cut-off old owner's
//     write is refused by the server, even if that owner never noticed it
//     was cut off: that is the fence. A refused write also loses the claim.
//   - Held reports false once the claim is lost or its last successful
//     renewal began more than a lease ago (measured on this instance's
//     monotonic clock from before the renewal was sent, so it errs on the
//     side of stopping early). A thing that must never be served twice is
//     served only while Held; fencing covers the window in which its old
//     owner does not know yet. (A learner's session is served on through
//     a NATS outage: only its saves need the claim.)
//   - Release deletes the record at this claim's revision, so another
//     instance may claim the name at once (a handover, a drain).
//
// Timing: a dead owner's things are claimable at most a lease (plus the
// server's expiry tick, about a second) after its last renewal; renewing
// every lease/3 keeps a live owner's record through two missed renewals.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrOwned is what Claim's error matches when another instance holds the
// name.
var ErrOwned = errors.New("owned by another instance")

// ErrLost is returned by a claim's writes once it is no longer the current
// owner of its name: another instance took it over, or it was released.
var ErrLost = errors.New("ownership lost")

// OwnedError says which instance holds a name this instance tried to claim.
type OwnedError struct {
	Name     string
	Holder   string // the holding instance's Instance
	Revision uint64 // the owner record's revision
}

func (e *OwnedError) Error() string {
	return fmt.Sprintf("cluster: %s is %s %s", e.Name, ErrOwned, e.Holder)
}

// Is makes errors.Is(err, ErrOwned) true.
func (e *OwnedError) Is(target error) bool { return target == ErrOwned }

// Owners is a key-value bucket whose things are owned: owner records under
// "own.NAME" beside the things' data, written as the file's comment says.
type Owners struct {
	kv       jetstream.KeyValue
	js       jetstream.JetStream
	stream   string // the bucket's stream, whose leader answers reads of records
	prefix   string // "$KV.BUCKET."
	lease    time.Duration
	instance string
}

// MinLease is the shortest lease: NATS counts message TTLs in whole
// seconds.
const MinLease = time.Second

// Owners opens (or creates, or brings up to date) the bucket name for owned
// things: keys not written for keep are dropped (0 keeps them), and owner
// records live for lease after their last renewal.
func (c *Conn) Owners(ctx context.Context, name string, keep, lease time.Duration) (*Owners, error) {
	if lease < MinLease {
		return nil, fmt.Errorf("cluster: bucket %s: a lease of %v is under the %v NATS can expire", name, lease, MinLease)
	}
	// LimitMarkerTTL lets records carry their own TTL.
	kv, err := c.bucket(ctx, jetstream.KeyValueConfig{Bucket: name, TTL: keep, LimitMarkerTTL: lease})
	if err != nil {
		return nil, err
	}
	return &Owners{kv: kv, js: c.JS, stream: "KV_" + name, prefix: "$KV." + name + ".", lease: lease, instance: c.Instance}, nil
}

// KV is the bucket, for reading the owned things' data (writes go through
// a Claim).
func (o *Owners) KV() jetstream.KeyValue { return o.kv }

// Lease is how long an owner record outlives its last renewal.
func (o *Owners) Lease() time.Duration { return o.lease }

func ownerKey(name string) string { return "own." + name }

// Holder reads who owns name: the instance and the record's revision, or
// jetstream.ErrKeyNotFound when nobody does (never claimed, released, or
// its owner stopped renewing for a lease).
func (o *Owners) Holder(ctx context.Context, name string) (string, uint64, error) {
	holder, rev, err := o.record(ctx, ownerKey(name))
	if err == nil && holder == "" {
		err = jetstream.ErrKeyNotFound
	}
	return holder, rev, err
}

// record reads the last message of an owner record: the holder and its
// revision; "" and the revision of a release's or an expiry's marker; ""
// and 0 if the key has no message.
func (o *Owners) record(ctx context.Context, key string) (string, uint64, error) {
	m, err := o.lastFromLeader(ctx, o.prefix+key)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	if m.Header.Get("KV-Operation") != "" || m.Header.Get(jetstream.MarkerReasonHeader) != "" {
		return "", m.Sequence, nil
	}
	return string(m.Data), m.Sequence, nil
}

// Get reads key's value and revision in the bucket from the stream's
// leader: jetstream.ErrKeyNotFound if it has none or was deleted. Read
// owned data with it, not with KV().Get, when what it holds decides what
// happens next (a takeover resuming from the last save).
func (o *Owners) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	m, err := o.lastFromLeader(ctx, o.prefix+key)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, 0, jetstream.ErrKeyNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" || m.Header.Get(jetstream.MarkerReasonHeader) != "" {
		return nil, 0, jetstream.ErrKeyNotFound
	}
	return m.Data, m.Sequence, nil
}

// lastFromLeader reads the last message on subject from the stream's
// leader. A key-value bucket's own reads are "direct": any replica answers,
// and one that has not yet applied the latest write answers with the
// record before it. An owner record read that way could name no holder
// moments after a claim won (three instances claiming at once on a 3-node
// cluster were told "(unknown)"), and a takeover could resume from the
// save before the last, so owner records and owned data are read where
// writes are decided.
func (o *Owners) lastFromLeader(ctx context.Context, subject string) (*jetstream.RawStreamMsg, error) {
	req, _ := json.Marshal(struct {
		LastFor string `json:"last_by_subj"`
	}{subject})
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second) // JetStream's own default for a request
		defer cancel()
	}
	prefix := o.js.Options().APIPrefix
	if prefix == "" {
		prefix = jetstream.DefaultAPIPrefix
	}
	resp, err := o.js.Conn().RequestWithContext(ctx, prefix+"STREAM.MSG.GET."+o.stream, req)
	if err != nil {
		return nil, err
	}
	var r struct {
		Error   *jetstream.APIError `json:"error"`
		Message *struct {
			Subject  string `json:"subject"`
			Sequence uint64 `json:"seq"`
			Header   []byte `json:"hdrs"`
			Data     []byte `json:"data"`
		} `json:"message"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", subject, err)
	}
	switch {
	case r.Error != nil && r.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, jetstream.ErrMsgNotFound
	case r.Error != nil:
		return nil, r.Error
	case r.Message == nil:
		return nil, jetstream.ErrInvalidJetStreamResponse
	}
	m := &jetstream.RawStreamMsg{Subject: r.Message.Subject, Sequence: r.Message.Sequence, Data: r.Message.Data}
	if len(r.Message.Header) > 0 {
		if m.Header, err = nats.DecodeHeadersMsg(r.Message.Header); err != nil {
			return nil, fmt.Errorf("reading %s: %w", subject, err)
		}
	}
	return m, nil
}

// Claim makes this instance the owner of name if nobody holds it (never
// claimed, released, or stale past its lease). If another instance holds
// it, the error is an *OwnedError.
func (o *Owners) Claim(ctx context.Context, name string) (*Claim, error) {
	key := ownerKey(name)
	for range 3 {
		// A live record is not claimable; a key with no message is claimed
		// at revision 0, a released or expired one at its marker's.
		holder, expect, err := o.record(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("cluster: claiming %s: %w", name, err)
		}
		if holder != "" {
			return nil, &OwnedError{Name: name, Holder: holder, Revision: expect}
		}
		start := time.Now()
		rev, err := o.write(ctx, key, expect)
		if isWrongSeq(err) {
			continue // someone wrote meanwhile: look again
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: claiming %s: %w", name, err)
		}
		return &Claim{o: o, name: name, subject: o.prefix + key, rev: rev, renewed: start, lost: make(chan struct{})}, nil
	}
	return nil, o.owned(ctx, name)
}

// owned is the error for a claim that lost a race: who won, if it can tell.
func (o *Owners) owned(ctx context.Context, name string) error {
	holder, rev, err := o.Holder(ctx, name)
	if err != nil {
		return &OwnedError{Name: name, Holder: "(unknown)"}
	}
	return &OwnedError{Name: name, Holder: holder, Revision: rev}
}

// write puts this instance's owner record at key, expecting the key's last
// revision to be rev (0: no message at all), with the lease as its TTL.
func (o *Owners) write(ctx context.Context, key string, rev uint64) (uint64, error) {
	m := &nats.Msg{Subject: o.prefix + key, Header: nats.Header{}, Data: []byte(o.instance)}
	return o.publish(ctx, m, jetstream.WithExpectLastSequencePerSubject(rev), jetstream.WithMsgTTL(o.lease))
}

// busyWait is the first pause before a write refused as busy is sent
// again; each later pause is twice as long, up to busyWaitMax.
const (
	busyWait    = time.Millisecond
	busyWaitMax = 100 * time.Millisecond
)

// publish sends a conditioned write and returns its sequence, sending it
// again while the stream answers that it cannot check the condition yet
// (isBusy), until ctx ends.
func (o *Owners) publish(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (uint64, error) {
	wait := busyWait
	for {
		ack, err := o.js.PublishMsg(ctx, m, opts...)
		if err == nil {
			return ack.Sequence, nil
		}
		if !isBusy(err) {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, err
		case <-time.After(wait):
		}
		wait = min(2*wait, busyWaitMax)
	}
}

// isWrongSeq reports whether err is JetStream refusing a write because the
// subject's last sequence is not the one expected (10071): another write
// came first.
func isWrongSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// isBusy reports whether err is a replicated stream's leader refusing a
// conditioned write because an earlier write on the same subject is still
// in process (10164, "wrong last sequence" with no number). The leader
// acknowledges a write a moment before it forgets the write was in
// process, so an owner writing as soon as its last write was acknowledged
// meets this. It says nothing about the sequence: the write is sent
// again. Taking it for a mismatch lost live claims and moved classes in
// the middle of a lesson.
func isBusy(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// Claim is this instance's ownership of one name. Its methods are safe for
// concurrent use; they are serialised, so a renewal never races a write.
type Claim struct {
	o       *Owners
	name    string
	subject string // the owner record's subject

	mu      sync.Mutex
	rev     uint64    // the owner record's revision this claim wrote
	renewed time.Time // when the last successful renewal was sent
	gone    bool      // lost or released
	lost    chan struct{}
}

// Name is what the claim owns.
func (c *Claim) Name() string { return c.name }

// Revision is the owner record's revision this claim holds: the fencing
// token its writes are conditioned on.
func (c *Claim) Revision() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rev
}

// Lost is closed when the claim is found lost (a renewal or a write
// refused) or released.
func (c *Claim) Lost() <-chan struct{} { return c.lost }

// Held reports whether this instance may still serve the owned thing: not
// lost, and renewed less than a lease ago.
func (c *Claim) Held() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.gone && time.Since(c.renewed) < c.o.lease
}

// loseLocked marks the claim lost; c.mu is held.
func (c *Claim) loseLocked() {
	if !c.gone {
		c.gone = true
		close(c.lost)
	}
}

// Renew rewrites the owner record at this claim's revision, for another
// lease. ErrLost if it is no longer this claim's; another error (NATS
// unreachable) leaves the claim as it was, and Held turns false once a
// lease has passed without a renewal.
func (c *Claim) Renew(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return ErrLost
	}
	start := time.Now()
	rev, err := c.o.write(ctx, ownerKey(c.name), c.rev)
	if isWrongSeq(err) {
		c.loseLocked()
		return fmt.Errorf("cluster: renewing %s: %w", c.name, ErrLost)
	}
	if err != nil {
		return fmt.Errorf("cluster: renewing %s: %w", c.name, err)
	}
	c.rev, c.renewed = rev, start
	return nil
}

// Put writes value at key in the bucket if this claim is still the owner
// of its name, and returns the key's new revision. ErrLost if it is not.
func (c *Claim) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	return c.fenced(ctx, &nats.Msg{Subject: c.o.prefix + key, Header: nats.Header{}, Data: value})
}

// Delete deletes key from the bucket if this claim is still the owner of
// its name. ErrLost if it is not.
func (c *Claim) Delete(ctx context.Context, key string) error {
	_, err := c.fenced(ctx, deletion(c.o.prefix+key))
	return err
}

// deletion is the message jetstream.KeyValue.Delete writes for subject.
func deletion(subject string) *nats.Msg {
	m := &nats.Msg{Subject: subject, Header: nats.Header{}}
	m.Header.Set("KV-Operation", "DEL")
	return m
}

func (c *Claim) fenced(ctx context.Context, m *nats.Msg) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return 0, ErrLost
	}
	seq, err := c.o.publish(ctx, m, jetstream.WithExpectLastSequenceForSubject(c.rev, c.subject))
	if isWrongSeq(err) {
		c.loseLocked()
		return 0, fmt.Errorf("cluster: writing %s: %w", c.name, ErrLost)
	}
	if err != nil {
		return 0, fmt.Errorf("cluster: writing %s: %w", c.name, err)
	}
	return seq, nil
}

// Release gives the name up: its owner record is deleted at this claim's
// revision, so another instance can claim it at once. Releasing a lost
// claim does nothing.
func (c *Claim) Release(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return nil
	}
	c.loseLocked()
	_, err := c.o.publish(ctx, deletion(c.subject), jetstream.WithExpectLastSequencePerSubject(c.rev))
	if err != nil && !isWrongSeq(err) {
		return fmt.Errorf("cluster: releasing %s: %w", c.name, err)
	}
	return nil
}
