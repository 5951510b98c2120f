package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// benchLesson is the speed targets' lesson: 2 inputs → [8, 8] tanh → 1 tanh
// on 500 circle points.
const benchLesson = `{"title":"Load test: circle, 8-8","seed":1,
 "network":{"layers":[{"size":8,"activation":"tanh"},{"size":8,"activation":"tanh"},{"size":1,"activation":"tanh"}]},
 "data":{"generator":"circle","n":1000,"testRatio":0.5},
 "training":{"loss":"half_squared_error","optimizer":"sgd","learningRate":0.03,"batchSize":10}}`

// Limits that keep a load test bounded whatever its flags say.
const (
	maxLoadClients  = 5000
	maxLoadDuration = 10 * time.Minute
)

type loadConfig struct {
	base        *url.URL
	mode        string
	sessions    int // sessions mode: stepping sessions; play mode: steppers
	players     int // play mode: sessions running at full speed
	followers   int // classroom mode
	interval    time.Duration
	duration    time.Duration
	granularity string
	lesson      json.RawMessage
	out         io.Writer
}

// loadReport is what a load test measured; the last line it prints is this
// as JSON.
type loadReport struct {
	Mode             string  `json:"mode"`
	Clients          int     `json:"clients"`
	Connected        int     `json:"connected"`
	ConnectFailures  int64   `json:"connectFailures"`
	Samples          int     `json:"samples"` // latencies measured
	Failures         int64   `json:"failures"`
	P50Ms            float64 `json:"p50Ms"`
	P99Ms            float64 `json:"p99Ms"`
	MaxMs            float64 `json:"maxMs"`
	Within100Ms      float64 `json:"within100ms"` // fraction of samples
	ServerRSSBefore  int64   `json:"serverRssBefore,omitempty"`
	ServerRSSIdle    int64   `json:"serverRssIdle,omitempty"`
	BytesPerSession  int64   `json:"bytesPerSession,omitempty"`
	FramesReceived   int64   `json:"framesReceived"`
	BytesReceived    int64   `json:"bytesReceived"`
	Seconds          float64 `json:"seconds"`
	ServerGoroutines int     `json:"-"`
}

func cmdLoadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("loadtest", "Open many sessions over real websockets on this machine, step them, and report latency, failures and the server's memory per session. Without --url it starts its own server.", getenv, stderr)
	target := f.String("url", "", "a running server's base URL on this machine, e.g. http://127.0.0.1:8080 (default: start one)")
	mode := f.String("mode", "sessions", "sessions (each steps every --interval), play (--players run at full speed while --sessions step), or classroom (one presenter, --followers follow)")
	sessions := &intFlag{v: 100, lo: 1, hi: maxLoadClients}
	f.Var(sessions, "sessions", "stepping sessions")
	players := &intFlag{v: 50, lo: 0, hi: maxLoadClients}
	f.Var(players, "players", "play mode: sessions training at full speed")
	followers := &intFlag{v: 500, lo: 1, hi: maxLoadClients}
	f.Var(followers, "followers", "classroom mode: students following the presenter")
	interval := f.Duration("interval", 2*time.Second, "time between one client's steps (classroom: the presenter's)")
	duration := f.Duration("duration", 30*time.Second, "how long to step once everyone is connected (at most 10m)")
	gran := f.String("granularity", "sample", "step granularity")
	serverArgs := f.String("server-args", "", "extra flags for the server this command starts")
	if err := f.parse(args); err != nil {
		return err
	}
	if *duration <= 0 || *duration > maxLoadDuration {
		return usageError{"--duration: want a duration above 0 and at most 10m"}
	}
	if *interval < time.Millisecond || *interval > time.Minute {
		return usageError{"--interval: want a duration from 1ms to 1m"}
	}
	if !slices.Contains([]string{"sessions", "play", "classroom"}, *mode) {
		return usageError{fmt.Sprintf("--mode: want sessions, play or classroom; got %q", *mode)}
	}
	cfg := loadConfig{mode: *mode, sessions: sessions.v, players: players.v, followers: followers.v,
		interval: *interval, duration: *duration, granularity: *gran, lesson: json.RawMessage(benchLesson), out: stdout}

	var child *exec.Cmd
	if *target == "" {
		clients := cfg.sessions + cfg.players + cfg.followers + 10
		extra := strings.Fields(*serverArgs)
		if cfg.mode == "classroom" {
			// Every follower comes from 127.0.0.1: let them all in at once,
			// as a lecture hall behind one NAT would need.
			extra = append([]string{"--join-burst", strconv.Itoa(cfg.followers + 10)}, extra...)
		}
		var err error
		child, cfg.base, err = startServer(ctx, clients, extra, stderr)
		if err != nil {
			return err
		}
		defer func() {
			child.Process.Signal(os.Interrupt)
			child.Wait()
		}()
	} else {
		u, err := url.Parse(*target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return usageError{fmt.Sprintf("--url: want http://HOST:PORT, got %q", *target)}
		}
		if !isLoopback(u.Hostname()) {
			return usageError{fmt.Sprintf("--url: the load test only targets this machine (loopback); %q is not", u.Hostname())}
		}
		cfg.base = u
	}
	pid := 0
	if child != nil {
		pid = child.Process.Pid
	}
	rep, err := runLoad(ctx, cfg, pid)
	if err != nil {
		return err
	}
	line, _ := json.Marshal(rep)
	fmt.Fprintf(stdout, "%s\n", line)
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// startServer runs this program's serve command on a free loopback port
// and waits until it answers /healthz.
func startServer(ctx context.Context, clients int, extra []string, stderr io.Writer) (*exec.Cmd, *url.URL, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--max-sessions", strconv.Itoa(clients)}, extra...)
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	found := make(chan *url.URL, 1)
	go func() {
		re := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" && !sent {
				u, _ := url.Parse(m)
				found <- u
				sent = true
			}
		}
	}()
	select {
	case u := <-found:
		for i := 0; i < 100; i++ {
			if resp, err := http.Get(u.String() + "/healthz"); err == nil {
				resp.Body.Close()
				return cmd, u, nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Kill()
		return nil, nil, errors.New("the server did not answer /healthz")
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		return nil, nil, errors.New("the server did not print its address within 20s")
	}
}

// rss reads a process's resident memory from /proc.
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// loadClient is one websocket client that sends a command and reads until
// the matching done.
type loadClient struct {
	ws     *websocket.Conn
	frames *atomic.Int64
	bytes  *atomic.Int64
	next   int
}

var dialer = &websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}

func wsURL(base *url.URL, query string) string {
	u := *base
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = "/ws"
	u.RawQuery = query
	return u.String()
}

func dial(ctx context.Context, base *url.URL, query string, frames, bytes *atomic.Int64) (*loadClient, error) {
	h := http.Header{"Origin": {base.Scheme + "://" + base.Host}}
	var ws *websocket.Conn
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		ws, _, err = dialer.DialContext(ctx, wsURL(base, query), h)
		if err == nil {
			break
		}
		time.Sleep(time.Duration(200*(attempt+1)) * time.Millisecond) // handshakes are rate limited
	}
	if err != nil {
		return nil, err
	}
	c := &loadClient{ws: ws, frames: frames, bytes: bytes}
	if _, err := c.read(); err != nil { // hello
		ws.Close()
		return nil, err
	}
	return c, nil
}

func (c *loadClient) read() ([]byte, error) {
	c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, msg, err := c.ws.ReadMessage()
	if err == nil {
		c.frames.Add(1)
		c.bytes.Add(int64(len(msg)))
	}
	return msg, err
}

// do sends a command and reads until its done or error.
func (c *loadClient) do(cmd map[string]any) error {
	c.next++
	id := strconv.Itoa(c.next)
	cmd["id"] = id
	msg, _ := json.Marshal(cmd)
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		return err
	}
	wantDone := []byte(`{"type":"done","id":"` + id + `"`)
	wantErr := []byte(`{"type":"error","id":"` + id + `"`)
	for {
		frame, err := c.read()
		if err != nil {
			return err
		}
		if bytes.HasPrefix(frame, wantDone) {
			return nil
		}
		if bytes.HasPrefix(frame, wantErr) {
			return fmt.Errorf("%s", frame)
		}
	}
}

// latencies collects measurements from many goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d)
	l.mu.Unlock()
}

