package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/netstep/netstep/cluster/clustertest"
	"github.com/netstep/netstep/loadtest"
)

// startServing starts the program's serve command on a free loopback port
// (startServe) and returns its base URL without the final slash, as
// loadtest's --url takes it.
func startServing(t *testing.T, args ...string) string {
	t.Helper()
	return startServe(t, nil, append([]string{"--addr", "127.0.0.1:0"}, args...)...).Base
}

// runLoadtest runs `netstep loadtest args...` and returns its report, the
// last line it prints, and that line.
func runLoadtest(t *testing.T, args ...string) (loadtest.Report, string) {
	t.Helper()
	out, _, err := runCLI(t, nil, append([]string{"loadtest"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	line := lines[len(lines)-1]
	var rep loadtest.Report
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		t.Fatalf("last line %q: %v", line, err)
	}
	return rep, line
}

// TestLoadtestSmoke is the CI-sized run of the load generator: a few dozen
// sessions for a few seconds, every step answered. The full figures come
// from the commands in docs/benchmarks.md.
func TestLoadtestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: a load test takes seconds")
	}
	base := startServing(t)
	for _, mode := range []string{"sessions", "play", "classroom", "vote"} {
		t.Run(mode, func(t *testing.T) {
			rep, line := runLoadtest(t, "--url", base, "--mode", mode, "--sessions", "20", "--players", "4", "--followers", "20",
				"--duration", "3s", "--interval", "200ms", "--events", "mixed", "--vote-window", "1s")
			if rep.Failures != 0 || rep.ConnectFailures != 0 || rep.Samples < 20 || rep.P99Ms <= 0 {
				t.Errorf("load test report: %s", line)
			}
			if mode == "vote" && (rep.Votes != 20 || rep.VotesTallied != 20 || rep.TallyFrames < 1) {
				// Every answer reaches the presenter's tally (counts, not timings).
				t.Errorf("votes: %d sent, %d tallied in %d tally frames", rep.Votes, rep.VotesTallied, rep.TallyFrames)
			}
			if mode == "play" {
				// Every player trains and gets progress, at most ~30 frames
				// a second however fast it trains (counts, not timings).
				eps, fps := rep.PlayerEpochsPerSecond, rep.PlayerFramesPerSecond
				if len(eps) != 3 || eps[0] <= 0 || len(fps) != 3 || fps[0] <= 0 || fps[2] > 40 {
					t.Errorf("players: epochs a second %v, progress frames a second %v", eps, fps)
				}
			}
		})
	}
}

func TestLoadtestRefusesOtherMachines(t *testing.T) {
	_, _, err := runCLI(t, nil, "loadtest", "--url", "http://10.1.2.3:8080")
	if err == nil || !strings.Contains(err.Error(), "only targets this machine") {
		t.Fatalf("error %v", err)
	}
}

// TestLoadtestAcrossInstances: with several --url, the clients spread over
// three instances sharing one NATS; a class whose room is on the first
// gets every step on all three.
func TestLoadtestAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: a load test takes seconds")
	}
	nats := clustertest.Node(t).ClientURL()
	var bases []string
	for range 3 {
		bases = append(bases, startServing(t, "--nats", nats, "--join-burst", "100"))
	}
	for _, mode := range []string{"sessions", "classroom"} {
		t.Run(mode, func(t *testing.T) {
			rep, line := runLoadtest(t, "--url", strings.Join(bases, ","), "--mode", mode, "--sessions", "30", "--followers", "30",
				"--duration", "3s", "--interval", "200ms")
			if rep.Failures != 0 || rep.ConnectFailures != 0 || rep.Connected != 30+boolInt(mode == "classroom") || rep.Samples < 30 {
				t.Errorf("load test report: %s", line)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLoadtestRefusesBadAttacks: --attacks names what it wants, and only
// abuse mode takes it.
func TestLoadtestRefusesBadAttacks(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "abuse", "--attacks", "states"}, `--attacks: want all, none, or some of setWeight, state, followerState, forks, hitAndRun, stateAtLimit, followerStateAtLimit separated by commas; got "states"`},
		{[]string{"--mode", "abuse", "--attacks", "state,state"}, `--attacks: "state" given twice`},
		{[]string{"--mode", "sessions", "--attacks", "state"}, "--attacks: only with --mode abuse"},
	} {
		_, _, err := runCLI(t, nil, append([]string{"loadtest"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("loadtest %v: error %v; want %q", tt.args, err, tt.want)
		}
	}
}
