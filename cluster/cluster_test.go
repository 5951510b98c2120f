package cluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/cluster/clustertest"
)

func open(t *testing.T, o cluster.Options) *cluster.Conn {
	t.Helper()
	c, err := cluster.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestEmbeddedKeepsBucketsOnDisk: what an embedded node stores under its
// folder is there after a restart, and a create of an existing key fails
// (which is what keeps room codes unique).
func TestEmbeddedKeepsBucketsOnDisk(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() || !c.Persistent() {
		t.Fatalf("Embedded, Persistent = %v, %v; want true, true", c.Embedded(), c.Persistent())
	}
	kv, err := c.Bucket(ctx, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctx, "K", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctx, "K", []byte("v2")); !errors.Is(err, jetstream.ErrKeyExists) {
		t.Fatalf("second Create: %v, want ErrKeyExists", err)
	}
	c.Close()

	c2 := open(t, cluster.Options{StoreDir: dir})
	if c2.Instance == c.Instance {
		t.Error("a restarted instance kept its instance name")
	}
	kv, err = c2.Bucket(ctx, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "K")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(e.Value()), "v1"; got != want {
		t.Errorf("after a restart K = %q, want %q", got, want)
	}
}

// TestEmbeddedMemoryKeepsNothing: in memory, a restart starts empty and
// the folder holds no stream data.
func TestEmbeddedMemoryKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := cluster.Open(ctx, cluster.Options{StoreDir: dir, Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Persistent() {
		t.Error("Persistent() = true in memory")
	}
	kv, err := c.Bucket(ctx, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	for _, f := range files {
		if strings.Contains(f, "streams") {
			t.Errorf("memory mode wrote %s", f)
		}
	}
	c2 := open(t, cluster.Options{StoreDir: dir, Memory: true})
	kv, err = c2.Bucket(ctx, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "K"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("after a restart in memory, Get: %v, want ErrKeyNotFound", err)
	}
}

// TestExternal: two connections to one external node share its buckets.
func TestExternal(t *testing.T) {
	ns := clustertest.Node(t)
	ctx := context.Background()
	a := open(t, cluster.Options{URL: ns.ClientURL()})
	b := open(t, cluster.Options{URL: ns.ClientURL()})
	if a.Embedded() {
		t.Error("Embedded() = true for an external URL")
	}
	kva, err := a.Bucket(ctx, "shared", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kvb, err := b.Bucket(ctx, "shared", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kva.Create(ctx, "ROOM", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := kvb.Create(ctx, "ROOM", []byte("b")); !errors.Is(err, jetstream.ErrKeyExists) {
		t.Fatalf("b's Create of a's key: %v, want ErrKeyExists", err)
	}
}

// TestClusterReplicates: a 3-node cluster keeps a replicated bucket's keys
// when the node an instance was connected to stops.
func TestClusterReplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node cluster takes a few seconds")
	}
	nodes := clustertest.Cluster(t, 3)
	ctx := context.Background()
	a := open(t, cluster.Options{URL: nodes[0].ClientURL(), Replicas: 3})
	kv, err := a.Bucket(ctx, "replicated", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctx, "K", []byte("v")); err != nil {
		t.Fatal(err)
	}
	nodes[0].Shutdown()
	// JetStream elects a new meta leader within seconds on a quiet machine
	// (election timeouts are 4–9 s); a loaded CI machine gets a minute.
	b := open(t, cluster.Options{URL: clustertest.URLs(nodes[1:]), Replicas: 3, ConnectTimeout: time.Minute})
	kv, err = b.Bucket(ctx, "replicated", 0)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, err := kv.Get(ctx, "K")
		if err == nil {
			if got := string(e.Value()); got != "v" {
				t.Fatalf("K = %q after losing a node, want v", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("K unreadable 30s after losing a node: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOpenErrors: a URL nothing answers, a server without JetStream and an
// embedded node without a folder each get an error that says so.
func TestOpenErrors(t *testing.T) {
	plain, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	plain.Start()
	defer plain.Shutdown()
	if !plain.ReadyForConnections(5 * time.Second) {
		t.Fatal("plain NATS server did not start")
	}
	for _, tt := range []struct {
		name string
		o    cluster.Options
		want string
	}{
		{"nothing there", cluster.Options{URL: "nats://127.0.0.1:1", ConnectTimeout: time.Second}, "connecting to NATS at nats://127.0.0.1:1"},
		{"no JetStream", cluster.Options{URL: plain.ClientURL(), ConnectTimeout: 2 * time.Second}, "has no JetStream"},
		{"no folder", cluster.Options{}, "needs a folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cluster.Open(context.Background(), tt.o)
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}
