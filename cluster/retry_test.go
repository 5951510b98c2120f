package cluster

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRetryWaitsLongerEachTry: a creation whose answer is lost is tried
// again after a second, and each later try waits twice as long as the one
// before, up to lastAttemptWait; the first success ends it.
func TestRetryWaitsLongerEachTry(t *testing.T) {
	var waits []time.Duration
	lost := errors.New("no answer")
	err := retry(context.Background(), func(ctx context.Context) error {
		d, ok := ctx.Deadline()
		if !ok {
			t.Fatal("a try has no deadline")
		}
		waits = append(waits, time.Until(d))
		return lost
	})
	if !errors.Is(err, lost) {
		t.Errorf("retry returned %v, want the last try's error", err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if len(waits) != len(want) {
		t.Fatalf("%d tries, want %d", len(waits), len(want))
	}
	for i, w := range waits {
		if w > want[i] || w < want[i]-time.Second/2 {
			t.Errorf("try %d waited up to %v, want %v", i+1, w, want[i])
		}
	}
	tries := 0
	if err := retry(context.Background(), func(context.Context) error {
		if tries++; tries == 2 {
			return nil
		}
		return lost
	}); err != nil || tries != 2 {
		t.Errorf("a second try that succeeds: %v after %d tries, want nil after 2", err, tries)
	}
}
