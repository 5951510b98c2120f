package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/cluster/clustertest"
)

// openCluster connects to NATS for a test: the node at url, or an
// embedded one in memory when url is empty.
func openCluster(t testing.TB, url string) *cluster.Conn {
	t.Helper()
	return openClusterReplicas(t, url, 1)
}

func openClusterReplicas(t testing.TB, url string, replicas int) *cluster.Conn {
	t.Helper()
	c, err := cluster.Open(context.Background(), cluster.Options{URL: url, StoreDir: t.TempDir(), Memory: url == "", Replicas: replicas, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestRoomCodesUniqueAcrossInstances: two instances sharing NATS never
// hand out one code twice; the directory holds the room's owner and token
// hash while it lives and forgets it when it ends.
func TestRoomCodesUniqueAcrossInstances(t *testing.T) {
	url := clustertest.Node(t).ClientURL()
	a := newTestServer(t, Config{Cluster: openCluster(t, url)})
	b := newTestServer(t, Config{Cluster: openCluster(t, url)})

	// b draws the code a holds, then another.
	codes := []string{"AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"}
	var next atomic.Int32
	drawCode = func() string { return codes[min(int(next.Add(1))-1, len(codes)-1)] }
	t.Cleanup(func() { drawCode = newRoomCode })

	ra := a.openRoom(t, "xor")
	rb := b.openRoom(t, "xor")
	if ra.Code != "AAAAAA" || rb.Code != "BBBBBB" {
		t.Fatalf("codes %s and %s; want AAAAAA for the first and BBBBBB for the second", ra.Code, rb.Code)
	}

	kv, err := b.dir.c.JS.KeyValue(context.Background(), roomsBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), ra.Code)
	if err != nil {
		t.Fatal(err)
	}
	var got roomEntry
	if err := json.Unmarshal(e.Value(), &got); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(ra.PresenterToken))
	if want := (roomEntry{Owner: a.dir.c.Instance, Token: hex.EncodeToString(h[:]), Lesson: "xor"}); got != want {
		t.Errorf("entry = %+v, want %+v", got, want)
	}

	p := a.dial(t, "?room="+ra.Code, ra.presenter())
	p.do(`{"cmd":"endRoom","id":"end"}`)
	waitFor(t, "the ended room's entry to go", func() bool {
		_, err := kv.Get(context.Background(), ra.Code)
		return errors.Is(err, jetstream.ErrKeyNotFound)
	})
}
