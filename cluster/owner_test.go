package cluster_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/cluster/clustertest"
)

// ownersOn opens the bucket "owned" on n instances sharing one NATS (a
// single node, or a 3-node cluster with 3 replicas).
func ownersOn(t *testing.T, nodes int, n int, lease time.Duration) []*cluster.Owners {
	t.Helper()
	ctx := context.Background()
	o := cluster.Options{}
	if nodes == 1 {
		o.URL = clustertest.Node(t).ClientURL()
	} else {
		o.URL, o.Replicas = clustertest.URLs(clustertest.Cluster(t, nodes)), nodes
	}
	var out []*cluster.Owners
	for range n {
		c := open(t, o)
		ow, err := c.Owners(ctx, "owned", time.Hour, lease)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ow)
	}
	return out
}

func forEachTopology(t *testing.T, f func(t *testing.T, nodes int)) {
	for _, nodes := range []int{1, 3} {
		t.Run(map[int]string{1: "node", 3: "cluster"}[nodes], func(t *testing.T) { f(t, nodes) })
	}
}

// TestClaimOneWins: of several instances claiming one name at once,
// exactly one owns it, and the others are told who.
func TestClaimOneWins(t *testing.T) {
	forEachTopology(t, func(t *testing.T, nodes int) {
		ows := ownersOn(t, nodes, 4, 5*time.Second)
		ctx := context.Background()
		claims := make([]*cluster.Claim, len(ows))
		errs := make([]error, len(ows))
		var wg sync.WaitGroup
		for i, ow := range ows {
			wg.Go(func() { claims[i], errs[i] = ow.Claim(ctx, "sess.x") })
		}
		wg.Wait()
		var winner *cluster.Claim
		for i, err := range errs {
			if err == nil {
				if winner != nil {
					t.Fatalf("two claims won")
				}
				winner = claims[i]
			} else if !errors.Is(err, cluster.ErrOwned) {
				t.Fatalf("claim %d: %v, want ErrOwned", i, err)
			}
		}
		if winner == nil {
			t.Fatal("no claim won")
		}
		holder, rev, err := ows[0].Holder(ctx, "sess.x")
		if err != nil {
			t.Fatal(err)
		}
		if rev != winner.Revision() {
			t.Errorf("Holder's revision %d, the winner holds %d", rev, winner.Revision())
		}
		for i, err := range errs {
			var oe *cluster.OwnedError
			if errors.As(err, &oe) && oe.Holder != holder {
				t.Errorf("claim %d was told %q holds it, Holder says %q", i, oe.Holder, holder)
			}
		}
		if !winner.Held() {
			t.Error("the winner's Held() = false")
		}
	})
}

// TestRenewKeepsAndReleaseHandsOver: a renewed claim outlives its lease;
// a released one is claimable at once, and its old holder can no longer
// write.
func TestRenewKeepsAndReleaseHandsOver(t *testing.T) {
	ows := ownersOn(t, 1, 2, time.Second)
	a, b := ows[0], ows[1]
	ctx := context.Background()
	ca, err := a.Claim(ctx, "sess.x")
	if err != nil {
		t.Fatal(err)
	}
	for range 8 { // 2.4 s, more than two leases
		time.Sleep(300 * time.Millisecond)
		if err := ca.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Claim(ctx, "sess.x"); !errors.Is(err, cluster.ErrOwned) {
			t.Fatalf("claiming a renewed name: %v, want ErrOwned", err)
		}
	}
	if _, err := ca.Put(ctx, "data.x", []byte("a1")); err != nil {
		t.Fatal(err)
	}
	if err := ca.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ca.Lost():
	default:
		t.Error("Lost() not closed after Release")
	}
	cb, err := b.Claim(ctx, "sess.x")
	if err != nil {
		t.Fatalf("claiming a released name: %v", err)
	}
	if _, err := cb.Put(ctx, "data.x", []byte("b1")); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Put(ctx, "data.x", []byte("a2")); !errors.Is(err, cluster.ErrLost) {
		t.Errorf("the released claim's write: %v, want ErrLost", err)
	}
	assertValue(t, b, "data.x", "b1")
}

