package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/engine"
)

// benchSession is a session driven directly, without its goroutine.
func benchSession(b *testing.B, file string) (*session, *viewer) {
	srv, err := New(Config{Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	s := newSession(srv, "bench", "token")
	s.idle, s.orphan, s.later = time.NewTimer(time.Hour), time.NewTimer(time.Hour), time.NewTimer(time.Hour)
	b.Cleanup(func() { s.idle.Stop(); s.orphan.Stop(); s.later.Stop() })
	if file != "" {
		s.tr = testTrainer(b, file)
	}
	v := newViewer(roleOwner, 1<<20, func() {}, func(int) {})
	s.viewers = []*viewer{v}
	return s, v
}

// BenchmarkStepSample is a sample step of a [2, 8, 8, 1] lesson from the
// command's bytes to the encoded frames in the viewer's queue: decode,
// step, encode events, done (and, every tenth step, the update; a boundary
// frame at most ten times a second).
func BenchmarkStepSample(b *testing.B) {
	s, v := benchSession(b, "testdata/circle-8-8.json")
	benchCommand(b, s, v, []byte(`{"cmd":"step","id":"17","granularity":"sample"}`))
}

// benchCommand handles cmd once per op, from its bytes to the encoded
// frames taken from v's queue, and reports the bytes on the wire and the
// CPU time per op.
func benchCommand(b *testing.B, s *session, v *viewer, cmd []byte) {
	b.Helper()
	var spare []*frame
	var bytesOut int
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		c, err := decodeCommand(cmd)
		if err != nil {
			b.Fatal(err)
		}
		s.handle(message{v: v, cmd: c})
		frames, _, _, _, _ := v.take(spare)
		for _, f := range frames {
			bytesOut += len(f.data)
		}
		clear(frames)
		spare = frames[:0]
	}
	b.ReportMetric(float64(bytesOut)/float64(b.N), "wire-bytes/op")
	reportCPU(b, cpu0)
}

// reportCPU reports the process's CPU time per op since cpu0 (user and
// system, garbage collection included): the server CPU a step costs, which
// other work on a shared machine does not inflate as it does wall time.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu := processCPU(); cpu > 0 {
		b.ReportMetric(float64(cpu-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkStepSampleCompact is BenchmarkStepSample with ?events=compact.
func BenchmarkStepSampleCompact(b *testing.B) {
	s, v := benchSession(b, "testdata/circle-8-8.json")
	s.compact, v.compact = true, true
	benchCommand(b, s, v, []byte(`{"cmd":"step","id":"17","granularity":"sample"}`))
}

// BenchmarkStepSampleEncodeOnly is the step and its events frame alone,
// for comparison: the engine plus AppendJSON into the session's buffer.
func BenchmarkStepSampleEncodeOnly(b *testing.B) {
	s, _ := benchSession(b, "testdata/circle-8-8.json")
	b.ReportAllocs()
	for b.Loop() {
		buf := appendEventsHead(s.buf[:0], nil)
		n := len(buf)
		s.tr.Step(engine.StepSample, func(e *engine.Event) {
			if len(buf) > n {
				buf = append(buf, ',')
			}
			buf = e.AppendJSON(buf)
		})
		s.buf = appendEventsEnd(buf, 0, s.tr.Position())
	}
}

// BenchmarkFanOut sends one 16 KiB frame from a session to N followers over
// real loopback websockets and waits until every follower has read it.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		b.Run(fmt.Sprint(n, "-followers"), func(b *testing.B) {
			srv, err := New(Config{Logger: quietLogger(), MaxQueuedFrames: 1024})
			if err != nil {
				b.Fatal(err)
			}
			srv.mu.Lock()
			srv.reserved++
			srv.mu.Unlock()
			sess := srv.start(false)
			// A session that has loaded nothing ends when its only viewers
			// are followers (nothing to wait for): give it a lesson first.
			loaded := false
			sess.do(func() { loaded = sess.load(&command{name: "load", lessonName: "xor"}) == nil })
			if !loaded {
				b.Fatal("the session did not load xor")
			}
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ws, err := srv.upgrader.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				c := srv.newConn(ws, sess)
				c.v.role = roleFollower
				sess.do(func() { sess.attach(c.v, false, false) })
				c.serve()
			}))
			defer func() {
				srv.Shutdown(context.Background())
				hs.Close()
			}()
			url := "ws" + strings.TrimPrefix(hs.URL, "http")
			got := make(chan struct{}, n)
			var wg sync.WaitGroup
			for range n {
				ws, _, err := websocket.DefaultDialer.Dial(url, nil)
				if err != nil {
					b.Fatal(err)
				}
				ws.ReadMessage() // hello
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer ws.Close()
					for {
						if _, _, err := ws.ReadMessage(); err != nil {
							return
						}
						got <- struct{}{}
					}
				}()
			}
			payload := []byte(`{"type":"events","events":[` + strings.Repeat(`{"type":"forward","layer":0,"neuron":3,"z":0.123,"a":0.456},`, 16<<10/60) + `{}]}`)
			b.SetBytes(int64(len(payload) * n))
			b.ReportAllocs()
			b.ResetTimer()
			var worst time.Duration
			for range b.N {
				start := time.Now()
				sess.do(func() { sess.broadcast(kindOrdered, payload) })
				for range n {
					<-got
				}
				worst = max(worst, time.Since(start))
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
			b.StopTimer()
		})
	}
}

// BenchmarkDecodeStep is the strict decoding of a step command alone.
func BenchmarkDecodeStep(b *testing.B) {
	cmd := []byte(`{"cmd":"step","id":"17","granularity":"sample"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeCommand(cmd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProgressFrame writes one progress frame (no heatmaps) of a
// [2, 8, 8, 1] lesson mid-training: what Play costs the session per frame,
// at most ~30 times a second. It reports the frame's size.
func BenchmarkProgressFrame(b *testing.B) {
	tr := testTrainer(b, "testdata/circle-8-8.json")
	if err := tr.Run(engine.StepSample, 1000, nil); err != nil {
		b.Fatal(err)
	}
	buf := appendProgress(nil, tr, 0, nil)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendProgress(buf[:0], tr, lastEpoch(tr.Losses()), nil)
	}
	b.ReportMetric(float64(len(buf)), "bytes/frame")
}

// BenchmarkStateSpiral is a learner's state command on the spiral lesson
// (the largest built-in 2-D lesson: 7 features, [8, 8] hidden, 300
// points), from its bytes to the frames in the viewer's queue: what each
// state a flooding client is allowed costs (issue 18).
func BenchmarkStateSpiral(b *testing.B) {
	s, v := benchSession(b, "")
	l, _ := s.srv.cfg.Lessons.Lookup("spiral")
	tr, err := engine.NewTrainer(l)
	if err != nil {
		b.Fatal(err)
	}
	s.tr = tr
	benchCommand(b, s, v, []byte(`{"cmd":"state","id":"17"}`))
}
