package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netstep/netstep/loadtest"
)

// cmdLoadtest reads the load generator's flags; package loadtest does the rest.
func cmdLoadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("loadtest", "Open many sessions over real websockets on this machine, step them, and report latency, failures and the server's memory per session. Without --url it starts its own server.", getenv, stderr)
	target := f.String("url", "", "a running server's base URL on this machine, e.g. http://127.0.0.1:8080, or several instances of one cluster separated by commas, over which the clients are spread (default: start one)")
	mode := f.String("mode", "sessions", "sessions (each steps every --interval), play (--players run at full speed while --sessions step), classroom (one presenter, --followers follow), vote (classroom, after every follower answers a question within --vote-window), or abuse (--sessions learners step and a presenter steps for a class while attackers flood setWeight and state, a room's followers flood state, forks pile up and sessions are opened and dropped: docs/benchmarks.md)")
	sessions := &intFlag{v: 100, lo: 1, hi: loadtest.MaxClients}
	f.Var(sessions, "sessions", "stepping sessions")
	players := &intFlag{v: 50, lo: 0, hi: loadtest.MaxClients}
	f.Var(players, "players", "play mode: sessions training at full speed")
	followers := &intFlag{v: 500, lo: 1, hi: loadtest.MaxClients}
	f.Var(followers, "followers", "classroom mode: students following the presenter")
	voteWindow := f.Duration("vote-window", 10*time.Second, "vote mode: the followers' answers are spread over this long (at most 2m)")
	interval := f.Duration("interval", 2*time.Second, "time between one client's steps (classroom: the presenter's)")
	duration := f.Duration("duration", 30*time.Second, "how long to step once everyone is connected (at most 10m)")
	gran := f.String("granularity", "sample", "step granularity")
	events := f.String("events", "objects", "the form of events frames the clients ask for: objects, compact, or mixed (every other client compact)")
	attacks := f.String("attacks", "all", "abuse mode: the attacks to run: all, none (the learners and the presenter alone, a baseline), or some of "+strings.Join(loadtest.Attacks, ", ")+" separated by commas (state: 8 clients flood state on the spiral lesson; followerState: the room's 50 followers flood state; stateAtLimit, followerStateAtLimit: the same at 2 a second, the most a client can send for good without being closed); all is the first five")
	serverArgs := f.String("server-args", "", "extra flags for the server this command starts")
	memory := f.Bool("memory", false, "with --url: measure the server's memory too, from its /metrics (the server this command starts is always measured)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *duration <= 0 || *duration > loadtest.MaxDuration {
		return usageError{"--duration: want a duration above 0 and at most 10m"}
	}
	if *interval < time.Millisecond || *interval > time.Minute {
		return usageError{"--interval: want a duration from 1ms to 1m"}
	}
	if !slices.Contains([]string{"objects", "compact", "mixed"}, *events) {
		return usageError{fmt.Sprintf("--events: want objects, compact or mixed; got %q", *events)}
	}
	if !slices.Contains([]string{"sessions", "play", "classroom", "vote", "abuse"}, *mode) {
		return usageError{fmt.Sprintf("--mode: want sessions, play, classroom, vote or abuse; got %q", *mode)}
	}
	if *voteWindow <= 0 || *voteWindow > 2*time.Minute {
		return usageError{"--vote-window: want a duration above 0 and at most 2m"}
	}
	chosen, err := loadtest.ParseAttacks(*attacks)
	if err != nil {
		return usageError{"--attacks: " + err.Error()}
	}
	if *mode != "abuse" && *attacks != "all" {
		return usageError{fmt.Sprintf("--attacks: only with --mode abuse; the mode is %s", *mode)}
	}
	cfg := loadtest.Config{Mode: *mode, Attacks: chosen, Sessions: sessions.v, Players: players.v, Followers: followers.v,
		Interval: *interval, Duration: *duration, VoteWindow: *voteWindow, Granularity: *gran, Events: *events, Lesson: json.RawMessage(loadtest.BenchLesson), Out: stdout}

	var child *exec.Cmd
	if *target == "" {
		clients := cfg.Sessions + cfg.Players + cfg.Followers + 10
		extra := strings.Fields(*serverArgs)
		if cfg.Mode == "classroom" || cfg.Mode == "vote" {
			// Every follower comes from 127.0.0.1: let them all in at once,
			// as a lecture hall behind one NAT would need.
			n := strconv.Itoa(cfg.Followers + 10)
			extra = append([]string{"--join-burst", n, "--followers-per-address", n}, extra...)
		}
		if cfg.Mode == "abuse" {
			// Learners, the class and the attackers all come from
			// 127.0.0.1: only the per-address handshake and join rates are
			// raised, so that the learners get in; every other limit (memory
			// budgets, turns, state limits, the room's caps) is the default.
			clients = cfg.Sessions + loadtest.AbuseClients + 60
			extra = append([]string{"--handshake-burst", "1000", "--handshake-rate", "1000", "--join-burst", "1000"}, extra...)
		}
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		child, cfg.Base, err = loadtest.StartServer(ctx, exe, clients, extra, stderr)
		if err != nil {
			return err
		}
		defer func() {
			child.Process.Signal(os.Interrupt)
			child.Wait()
		}()
	} else {
		for _, t := range strings.Split(*target, ",") {
			t = strings.TrimSpace(t)
			u, err := url.Parse(t)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				return usageError{fmt.Sprintf("--url: want http://HOST:PORT, got %q", t)}
			}
			if !loadtest.IsLoopback(u.Hostname()) {
				return usageError{fmt.Sprintf("--url: the load test only targets this machine (loopback); %q is not", u.Hostname())}
			}
			if cfg.Base == nil {
				cfg.Base = u
			} else {
				cfg.Others = append(cfg.Others, u)
			}
		}
	}
	pid := 0
	if child != nil {
		pid = child.Process.Pid
	}
	cfg.Memory = child != nil || *memory
	rep, err := loadtest.Run(ctx, cfg, pid)
	if err != nil {
		return err
	}
	line, _ := json.Marshal(rep)
	fmt.Fprintf(stdout, "%s\n", line)
	return nil
}
