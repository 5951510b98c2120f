package cluster

import (
	"context"
	"fmt"
	"time"
)

// TakeOver makes this instance the owner of name in place of a holder that
// has stopped answering (its process is gone: NATS has no subscriber left
// for it), without waiting for its lease to run out. It is a
// compare-and-set at rev, the holder's owner record as last read: if the
// holder renewed since (it is alive after all), nothing is written and the
// error is an *OwnedError. A holder that is alive but cut off is fenced
// like any old owner: its next write is refused.
func (o *Owners) TakeOver(ctx context.Context, name string, rev uint64) (*Claim, error) {
	key := ownerKey(name)
	start := time.Now()
	got, err := o.write(ctx, key, rev)
	if isWrongSeq(err) {
		return nil, o.owned(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: taking over %s: %w", name, err)
	}
	return &Claim{o: o, name: name, subject: o.prefix + key, rev: got, renewed: start, lost: make(chan struct{})}, nil
}
