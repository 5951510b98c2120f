// Package cluster connects a netstep instance to NATS, which is what lets
// several instances share rooms and what lets one instance keep its
// classes across a restart. It owns the connection and nothing about
// sessions: either a NATS node embedded in this process with JetStream
// storing under a folder (or in memory), or an external NATS server or
// cluster with JetStream, reached by URL. The root package decides which
// from its flags; this package reads no flags and no environment.
//
// Every instance is equal: there is no leader of netstep's own. What must
// be unique or durable across instances (room codes, room directory) lives
// in JetStream key-value buckets and streams, replicated as Options.Replicas
// says. See docs/scaling.md.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options says which NATS to use. The zero value embeds a node that keeps
// everything in memory in a folder chosen by the caller (StoreDir must be
// set: JetStream writes its bookkeeping there even in memory).
type Options struct {
	// URL is an external NATS server or cluster, such as
	// nats://10.0.0.5:4222 (several seeds separated by commas). Empty
	// embeds a node in this process, reachable only from it.
	URL string
	// StoreDir is where an embedded node's JetStream keeps its files.
	StoreDir string
	// Memory keeps netstep's streams and buckets in memory: nothing
	// survives the process (or, with URL, the NATS servers' restart).
	Memory bool
	// Replicas is how many copies of each stream and bucket a NATS cluster
	// keeps (1, 3 or 5); default 1. An embedded node of its own is always 1.
	Replicas int
	// ClusterListen, with URL empty, makes the embedded node a member of a
	// NATS cluster of such nodes, one per instance: HOST:PORT is where it
	// listens for the other members' routes. Its client port is then a
	// random loopback one (NATS routes need a client listener), never
	// advertised. Empty: a node of its own.
	ClusterListen string
	// Routes are the cluster members' route URLs, nats://host:6222 (this
	// node's own may be among them), with ClusterListen.
	Routes []string
	// ClusterWait bounds the wait, at start, for a clustered node's
	// JetStream to have a leader (a majority of the members must be up);
	// default 2 minutes.
	ClusterWait time.Duration
	// Name names this instance's connection in NATS's monitoring.
	Name string
	// ConnectTimeout bounds connecting to URL at start; default 5 s.
	ConnectTimeout time.Duration
	// Logger gets connection events; default slog.Default().
	Logger *slog.Logger
}

// Conn is one instance's connection to NATS and JetStream.
type Conn struct {
	// NC is the NATS connection, for subjects and request/reply.
	NC *nats.Conn
	// JS is its JetStream context, for streams and buckets.
	JS jetstream.JetStream
	// Instance names this process among the instances sharing NATS: 16
	// random characters, new at every start.
	Instance string

	storage   jetstream.StorageType
	replicas  int
	node      *natsserver.Server // the embedded node, or nil
	clustered bool               // the embedded node is a member of a cluster
	log       *slog.Logger
	url       string
}

// embeddedMaxPayload is the largest message the embedded node accepts: a
// room's biggest frames (a full state of a big 2-D network) fit. An
// external NATS server keeps its own max_payload (1 MiB by default).
const embeddedMaxPayload = 8 << 20

