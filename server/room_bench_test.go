package server

import (
	"sync"
	"testing"
	"time"

	"github.com/netstep/netstep/engine"
)

// BenchmarkRoomFanout is one presenter's sample step in a room of 500
// followers, in memory: the engine's step, its events encoded once into a
// frame prepared once, pushed onto 500 viewers' queues, and taken by 500
// writer goroutines (which here stop short of the socket). The figure is the
// session goroutine's time per step plus the writers' wake-ups; the real
// sockets are measured by `netstep loadtest --mode classroom`.
func BenchmarkRoomFanout(b *testing.B) {
	for _, n := range []int{1, 500} {
		b.Run(map[int]string{1: "followers=1", 500: "followers=500"}[n], func(b *testing.B) {
			l, _ := engine.Builtin().Lookup("circle-8-8")
			if l == nil {
				l = testLesson(b, "testdata/circle-8-8.json")
			}
			sess := memSession(b, l)
			tr := sess.tr
			sess.later = time.NewTimer(time.Hour) // boundary frames held back, as in loop
			sess.later.Stop()
			var wg sync.WaitGroup
			quit := make(chan struct{})
			for range n {
				v := newViewer(roleFollower, 1<<20, func() {}, func(int) {})
				sess.viewers = append(sess.viewers, v)
				wg.Add(1)
				go func() { // a writer
					defer wg.Done()
					var spare []*frame
					for {
						select {
						case <-v.notify:
							frames, _, _, _, _ := v.take(spare)
							clear(frames)
							spare = frames[:0]
						case <-quit:
							return
						}
					}
				}()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if e := sess.step(&command{name: "step", gran: engine.StepSample}); e != nil {
					// Training ran away: start over, outside the timing.
					b.StopTimer()
					tr.Reset()
					b.StartTimer()
				}
			}
			b.StopTimer()
			close(quit)
			wg.Wait()
			b.ReportMetric(float64(n), "followers")
		})
	}
}

// memSession is a session of a bare server (no sockets, no loop) with l
// loaded: viewers are added by hand and its methods called directly.
func memSession(t testing.TB, l *engine.Lesson) *session {
	t.Helper()
	ts := &Server{cfg: Config{}, metrics: newMetrics()}
	ts.cfg.fill()
	ts.cfg.Logger = quietLogger()
	ts.log = ts.cfg.Logger
	tr, err := engine.NewTrainer(l)
	if err != nil {
		t.Fatal(err)
	}
	sess := newSession(ts, "mem", "")
	sess.tr = tr
	return sess
}

func testLesson(b testing.TB, file string) *engine.Lesson {
	l, err := engine.ParseLesson([]byte(readFile(b, file)))
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkResyncLagging is a room of 500 followers that have all fallen
// behind at once (each queue overflowed): the session goroutine's time to
// owe and send each of them a full state. The state is encoded once and the
// one frame, prepared once, is shared by all of them; writers are not
// running, so the figure is the session's own cost.
func BenchmarkResyncLagging(b *testing.B) {
	l, _ := engine.Builtin().Lookup("spiral")
	if l == nil {
		b.Skip("no spiral lesson")
	}
	sess := memSession(b, l)
	const n = 500
	for range n {
		sess.viewers = append(sess.viewers, newViewer(roleFollower, 1<<20, func() {}, func(int) {}))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, v := range sess.viewers {
			v.mu.Lock()
			clear(v.queue)
			v.queue = v.queue[:0]
			v.resync = true
			v.mu.Unlock()
		}
		sess.resyncLagging()
	}
	b.StopTimer()
	b.ReportMetric(n, "followers")
	var first *frame
	for _, v := range sess.viewers {
		if len(v.queue) != 1 || v.queue[0].kind != kindState {
			b.Fatalf("a follower has %d frames queued, want its one state", len(v.queue))
		}
		if first == nil {
			first = v.queue[0]
			b.ReportMetric(float64(len(first.data)), "stateBytes")
		}
	}
}
