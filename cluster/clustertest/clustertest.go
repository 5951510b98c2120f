// Package clustertest starts real NATS servers with JetStream inside a test
// process, on loopback ports the system chooses: one node, or a cluster of
// several with routes between them. Nothing runs outside the test; every
// server stops when the test ends.
package clustertest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Node starts one NATS server with JetStream storing under a temporary
// folder, and returns it; its ClientURL is what netstep's --nats takes.
func Node(t testing.TB) *natsserver.Server {
	t.Helper()
	ns := start(t, &natsserver.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	})
	waitJetStream(t, ns.ClientURL(), 1)
	return ns
}

// Cluster starts n NATS servers with JetStream, routed to each other as one
// cluster, and waits until JetStream has a leader. Every node must know the
// others' route ports before any starts, so they are chosen free first; if
// something else took one before its node listened on it (other tests'
// servers start on ports the system chooses), the cluster is started again
// on other ports.
func Cluster(t testing.TB, n int) []*natsserver.Server {
	t.Helper()
	var err error
	for range 3 {
		var nodes []*natsserver.Server
		if nodes, err = tryCluster(t, n); err == nil {
			waitJetStream(t, URLs(nodes), n)
			return nodes
		}
	}
	t.Fatal(err)
	return nil
}

// tryCluster starts n routed nodes on route ports chosen now; if one does
// not start, those started are stopped.
func tryCluster(t testing.TB, n int) ([]*natsserver.Server, error) {
	ports := FreePorts(t, n)
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	var nodes []*natsserver.Server
	for i := range n {
		ns, err := tryStart(&natsserver.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       -1,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoLog:      true,
			NoSigs:     true,
			Cluster:    natsserver.ClusterOpts{Name: "netstep-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:     routes,
		})
		if err != nil {
			for _, ns := range nodes {
				stop(ns)
			}
			return nil, err
		}
		nodes = append(nodes, ns)
	}
	for _, ns := range nodes {
		t.Cleanup(func() { stop(ns) })
	}
	return nodes, nil
}

// URLs is the nodes' client URLs separated by commas, as --nats takes them.
func URLs(nodes []*natsserver.Server) string {
	var out []string
	for _, ns := range nodes {
		if ns.Running() {
			out = append(out, ns.ClientURL())
		}
	}
	return strings.Join(out, ",")
}

func start(t testing.TB, o *natsserver.Options) *natsserver.Server {
	t.Helper()
	ns, err := tryStart(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(ns) })
	return ns
}

// startWait is how long a node may take to listen: a loaded machine running
// the race detector has taken seconds.
const startWait = 30 * time.Second

func tryStart(o *natsserver.Options) (*natsserver.Server, error) {
	ns, err := natsserver.NewServer(o)
	if err != nil {
		return nil, err
	}
	ns.Start()
	if !ns.ReadyForConnections(startWait) {
		stop(ns)
		return nil, fmt.Errorf("a NATS server did not start within %v", startWait)
	}
	return ns, nil
}

func stop(ns *natsserver.Server) {
	ns.Shutdown()
	ns.WaitForShutdown()
}

// waitJetStream waits until JetStream at urls creates a replicated bucket:
// a cluster's leader election takes from a fraction of a second to a few
// seconds.
func waitJetStream(t testing.TB, urls string, replicas int) {
	t.Helper()
	nc, err := nats.Connect(urls)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "clustertest", Replicas: replicas, Storage: jetstream.MemoryStorage})
		if err == nil {
			err = js.DeleteKeyValue(ctx, "clustertest")
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream at %s never answered: %v", urls, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Routes are the route URLs of cluster members listening on ports of
// 127.0.0.1.
func Routes(ports []int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("nats://127.0.0.1:%d", p)
	}
	return out
}

// FreePorts finds n loopback ports nothing listens on, for routes, which
// each server must know before any starts.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// ForEachTopology runs f as two subtests: three instances on one NATS node
// (one copy of each bucket), and each instance on its own node of a 3-node
// cluster (three copies, frames crossing routes; not with -short). urls are
// the NATS URLs the three instances connect to.
func ForEachTopology(t *testing.T, f func(t *testing.T, urls [3]string, replicas int)) {
	t.Run("one NATS node", func(t *testing.T) {
		url := Node(t).ClientURL()
		f(t, [3]string{url, url, url}, 1)
	})
	t.Run("three-node NATS cluster", func(t *testing.T) {
		if testing.Short() {
			t.Skip("a 3-node cluster takes a few seconds")
		}
		nodes := Cluster(t, 3)
		f(t, [3]string{nodes[0].ClientURL(), nodes[1].ClientURL(), nodes[2].ClientURL()}, 3)
	})
}
