package server

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestIdleSessionMemory opens idle sessions, each with the [2, 8, 8, 1]
// lesson loaded and stepped once, and reports the memory each costs. The
// clients live in the same process, so the figure includes their side of
// each connection (two buffers of 4 KiB and a goroutine) too.
func TestIdleSessionMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a measurement; not under -short or -race")
	}
	const n = 200
	ts := newTestServer(t, Config{MaxSessions: n + 10, HandshakeBurst: n + 10})
	var heap, stack [2]uint64
	k := 0
	measure := func() uint64 {
		for range 4 { // stacks shrink by half at each GC
			runtime.GC()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		heap[k], stack[k] = m.HeapInuse, m.StackInuse
		k++
		return m.HeapInuse + m.StackInuse
	}
	before := measure()
	clients := make([]*websocket.Conn, 0, n)
	for i := range n {
		c := ts.dial(t, "?lesson=circle-8-8")
		c.read()
		c.mustDo(`{"cmd":"step","id":1}`)
		clients = append(clients, c.ws)
		_ = i
	}
	time.Sleep(200 * time.Millisecond) // let held-back boundary frames go
	for _, c := range clients {
		c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				break
			}
		}
	}
	after := measure()
	if f, err := os.Create(os.Getenv("NETSTEP_HEAP_PROFILE")); err == nil {
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	per := float64(after-before) / n / 1024
	t.Logf("%.1f KiB per idle session, client side included (%d sessions): heap %.1f KiB, goroutine stacks %.1f KiB",
		per, n, float64(heap[1]-heap[0])/n/1024, float64(stack[1]-stack[0])/n/1024)
	if per > 80 {
		t.Errorf("%.1f KiB per idle session; want at most 80 KiB with the client side (64 KiB is the server-side budget)", per)
	}
}