// Open connects to NATS as o says and checks that JetStream answers.
func Open(ctx context.Context, o Options) (*Conn, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	c := &Conn{Instance: newInstanceID(), storage: jetstream.FileStorage, replicas: o.Replicas, log: o.Logger, url: o.URL}
	if o.Memory {
		c.storage = jetstream.MemoryStorage
	}
	name := o.Name
	if name == "" {
		name = "netstep"
	}
	opts := []nats.Option{
		nats.Name(name + " " + c.Instance),
		nats.Timeout(o.ConnectTimeout),
		nats.MaxReconnects(-1), // an instance never gives up on its cluster
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				c.log.Warn("nats: disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { c.log.Info("nats: reconnected", "server", nc.ConnectedUrlRedacted()) }),
	}
	if o.URL == "" {
		if o.StoreDir == "" {
			return nil, errors.New("cluster: an embedded node needs a folder for JetStream")
		}
		nopts := &natsserver.Options{
			ServerName: "netstep-" + strings.ToLower(c.Instance),
			DontListen: true, // reached in-process only: no port to collide on
			JetStream:  true,
			StoreDir:   o.StoreDir,
			MaxPayload: embeddedMaxPayload,
			NoLog:      true,
			NoSigs:     true,
		}
		if o.ClusterListen == "" {
			c.replicas = 1
		} else if err := clusterNode(nopts, o); err != nil {
			return nil, err
		} else {
			c.clustered = true
		}
		node, err := natsserver.NewServer(nopts)
		if err != nil {
			return nil, fmt.Errorf("cluster: embedded NATS node: %w", err)
		}
		node.Start()
		if !node.ReadyForConnections(10 * time.Second) {
			node.Shutdown()
			return nil, errors.New("cluster: the embedded NATS node did not start within 10s")
		}
		c.node = node
		opts = append(opts, nats.InProcessServer(node))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		c.shutdownNode()
		return nil, fmt.Errorf("cluster: connecting to NATS at %s: %w", c.where(), err)
	}
	c.NC = nc
	if c.JS, err = jetstream.New(nc); err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: JetStream: %w", err)
	}
	wait := o.ConnectTimeout
	if c.clustered {
		wait = o.ClusterWait
		if wait <= 0 {
			wait = 2 * time.Minute
		}
	}
	if err := c.awaitJetStream(ctx, wait); err != nil {
		c.Close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, fmt.Errorf("cluster: NATS at %s has no JetStream; start its servers with JetStream on (nats-server -js)", c.where())
		}
		return nil, fmt.Errorf("cluster: JetStream at %s does not answer: %w", c.where(), err)
	}
	return c, nil
}

// awaitJetStream asks JetStream for the account's info until it answers or
// within has passed. While a cluster elects its meta leader a request can go
// unanswered rather than fail, so one long request would wait out the whole
// budget even when the leader is there seconds later: each try is short.
// A clustered embedded node also waits until a bucket with as many copies
// as netstep's need can be made (netstep-probe, which holds nothing): then
// the cluster has a leader and enough members (its instances may start in
// any order).
func (c *Conn) awaitJetStream(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	const try = 2 * time.Second
	for {
		tctx, tcancel := context.WithTimeout(ctx, try)
		_, err := c.JS.AccountInfo(tctx)
		if err == nil && c.clustered {
			_, err = c.JS.CreateOrUpdateKeyValue(tctx, jetstream.KeyValueConfig{Bucket: "netstep-probe", History: 1, MaxBytes: 1024, Storage: jetstream.MemoryStorage, Replicas: c.replicas})
		}
		tcancel()
		if err == nil || errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Conn) where() string {
	if c.url == "" {
		return "the embedded node"
	}
	return c.url
}

// Embedded reports whether NATS is a node in this process that no other
// instance shares (a clustered embedded node is shared: false).
func (c *Conn) Embedded() bool { return c.node != nil && !c.clustered }

// ErrClusterListen and ErrRoute mark Open's errors for a bad
// Options.ClusterListen or Options.Routes.
var (
	ErrClusterListen = errors.New("cluster: listening for routes at")
	ErrRoute         = errors.New("cluster: route")
)

// clusterNode makes nopts a member of the cluster o describes. Its server
// name is kept in the store folder, so that a restarted member is the same
// member to JetStream (a new name would be a new peer, and the old one's
// copies would be missed for ever).
func clusterNode(nopts *natsserver.Options, o Options) error {
	host, port, err := net.SplitHostPort(o.ClusterListen)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%w %q: want HOST:PORT, such as 0.0.0.0:6222", ErrClusterListen, o.ClusterListen)
	}
	var routes []*url.URL
	for _, r := range o.Routes {
		u, err := url.Parse(strings.TrimSpace(r))
		if err != nil || u.Scheme != "nats" || u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("%w %q: want nats://host:port, such as nats://10.0.0.2:6222", ErrRoute, r)
		}
		routes = append(routes, u)
	}
	name, err := memberName(o.StoreDir)
	if err != nil {
		return err
	}
	nopts.ServerName = name
	nopts.DontListen = false
	nopts.Host, nopts.Port = "127.0.0.1", -1 // the routes need a client listener; only this process uses it
	nopts.Cluster = natsserver.ClusterOpts{Name: "netstep", Host: host, Port: p, NoAdvertise: true}
	nopts.Routes = routes
	return nil
}

