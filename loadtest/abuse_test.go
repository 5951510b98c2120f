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
	"slices"
	"strings"
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
	srv, base := abuseServer(t, server.Config{
		MaxSessions:   maxSessions,
		SessionMemory: sessionMem,
		MaxMemory:     maxMemory,
	})

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

// abuseServer starts a server in this process for abuse mode: cfg with
// the per-address rates of handshakes and joins raised, as `netstep
// loadtest --mode abuse` does for the server it starts (everyone comes
// from 127.0.0.1); every other limit is cfg's or the default.
func abuseServer(t *testing.T, cfg server.Config) (*server.Server, *url.URL) {
	t.Helper()
	cfg.HandshakeBurst, cfg.HandshakesPerSecond, cfg.JoinBurst = 1000, 1000, 1000
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.HandleFunc("/api/rooms", srv.CreateRoom)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	base, _ := url.Parse(hs.URL)
	return srv, base
}

// TestAbuseModeRunsTheAttacksChosen: with Attacks set, abuse mode runs
// those attacks alone (here the state floods) beside the learners and the
// presenter, and reports only them; with none chosen, the learners and
// the presenter step alone.
func TestAbuseModeRunsTheAttacksChosen(t *testing.T) {
	if testing.Short() || raceEnabled {
		// Under the detector 50 followers flooding on a loaded CI machine
		// left the learners' steps unanswered for a minute.
		t.Skip("skipped with -short or -race: a load test whose limits are rates (test.sh runs it without -race)")
	}
	_, base := abuseServer(t, server.Config{})
	for _, tt := range []struct {
		name    string
		attacks []string
	}{
		{"state", []string{"state"}},
		{"followerStateAtLimit", []string{"followerStateAtLimit"}},
		{"none", []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Run(context.Background(), Config{
				Mode: "abuse", Base: base, Sessions: 2, Interval: 100 * time.Millisecond, Duration: time.Second,
				Granularity: "sample", Lesson: json.RawMessage(BenchLesson), Out: io.Discard, Attacks: tt.attacks,
			}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Connected != 2 || rep.Failures != 0 || rep.Samples == 0 || rep.PresenterP50Ms <= 0 || rep.PresenterFailures != 0 {
				t.Errorf("learners and presenter: %+v", rep)
			}
			if len(rep.Attacks) != len(tt.attacks) {
				t.Errorf("attacks reported: %v; want only %v", rep.Attacks, tt.attacks)
			}
			for _, name := range tt.attacks {
				if rep.Attacks[name]["sent"] == 0 {
					t.Errorf("attack %s: %v; want it sent", name, rep.Attacks[name])
				}
			}
		})
	}
}

func TestParseAttacks(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		err  string
	}{
		{in: "all", want: []string{"setWeight", "state", "followerState", "forks", "hitAndRun"}},
		{in: "none", want: []string{}},
		{in: "state", want: []string{"state"}},
		{in: "followerState, state", want: []string{"followerState", "state"}},
		{in: "states", err: `want all, none, or some of setWeight, state, followerState, forks, hitAndRun, stateAtLimit, followerStateAtLimit separated by commas; got "states", which is not one`},
		{in: "", err: `got ""`},
		{in: "state,", err: `got "state,"`},
		{in: "state,state", err: `"state" given twice`},
		{in: "all,state", err: `got "all", which is not one`},
	} {
		got, err := ParseAttacks(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseAttacks(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) || got == nil {
			t.Errorf("ParseAttacks(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
}
