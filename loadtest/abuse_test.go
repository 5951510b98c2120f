package loadtest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netstep/netstep/server"
)

// TestAbuseModeLeavesLearnersAlone runs abuse mode for a few seconds
// against a server in this process whose memory limit is small enough for
// the attacks to reach it, and checks what happened, not how fast: every
// well-behaved learner and the presenter connected and had every step
// answered; each attack was answered with its limit (state floods with
// slow_down, setWeight floods with server_busy once the server's memory
// is spent); sessions opened and dropped, more than --max-sessions leaves
// room for, locked nobody out; and the memory the sessions hold stayed
// within the budget.
func TestAbuseModeLeavesLearnersAlone(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("skipped with -short or -race: a load test whose limits are rates (test.sh runs it without -race)")
	}
	const (
		learners   = 6
		maxMemory  = 6 << 20
		sessionMem = 2 << 20
		// The learners, the class, the attackers that load a lesson and
		// the forks, and 10 places more: the sessions opened and dropped
		// (about 10 a second) need more than that.
		kept        = learners + 1 + abuseEditors + abuseStaters + abuseForks
		maxSessions = kept + 10
	)
	srv, err := server.New(server.Config{
		MaxSessions:   maxSessions,
		SessionMemory: sessionMem,
		MaxMemory:     maxMemory,
		// Everyone comes from 127.0.0.1: only the per-address rates of
		// handshakes and joins are raised, as `netstep loadtest --mode
		// abuse` does for the server it starts; every other limit is the
		// default.
		HandshakeBurst:      1000,
		HandshakesPerSecond: 1000,
		JoinBurst:           1000,
		Logger:              slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.HandleFunc("/api/rooms", srv.CreateRoom)
	hs := httptest.NewServer(mux)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	}()
	base, _ := url.Parse(hs.URL)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rep, err := Run(context.Background(), Config{
		Mode: "abuse", Base: base, Sessions: learners, Interval: 200 * time.Millisecond, Duration: 3 * time.Second,
		Granularity: "sample", Lesson: json.RawMessage(BenchLesson), Out: io.Discard,
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := json.Marshal(rep)
	t.Logf("report: %s", line)

	// The well-behaved.
	if rep.Connected != learners || rep.ConnectFailures != 0 || rep.Failures != 0 {
		t.Errorf("learners: %d of %d connected, %d could not connect, %d steps refused or dropped; want all in, none refused",
			rep.Connected, learners, rep.ConnectFailures, rep.Failures)
	}
	if rep.Samples < learners || rep.PresenterFailures != 0 || rep.PresenterP50Ms <= 0 {
		t.Errorf("steps measured: %d for the learners; the presenter's: p50 %v ms, %d refused or dropped",
			rep.Samples, rep.PresenterP50Ms, rep.PresenterFailures)
	}
	// Every attack met its limit, in words the protocol documents.
	for _, tt := range []struct{ attack, code string }{
		{"state", "slow_down"},
		{"followerState", "slow_down"},
		{"setWeight", "server_busy"},
	} {
		a := rep.Attacks[tt.attack]
		if a["sent"] == 0 || a[tt.code] == 0 {
			t.Errorf("attack %s: %v; want it sent and answered %s", tt.attack, a, tt.code)
		}
	}
	// Sessions opened and dropped at once, more than --max-sessions has
	// room for, refused nobody, and a newcomer still gets in: at
	// --max-sessions the session dropped longest ago makes room, and once
	// the memory is spent their lessons are refused, so they hold nothing
	// and end with their socket. (The newcomer's own lesson then waits for
	// memory to be freed: server_busy says so.)
	hit := rep.Attacks["hitAndRun"]
	if hit["sent"] <= maxSessions-kept || hit["refused"] != 0 {
		t.Errorf("hit and run: %v; want more than the %d free places, none refused", hit, maxSessions-kept)
	}
	newcomer, err := dial(context.Background(), base, "lesson=xor", server.Credentials{}, new(atomic.Int64), new(atomic.Int64))
	if err != nil {
		t.Errorf("a newcomer after the attacks: %v", err)
	} else {
		newcomer.ws.Close()
	}
	// Memory: the sessions' own count stays within --max-memory (work that
	// would pass it is refused; one edit may land as it is reached), and
	// the process's heap agrees that nothing beyond it is held.
	used := sessionMemory(t, srv)
	if used > maxMemory+sessionMem {
		t.Errorf("the sessions hold %d bytes by their own count; the budget is %d", used, maxMemory)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("sessions' memory %.1f MiB (budget %d MiB); the heap grew %.1f MiB", float64(used)/(1<<20), maxMemory>>20, float64(grown)/(1<<20))
	if grown > 4*maxMemory {
		t.Errorf("the heap grew %d bytes, four times the budget of %d", grown, maxMemory)
	}
}

// sessionMemory reads the server's netstep_session_memory_bytes.
func sessionMemory(t *testing.T, srv *server.Server) int64 {
	t.Helper()
	families, err := srv.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "netstep_session_memory_bytes" && len(f.GetMetric()) == 1 {
			return int64(f.GetMetric()[0].GetGauge().GetValue())
		}
	}
	t.Fatal("no netstep_session_memory_bytes metric")
	return 0
}