// memberName reads (or, the first time, writes) the server name of the
// clustered node storing under dir.
func memberName(dir string) (string, error) {
	path := filepath.Join(dir, "member-name")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 && len(b) <= 64 {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	name := "netstep-" + strings.ToLower(newInstanceID())
	if err := os.WriteFile(path, []byte(name+"\n"), 0o640); err != nil {
		return "", fmt.Errorf("cluster: keeping the member's name: %w", err)
	}
	return name, nil
}

// Persistent reports whether streams and buckets outlive the process.
func (c *Conn) Persistent() bool { return c.storage == jetstream.FileStorage }

// Bucket opens the key-value bucket name, creating it (or bringing its
// settings up to date) with this connection's storage and replicas. ttl
// ends keys that are not written for that long; 0 keeps them.
func (c *Conn) Bucket(ctx context.Context, name string, ttl time.Duration) (jetstream.KeyValue, error) {
	return c.bucket(ctx, jetstream.KeyValueConfig{Bucket: name, TTL: ttl})
}

// bucket creates or updates the bucket cfg describes, keeping one value
// per key, with this connection's storage and replicas.
func (c *Conn) bucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	cfg.History, cfg.Storage, cfg.Replicas = 1, c.storage, c.replicas
	var kv jetstream.KeyValue
	err := retry(ctx, func(ctx context.Context) (err error) {
		kv, err = c.JS.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// Stream opens the stream cfg describes, creating it (or bringing its
// settings up to date) with this connection's storage and replicas.
func (c *Conn) Stream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	cfg.Storage, cfg.Replicas = c.storage, c.replicas
	var st jetstream.Stream
	err := retry(ctx, func(ctx context.Context) (err error) {
		st, err = c.JS.CreateOrUpdateStream(ctx, cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: stream %s: %w", cfg.Name, err)
	}
	return st, nil
}

// retry runs f while it fails, up to 5 times, a little apart: JetStream
// answers some creations with a passing error (a cluster electing a
// leader), and some are not answered at all: when several instances of a
// cluster create one bucket at once, the bucket is made but every creator's
// request can go unanswered. A try after that succeeds at once, so the
// first try waits only a second for its answer and each later one twice as
// long as the one before (1, 2, 4, 8, 8 s), for a loaded machine.
func retry(ctx context.Context, f func(context.Context) error) error {
	var err error
	wait := firstAttemptWait
	for i := range 5 {
		actx, cancel := context.WithTimeout(ctx, wait)
		err = f(actx)
		cancel()
		if err == nil {
			return nil
		}
		wait = min(2*wait, lastAttemptWait)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i+1) * 100 * time.Millisecond):
		}
	}
	return err
}

// firstAttemptWait and lastAttemptWait bound one try of a creation in retry.
const (
	firstAttemptWait = time.Second
	lastAttemptWait  = 8 * time.Second
)

// Close flushes what this instance published, closes the connection and,
// if the node is embedded, stops it (JetStream's files are synced).
func (c *Conn) Close() {
	if c.NC != nil {
		c.NC.Flush()
		c.NC.Close()
	}
	c.shutdownNode()
}

// Kill stops the connection and the embedded node without flushing, as a
// crash would: for tests of what other instances see.
func (c *Conn) Kill() {
	if c.NC != nil {
		c.NC.Close()
	}
	c.shutdownNode()
}

func (c *Conn) shutdownNode() {
	if c.node != nil {
		c.node.Shutdown()
		c.node.WaitForShutdown()
	}
}

// newInstanceID is 16 characters of base32 from crypto/rand: 80 bits, so
// two instances never share one.
func newInstanceID() string {
	var b [10]byte
	rand.Read(b[:])
	return base32.StdEncoding.EncodeToString(b[:])
}
