package server

import (
	"context"
	"fmt"
	"testing"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/cluster/clustertest"
)

// BenchmarkRoomStepDurable is the cost of durable before broadcast: one
// presenter's sample step in a room of circle-8-8, over a websocket, from
// the command sent to its done frame read, with one follower on another
// instance. "relay" publishes the room's frames to other instances and
// writes nothing (an embedded node in memory, as --data memory); "durable"
// first writes each step to the room's log in JetStream and waits for the
// acknowledgement, and writes the room's snapshot after the step (a NATS
// node on disk; "memory" the same node keeping the bucket in memory). The
// difference between "relay" and "durable" is what a step costs to be
// durable; log-µs/write is the log write alone (netstep_room_log_write_seconds),
// the time a step's frames wait; snapshot-bytes is the room's snapshot after
// the run (written every 32 steps or 2 s, after a step's frames are out).
func BenchmarkRoomStepDurable(b *testing.B) {
	for _, mode := range []string{"relay", "durable", "durable-memory"} {
		b.Run(mode, func(b *testing.B) {
			node := clustertest.Node(b)
			o := cluster.Options{URL: node.ClientURL(), StoreDir: b.TempDir(), Memory: mode == "durable-memory", Logger: quietLogger()}
			if mode == "relay" {
				o.URL, o.Memory = "", true
			}
			var inst [2]*testServer
			for i := range inst {
				if i == 1 && mode == "relay" {
					inst[1] = inst[0] // an embedded node reaches no other instance
					break
				}
				c, err := cluster.Open(context.Background(), o)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(c.Close)
				inst[i] = newTestServer(b, Config{Cluster: c, CommandsPerSecond: 1e6, CommandBurst: 1e6})
			}
			if (inst[0].roomData != nil) != (mode != "relay") {
				b.Fatalf("%s: room store %v", mode, inst[0].roomData != nil)
			}
			rm := inst[0].openRoom(b, "circle-8-8")
			p := inst[0].dial(b, "?room="+rm.Code, rm.presenter())
			for p.read()["type"] != "room" {
			}
			f, _ := inst[1].joinRoom(b, rm, "?room="+rm.Code)
			go func() {
				for {
					if _, _, err := f.ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprint(i)
				p.send(`{"cmd":"step","id":"` + id + `","granularity":"sample"}`)
				if last := p.until(id); last[len(last)-1]["type"] != "done" {
					b.Fatalf("step: %v", last[len(last)-1])
				}
			}
			b.StopTimer()
			if inst[0].roomData != nil {
				snap, err := inst[0].roomData.kv.Get(context.Background(), snapKey(rm.Code))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(snap.Value())), "snapshot-bytes")
				mfs, err := inst[0].Registry().Gather()
				if err != nil {
					b.Fatal(err)
				}
				for _, mf := range mfs {
					if mf.GetName() == "netstep_room_log_write_seconds" {
						h := mf.GetMetric()[0].GetHistogram()
						b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount())*1e6, "log-µs/write")
					}
				}
			}
		})
	}
}