func runLoad(ctx context.Context, cfg loadConfig, pid int) (*loadReport, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration+5*time.Minute)
	defer cancel()
	rep := &loadReport{Mode: cfg.mode}
	var frames, nbytes atomic.Int64
	var failures, connectFailures atomic.Int64
	lat := &latencies{}
	runtime.GC()
	rep.ServerRSSBefore = rss(pid)
	start := time.Now()

	connectAll := func(n int, query string) []*loadClient {
		clients := make([]*loadClient, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32) // open at most 32 at once
		for i := range clients {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c, err := dial(ctx, cfg.base, query, &frames, &nbytes)
				if err != nil {
					connectFailures.Add(1)
					return
				}
				clients[i] = c
			}()
		}
		wg.Wait()
		return slices.DeleteFunc(clients, func(c *loadClient) bool { return c == nil })
	}
	load := func(clients []*loadClient) []*loadClient {
		var wg sync.WaitGroup
		ok := make([]bool, len(clients))
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok[i] = c.do(map[string]any{"cmd": "load", "lesson": cfg.lesson}) == nil
			}()
		}
		wg.Wait()
		var kept []*loadClient
		for i, c := range clients {
			if ok[i] {
				kept = append(kept, c)
			} else {
				failures.Add(1)
				c.ws.Close()
			}
		}
		return kept
	}
	var all []*loadClient
	defer func() {
		for _, c := range all {
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			c.ws.Close()
		}
	}()

	stepLoop := func(c *loadClient, until time.Time) {
		// Spread the clients' first steps over one interval.
		time.Sleep(time.Duration(rand.Int64N(int64(cfg.interval))))
		for time.Now().Before(until) && ctx.Err() == nil {
			t0 := time.Now()
			if err := c.do(map[string]any{"cmd": "step", "granularity": cfg.granularity}); err != nil {
				failures.Add(1)
				return
			}
			lat.add(time.Since(t0))
			time.Sleep(time.Until(t0.Add(cfg.interval)))
		}
	}

	switch cfg.mode {
	case "sessions", "play":
		rep.Clients = cfg.sessions
		steppers := load(connectAll(cfg.sessions, ""))
		all = append(all, steppers...)
		rep.Connected = len(steppers)
		time.Sleep(time.Second)
		rep.ServerRSSIdle = rss(pid)
		if rep.ServerRSSIdle > 0 && len(steppers) > 0 {
			rep.BytesPerSession = (rep.ServerRSSIdle - rep.ServerRSSBefore) / int64(len(steppers))
		}
		var players []*loadClient
		if cfg.mode == "play" {
			rep.Clients += cfg.players
			players = load(connectAll(cfg.players, ""))
			all = append(all, players...)
			rep.Connected += len(players)
			for _, p := range players {
				msg, _ := json.Marshal(map[string]any{"cmd": "run", "stepsPerSecond": 0, "granularity": "epoch"})
				p.ws.WriteMessage(websocket.TextMessage, msg)
				go func() { // keep reading so the server never sees a slow reader
					for {
						if _, err := p.read(); err != nil {
							return
						}
					}
				}()
			}
		}
		until := time.Now().Add(cfg.duration)
		var wg sync.WaitGroup
		for _, c := range steppers {
			wg.Add(1)
			go func() { defer wg.Done(); stepLoop(c, until) }()
		}
		wg.Wait()
	case "classroom":
		if err := runClassroom(ctx, cfg, rep, lat, &frames, &nbytes, &failures, &connectFailures, &all); err != nil {
			return nil, err
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.Failures = failures.Load()
	rep.ConnectFailures = connectFailures.Load()
	rep.FramesReceived, rep.BytesReceived = frames.Load(), nbytes.Load()
	summarise(rep, lat.all)
	fmt.Fprintf(cfg.out, "%s: %d of %d clients connected; %d latencies: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %.2f%% within 100 ms; %d failures\n",
		rep.Mode, rep.Connected, rep.Clients, rep.Samples, rep.P50Ms, rep.P99Ms, rep.MaxMs, 100*rep.Within100Ms, rep.Failures+rep.ConnectFailures)
	if rep.BytesPerSession > 0 {
		fmt.Fprintf(cfg.out, "server memory: %.1f MiB before, %.1f MiB with the sessions idle: %.1f KiB per session\n",
			float64(rep.ServerRSSBefore)/(1<<20), float64(rep.ServerRSSIdle)/(1<<20), float64(rep.BytesPerSession)/1024)
	}
	return rep, nil
}

func summarise(rep *loadReport, all []time.Duration) {
	rep.Samples = len(all)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	rep.P50Ms = ms(all[len(all)/2])
	rep.P99Ms = ms(all[min(len(all)-1, len(all)*99/100)])
	rep.MaxMs = ms(all[len(all)-1])
	n := 0
	for _, d := range all {
		if d <= 100*time.Millisecond {
			n++
		}
	}
	rep.Within100Ms = float64(n) / float64(len(all))
}

// runClassroom opens a room, connects the followers, and has the presenter
// step; every follower's receipt of every step's events is one latency.
func runClassroom(ctx context.Context, cfg loadConfig, rep *loadReport, lat *latencies, frames, nbytes, failures, connectFailures *atomic.Int64, all *[]*loadClient) error {
	resp, err := http.Post(cfg.base.String()+"/api/rooms", "application/json", nil)
	if err != nil {
		return fmt.Errorf("creating a room: %w", err)
	}
	var room struct {
		Code           string `json:"code"`
		PresenterToken string `json:"presenterToken"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&room)
	resp.Body.Close()
	if err != nil || room.Code == "" {
		return fmt.Errorf("creating a room: HTTP %d, %v", resp.StatusCode, err)
	}
	presenter, err := dial(ctx, cfg.base, "room="+room.Code+"&token="+url.QueryEscape(room.PresenterToken), frames, nbytes)
	if err != nil {
		return fmt.Errorf("presenter: %w", err)
	}
	*all = append(*all, presenter)
	if err := presenter.do(map[string]any{"cmd": "load", "lesson": cfg.lesson}); err != nil {
		return fmt.Errorf("presenter load: %w", err)
	}
	rep.Clients = cfg.followers + 1
	// Followers, each reading everything; sent[n] is when step n was sent.
	var sentMu sync.Mutex
	var sent []time.Time
	followers := make([]*loadClient, 0, cfg.followers)
	var fmu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := 0; i < cfg.followers; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			c, err := dial(ctx, cfg.base, "room="+room.Code, frames, nbytes)
			<-sem
			if err != nil {
				connectFailures.Add(1)
				return
			}
			fmu.Lock()
			followers = append(followers, c)
			fmu.Unlock()
		}()
	}
	wg.Wait()
	*all = append(*all, followers...)
	rep.Connected = len(followers) + 1
	var readers sync.WaitGroup
	// Each follower is settled once it has read what joining sends (hello,
	// the full state, the room frame): stepping starts when all are, so
	// the figures measure the fan-out of steps, not the followers' backlog
	// of joining snapshots.
	var settled sync.WaitGroup
	for _, c := range followers {
		readers.Add(1)
		settled.Add(1)
		go func() {
			defer readers.Done()
			seen := 0
			joined := false
			defer func() {
				if !joined {
					settled.Done()
				}
			}()
			for {
				frame, err := c.read()
				if err != nil {
					return
				}
				if !joined && bytes.HasPrefix(frame, []byte(`{"type":"room"`)) {
					joined = true
					settled.Done()
				}
				if bytes.HasPrefix(frame, []byte(`{"type":"events"`)) {
					now := time.Now()
					sentMu.Lock()
					if seen < len(sent) {
						lat.add(now.Sub(sent[seen]))
					}
					sentMu.Unlock()
					seen++
				}
			}
		}()
	}
	settledAll := make(chan struct{})
	go func() { settled.Wait(); close(settledAll) }()
	select {
	case <-settledAll:
	case <-time.After(30 * time.Second):
		fmt.Fprintln(cfg.out, "warning: some followers had not read their joining state after 30s; stepping anyway")
	}
	until := time.Now().Add(cfg.duration)
	for time.Now().Before(until) && ctx.Err() == nil {
		t0 := time.Now()
		sentMu.Lock()
		sent = append(sent, t0)
		sentMu.Unlock()
		if err := presenter.do(map[string]any{"cmd": "step", "granularity": cfg.granularity}); err != nil {
			failures.Add(1)
			break
		}
		time.Sleep(time.Until(t0.Add(cfg.interval)))
	}
	time.Sleep(2 * time.Second) // let the last frames arrive
	for _, c := range followers {
		c.ws.Close()
	}
	readers.Wait()
	want := len(sent) * len(followers)
	lat.mu.Lock()
	if missing := want - len(lat.all); missing > 0 {
		failures.Add(int64(missing))
	}
	lat.mu.Unlock()
	return nil
}