// TestStaleTakeoverFencesTheOldOwner: an owner that stops renewing (dead,
// or cut off from NATS) is taken over once its lease has run out, and
// every write it still attempts is refused by the server.
func TestStaleTakeoverFencesTheOldOwner(t *testing.T) {
	forEachTopology(t, func(t *testing.T, nodes int) {
		lease := time.Second
		ows := ownersOn(t, nodes, 2, lease)
		a, b := ows[0], ows[1]
		ctx := context.Background()
		ca, err := a.Claim(ctx, "sess.x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ca.Put(ctx, "data.x", []byte("a1")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Claim(ctx, "sess.x"); !errors.Is(err, cluster.ErrOwned) {
			t.Fatalf("claiming a fresh name: %v, want ErrOwned", err)
		}
		// a is cut off: it renews no more. b takes over once the lease
		// is over, and not before.
		start := time.Now()
		var cb *cluster.Claim
		for cb == nil {
			cb, err = b.Claim(ctx, "sess.x")
			if err != nil && !errors.Is(err, cluster.ErrOwned) {
				t.Fatal(err)
			}
			if time.Since(start) > 10*lease {
				t.Fatalf("still not claimable %v after the last renewal", time.Since(start))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if took := time.Since(start); took < lease*9/10 {
			t.Errorf("taken over %v after a claim with a %v lease", took, lease)
		}
		t.Logf("taken over %v after the last renewal (lease %v)", time.Since(start), lease)
		if ca.Held() {
			t.Error("the cut-off owner's Held() = true after its lease")
		}
		if _, err := cb.Put(ctx, "data.x", []byte("b1")); err != nil {
			t.Fatal(err)
		}
		// a comes back and tries to write: refused, and it knows.
		if _, err := ca.Put(ctx, "data.x", []byte("a2")); !errors.Is(err, cluster.ErrLost) {
			t.Errorf("the old owner's write: %v, want ErrLost", err)
		}
		if err := ca.Delete(ctx, "data.x"); !errors.Is(err, cluster.ErrLost) {
			t.Errorf("the old owner's delete: %v, want ErrLost", err)
		}
		if err := ca.Renew(ctx); !errors.Is(err, cluster.ErrLost) {
			t.Errorf("the old owner's renewal: %v, want ErrLost", err)
		}
		assertValue(t, b, "data.x", "b1")
		if holder, _, err := a.Holder(ctx, "sess.x"); err != nil || holder == "" {
			t.Errorf("Holder = %q, %v", holder, err)
		}
	})
}

// TestRevokedOwnerIsFenced: an owner whose record was rewritten by anyone
// else (here, revoked by hand) has its very next write refused, before any
// renewal could tell it.
func TestRevokedOwnerIsFenced(t *testing.T) {
	ows := ownersOn(t, 1, 1, 5*time.Second)
	ctx := context.Background()
	c, err := ows[0].Claim(ctx, "sess.x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "data.x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := ows[0].KV().Put(ctx, "own.sess.x", []byte("someone else")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "data.x", []byte("2")); !errors.Is(err, cluster.ErrLost) {
		t.Fatalf("write after revocation: %v, want ErrLost", err)
	}
	if c.Held() {
		t.Error("Held() = true after a refused write")
	}
	assertValue(t, ows[0], "data.x", "1")
}

func assertValue(t *testing.T, o *cluster.Owners, key, want string) {
	t.Helper()
	v, _, err := o.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(v); got != want {
		t.Errorf("%s = %q, want %q", key, got, want)
	}
}

// TestLeaseTooShort: NATS cannot expire a record sooner than a second.
func TestLeaseTooShort(t *testing.T) {
	c := open(t, cluster.Options{StoreDir: t.TempDir(), Memory: true})
	if _, err := c.Owners(context.Background(), "owned", 0, 500*time.Millisecond); err == nil {
		t.Error("a 500ms lease was accepted")
	}
}

// TestBackToBackWritesKeepTheClaim: an owner writing as fast as its acks
// come back, while it renews, keeps its claim. On a replicated stream the
// leader acknowledges a write before it forgets the write was in process,
// and for that moment refuses the next conditioned write on the subject
// with "wrong last sequence" (10164, no number): that is "try again", not
// "another owner wrote" (10071), and losing the claim over it ended a
// class in the middle of a lesson.
func TestBackToBackWritesKeepTheClaim(t *testing.T) {
	forEachTopology(t, func(t *testing.T, nodes int) {
		ow := ownersOn(t, nodes, 1, 5*time.Second)[0]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := ow.Claim(ctx, "room.x")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		renewErr := make(chan error, 1)
		wg.Go(func() {
			for range 200 {
				if err := c.Renew(ctx); err != nil {
					renewErr <- err
					return
				}
			}
		})
		for i := range 400 {
			key := []string{"data.x", "data.y"}[i%2]
			if _, err := c.Put(ctx, key, []byte{byte(i)}); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		wg.Wait()
		select {
		case err := <-renewErr:
			t.Fatalf("renewing: %v", err)
		default:
		}
		if !c.Held() {
			t.Error("Held() = false after writing and renewing")
		}
	})
}
