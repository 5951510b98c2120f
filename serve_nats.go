package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/netstep/netstep/cluster"
)

// memoryData is the --data value that keeps nothing across restarts.
const memoryData = "memory"

var errLocked = errors.New("locked")

// natsFlags are serve's flags about NATS and the data folder.
type natsFlags struct {
	data          string // a folder, or memoryData
	url           string // an external NATS cluster, or "" to embed a node
	replicas      int
	clusterListen string   // the embedded node is a member of a cluster, its routes listening here
	routes        []string // the other members' route URLs
}

// openCluster connects this instance to NATS as the flags say: with --nats,
// the cluster at that URL; otherwise a node embedded in this process, with
// JetStream storing under --data (locked, so that two instances never share
// one folder) or, with --data memory, in a temporary folder removed at
// close. close undoes it all.
func openCluster(ctx context.Context, nf natsFlags, addr string, log *slog.Logger) (conn *cluster.Conn, close func(), err error) {
	o := cluster.Options{URL: nf.url, Memory: nf.data == memoryData, Replicas: nf.replicas, Name: "netstep " + addr, Logger: log,
		ClusterListen: nf.clusterListen, Routes: nf.routes}
	switch {
	case nf.clusterListen != "" && nf.url != "":
		return nil, nil, usageError{"--nats-cluster-listen makes this instance's own node a member of a NATS cluster; not with --nats, which joins an external one"}
	case len(nf.routes) > 0 && nf.clusterListen == "":
		return nil, nil, usageError{"--nats-routes: give --nats-cluster-listen too (where this instance's node listens for the other members)"}
	}
	var cleanup []func()
	undo := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	if nf.url == "" {
		if o.Memory {
			dir, err := os.MkdirTemp("", "netstep-nats-")
			if err != nil {
				return nil, nil, fmt.Errorf("--data memory: a temporary folder for NATS: %w", err)
			}
			cleanup = append(cleanup, func() { os.RemoveAll(dir) })
			o.StoreDir = dir
		} else {
			if nf.data == "" {
				return nil, nil, usageError{`--data: want a folder, or "memory" to keep nothing across restarts`}
			}
			if err := os.MkdirAll(nf.data, 0o750); err != nil {
				return nil, nil, usageError{fmt.Sprintf("--data %s: cannot create the folder: %v", nf.data, err)}
			}
			lock, err := lockFile(filepath.Join(nf.data, "netstep.lock"))
			if errors.Is(err, errLocked) {
				return nil, nil, usageError{fmt.Sprintf("--data %s: another netstep is using this folder; give each instance its own --data, or --data memory to keep nothing", nf.data)}
			}
			if err != nil {
				return nil, nil, usageError{fmt.Sprintf("--data %s: %v", nf.data, err)}
			}
			cleanup = append(cleanup, func() { lock.Close() })
			o.StoreDir = filepath.Join(nf.data, "nats")
		}
	}
	conn, err = cluster.Open(ctx, o)
	if err != nil {
		undo()
		switch {
		case errors.Is(err, cluster.ErrClusterListen):
			return nil, nil, usageError{"--nats-cluster-listen: " + strings.TrimPrefix(err.Error(), "cluster: ")}
		case errors.Is(err, cluster.ErrRoute):
			return nil, nil, usageError{"--nats-routes: " + strings.TrimPrefix(err.Error(), "cluster: ")}
		}
		if nf.url != "" {
			return nil, nil, fmt.Errorf("--nats: %w", err)
		}
		return nil, nil, err
	}
	cleanup = append(cleanup, conn.Close)
	where := "embedded"
	if nf.url != "" {
		where = nf.url
	}
	log.Info("nats", "at", where, "instance", conn.Instance, "persistent", conn.Persistent(), "data", nf.data)
	return conn, undo, nil
}
