// Package loadtest is netstep's load generator: many real websocket clients
// on this machine (sessions stepping, players at full speed, a classroom),
// their latencies, and the server's memory per session. The root command
// `netstep loadtest` reads its flags and calls Run.
package loadtest

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

	"github.com/netstep/netstep/server"
)

// BenchLesson is the speed targets' lesson: 2 inputs → [8, 8] tanh → 1 tanh
// on 500 circle points.
const BenchLesson = `{"title":"Load test: circle, 8-8","seed":1,
 "network":{"layers":[{"size":8,"activation":"tanh"},{"size":8,"activation":"tanh"},{"size":1,"activation":"tanh"}]},
 "data":{"generator":"circle","n":1000,"testRatio":0.5},
 "training":{"loss":"half_squared_error","optimizer":"sgd","learningRate":0.03,"batchSize":10}}`

// Limits that keep a load test bounded whatever its flags say.
const (
	MaxClients  = 5000
	MaxDuration = 10 * time.Minute
)

// Config is one load test: where, which mode, how many clients, how often.
type Config struct {
	Base        *url.URL   // the server measured (memory), and the first instance
	Others      []*url.URL // more instances of one cluster: clients are spread over Base and these in turn
	Mode        string
	Sessions    int           // sessions mode: stepping sessions; play mode: steppers
	Players     int           // play mode: sessions running at full speed
	Followers   int           // classroom and vote modes
	VoteWindow  time.Duration // vote mode: every follower answers once at a random moment in this window
	Interval    time.Duration
	Duration    time.Duration
	Granularity string
	Events      string   // objects, compact, or mixed (every other client compact)
	Memory      bool     // measure the server's memory (from /proc for its own server, else /metrics)
	Attacks     []string // abuse mode: the attacks run (names from Attacks); nil runs those of "all"
	Lesson      json.RawMessage
	Out         io.Writer
}

// Report is what a load test measured; the last line it prints is this
// as JSON.
type Report struct {
	Mode            string  `json:"mode"`
	Clients         int     `json:"clients"`
	Connected       int     `json:"connected"`
	ConnectFailures int64   `json:"connectFailures"`
	Samples         int     `json:"samples"` // latencies measured
	Failures        int64   `json:"failures"`
	P50Ms           float64 `json:"p50Ms"`
	P99Ms           float64 `json:"p99Ms"`
	MaxMs           float64 `json:"maxMs"`
	Within100Ms     float64 `json:"within100ms"` // fraction of samples
	ServerRSSBefore int64   `json:"serverRssBefore,omitempty"`
	ServerRSSIdle   int64   `json:"serverRssIdle,omitempty"`
	BytesPerSession int64   `json:"bytesPerSession,omitempty"` // resident memory per session once all have connected and the figure is steady
	SettleSeconds   float64 `json:"settleSeconds,omitempty"`   // how long the server's memory took to settle after the sessions connected
	// After the stepping (sessions mode), once the server has collected
	// garbage at least once with every session live and then sat idle:
	ServerRSSAfter        int64     `json:"serverRssAfter,omitempty"`
	RSSPerSessionAfter    int64     `json:"rssPerSessionAfter,omitempty"`
	HeapLivePerSession    int64     `json:"heapLivePerSession,omitempty"` // heap marked live by the last GC, per session
	StackPerSession       int64     `json:"stackPerSession,omitempty"`    // goroutine stacks in use, per session
	GoroutinesPerSession  float64   `json:"goroutinesPerSession,omitempty"`
	ServerGCs             int64     `json:"serverGcs,omitempty"`             // garbage collections during the run
	PlayerEpochsPerSecond []float64 `json:"playerEpochsPerSecond,omitempty"` // play mode: min, median, max over the players
	PlayerFramesPerSecond []float64 `json:"playerFramesPerSecond,omitempty"` // play mode: progress frames a second, min, median, max
	// Vote mode: one question to the class before the steps.
	Votes        int     `json:"votes,omitempty"`        // answers sent
	VotesTallied int     `json:"votesTallied,omitempty"` // answers in the presenter's last tally
	TallyLagMs   float64 `json:"tallyLagMs,omitempty"`   // from the last answer sent to the presenter's tally that counts it
	TallyFrames  int     `json:"tallyFrames,omitempty"`  // tally frames the presenter got while the class voted
	VoteSeconds  float64 `json:"voteSeconds,omitempty"`  // from the question to the tally of every vote
	// Abuse mode: the presenter's steps while the attacks ran, and what each
	// attack sent and was answered (error codes), or could not connect.
	PresenterP50Ms    float64                     `json:"presenterP50Ms,omitempty"`
	PresenterP99Ms    float64                     `json:"presenterP99Ms,omitempty"`
	PresenterFailures int64                       `json:"presenterFailures,omitempty"` // steps refused or dropped
	Attacks           map[string]map[string]int64 `json:"attacks,omitempty"`
	FramesReceived    int64                       `json:"framesReceived"`
	BytesReceived     int64                       `json:"bytesReceived"`
	Seconds           float64                     `json:"seconds"`
	ServerGoroutines  int                         `json:"-"`
}

// IsLoopback reports whether host names this machine: a load test sends
// traffic nowhere else.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// instance is the server client i connects to: the instances in turn
// (Base first), so a class or a crowd spreads evenly over a cluster.
func (cfg *Config) instance(i int) *url.URL {
	if n := 1 + len(cfg.Others); i%n > 0 {
		return cfg.Others[i%n-1]
	}
	return cfg.Base
}

// StartServer runs this program's serve command on a free loopback port,
// keeping nothing on disk, and waits until it answers /healthz.
func StartServer(ctx context.Context, exe string, clients int, extra []string, stderr io.Writer) (*exec.Cmd, *url.URL, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", "memory", "--max-sessions", strconv.Itoa(clients)}, extra...)
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

// serverMemory is what the server says about its memory on /metrics,
// with its resident memory from /proc.
type serverMemory struct {
	rss, heapLive, heapInuse, stackInuse int64
	goroutines, gcs                      int64
}

// readServerMemory scrapes the server's /metrics (the Go collector's
// go_gc_heap_live_bytes, go_memstats_*, go_goroutines) and /proc.
func readServerMemory(base *url.URL, pid int) serverMemory {
	m := serverMemory{rss: rss(pid)}
	resp, err := http.Get(base.String() + "/metrics")
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_gc_heap_live_bytes":
			m.heapLive = int64(v)
		case "go_memstats_heap_inuse_bytes":
			m.heapInuse = int64(v)
		case "go_memstats_stack_inuse_bytes":
			m.stackInuse = int64(v)
		case "go_goroutines":
			m.goroutines = int64(v)
		case "go_gc_cycles_total_gc_cycles_total":
			m.gcs = int64(v)
		case "process_resident_memory_bytes":
			if pid == 0 { // a server this command did not start: its own figure
				m.rss = int64(v)
			}
		}
	}
	return m
}

// settle waits until the server's resident memory stops changing (less
// than 1% over a second, twice in a row), at most limit, and returns the
// reading then: right after a burst of connections the runtime still holds
// what the handshakes and first frames used, which is not what an idle
// session costs. gcAfter > 0 also waits for a garbage collection numbered
// above it, so that the live heap is measured with every session there.
func settle(ctx context.Context, base *url.URL, pid int, gcAfter int64, limit time.Duration) (serverMemory, time.Duration) {
	start := time.Now()
	prev := readServerMemory(base, pid)
	calm := 0
	for time.Since(start) < limit && sleepCtx(ctx, time.Second) {
		cur := readServerMemory(base, pid)
		if d := cur.rss - prev.rss; d*100 < cur.rss && -d*100 < cur.rss {
			calm++
		} else {
			calm = 0
		}
		prev = cur
		if calm >= 2 && (gcAfter <= 0 || cur.gcs > gcAfter) {
			break
		}
	}
	return prev, time.Since(start)
}

// sleepCtx sleeps for d, or less if ctx ends (an interrupted load test
// stops at once); it reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
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

// eventsQuery is the query that asks for client i's form of events.
func (cfg Config) eventsQuery(i int) string {
	if cfg.Events == "compact" || (cfg.Events == "mixed" && i%2 == 1) {
		return "events=compact"
	}
	return ""
}

func joinQuery(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "&" + b
}

// dial connects a client with query, presenting creds (if any) as the
// page does: as subprotocols, never in the query.
func dial(ctx context.Context, base *url.URL, query string, creds server.Credentials, frames, bytes *atomic.Int64) (*loadClient, error) {
	h := http.Header{"Origin": {base.Scheme + "://" + base.Host}}
	d := dialer
	if creds != (server.Credentials{}) {
		withCreds := *dialer
		withCreds.Subprotocols = creds.Subprotocols()
		d = &withCreds
	}
	var ws *websocket.Conn
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		ws, _, err = d.DialContext(ctx, wsURL(base, query), h)
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

// Run connects the clients, steps them for cfg.Duration and reports what
// it measured; pid, when not 0, is the server process to read memory from.
func Run(ctx context.Context, cfg Config, pid int) (*Report, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration+5*time.Minute)
	defer cancel()
	rep := &Report{Mode: cfg.Mode}
	var frames, nbytes atomic.Int64
	var failures, connectFailures atomic.Int64
	lat := &latencies{}
	runtime.GC()
	var memBefore serverMemory
	if cfg.Memory {
		memBefore = readServerMemory(cfg.Base, pid)
	}
	rep.ServerRSSBefore = memBefore.rss
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
				c, err := dial(ctx, cfg.instance(i), joinQuery(query, cfg.eventsQuery(i)), server.Credentials{}, &frames, &nbytes)
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
				ok[i] = c.do(map[string]any{"cmd": "load", "lesson": cfg.Lesson}) == nil
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
		sleepCtx(ctx, time.Duration(rand.Int64N(int64(cfg.Interval))))
		for time.Now().Before(until) && ctx.Err() == nil {
			t0 := time.Now()
			if err := c.do(map[string]any{"cmd": "step", "granularity": cfg.Granularity}); err != nil {
				failures.Add(1)
				return
			}
			lat.add(time.Since(t0))
			sleepCtx(ctx, time.Until(t0.Add(cfg.Interval)))
		}
	}

	switch cfg.Mode {
	case "sessions", "play":
		rep.Clients = cfg.Sessions
		steppers := load(connectAll(cfg.Sessions, ""))
		all = append(all, steppers...)
		rep.Connected = len(steppers)
		var idle serverMemory
		if cfg.Memory && cfg.Mode == "sessions" { // memory per session is a sessions-mode figure
			var took time.Duration
			idle, took = settle(ctx, cfg.Base, pid, 0, 20*time.Second)
			rep.SettleSeconds = took.Seconds()
			rep.ServerRSSIdle = idle.rss
			if len(steppers) > 0 {
				rep.BytesPerSession = (rep.ServerRSSIdle - rep.ServerRSSBefore) / int64(len(steppers))
			}
		}
		var players []*loadClient
		var rates []playerRate
		var from time.Time
		if cfg.Mode == "play" {
			rep.Clients += cfg.Players
			players = load(connectAll(cfg.Players, ""))
			all = append(all, players...)
			rep.Connected += len(players)
			rates = make([]playerRate, len(players))
			from = time.Now().Add(time.Second) // training gets going first
			for i, p := range players {
				msg, _ := json.Marshal(map[string]any{"cmd": "run", "stepsPerSecond": 0, "granularity": "epoch"})
				p.ws.WriteMessage(websocket.TextMessage, msg)
				go func() { // keep reading so the server never sees a slow reader
					for {
						frame, err := p.read()
						if err != nil {
							return
						}
						rates[i].see(frame, from)
					}
				}()
			}
		}
		memStart := readServerMemory(cfg.Base, pid)
		until := time.Now().Add(cfg.Duration)
		// The live heap a collection finds includes frames in flight and
		// pooled buffers; the smallest any collection of the run found is
		// the nearest to what the sessions themselves hold.
		minLive := make(chan int64, 1)
		go func() {
			least := int64(0)
			for time.Now().Before(until) && cfg.Memory && sleepCtx(ctx, time.Second) {
				if m := readServerMemory(cfg.Base, pid); m.gcs > memStart.gcs && (least == 0 || m.heapLive < least) {
					least = m.heapLive
				}
			}
			minLive <- least
		}()
		var wg sync.WaitGroup
		for _, c := range steppers {
			wg.Add(1)
			go func() { defer wg.Done(); stepLoop(c, until) }()
		}
		wg.Wait()
		leastLive := <-minLive
		if cfg.Mode == "play" {
			summarisePlayers(rep, rates)
		}
		if cfg.Mode == "sessions" && cfg.Memory {
			after, _ := settle(ctx, cfg.Base, pid, memStart.gcs, 20*time.Second)
			n := int64(len(steppers))
			rep.ServerGCs = after.gcs - memStart.gcs
			if n > 0 {
				rep.ServerRSSAfter = after.rss
				rep.RSSPerSessionAfter = (after.rss - rep.ServerRSSBefore) / n
				base := memBefore.heapLive
				if base == 0 { // no collection before the sessions came
					base = memBefore.heapInuse
				}
				live := after.heapLive
				if leastLive > 0 {
					live = min(live, leastLive)
				}
				rep.HeapLivePerSession = (live - base) / n
				rep.StackPerSession = (after.stackInuse - memBefore.stackInuse) / n
				rep.GoroutinesPerSession = float64(after.goroutines-memBefore.goroutines) / float64(n)
			}
		}
	case "abuse":
		if err := runAbuse(ctx, cfg, rep, lat, stepLoop, connectAll, load, &all); err != nil {
			return nil, err
		}
	case "classroom", "vote":
		if err := runClassroom(ctx, cfg, rep, lat, &frames, &nbytes, &failures, &connectFailures, &all); err != nil {
			return nil, err
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.Failures = failures.Load()
	rep.ConnectFailures = connectFailures.Load()
	rep.FramesReceived, rep.BytesReceived = frames.Load(), nbytes.Load()
	summarise(rep, lat.all)
	fmt.Fprintf(cfg.Out, "%s: %d of %d clients connected; %d latencies: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %.2f%% within 100 ms; %d failures\n",
		rep.Mode, rep.Connected, rep.Clients, rep.Samples, rep.P50Ms, rep.P99Ms, rep.MaxMs, 100*rep.Within100Ms, rep.Failures+rep.ConnectFailures)
	if rep.BytesPerSession > 0 {
		fmt.Fprintf(cfg.Out, "server memory: %.1f MiB before, %.1f MiB once all had connected and loaded (steady after %.0f s; the burst's garbage not yet collected): %.1f KiB per session\n",
			float64(rep.ServerRSSBefore)/(1<<20), float64(rep.ServerRSSIdle)/(1<<20), rep.SettleSeconds, float64(rep.BytesPerSession)/1024)
	}
	if rep.ServerRSSAfter > 0 {
		fmt.Fprintf(cfg.Out, "after stepping, idle again (%d GCs in the run): %.1f MiB resident, %.1f KiB per session: heap live %.1f KiB, stacks %.1f KiB, %.1f goroutines\n",
			rep.ServerGCs, float64(rep.ServerRSSAfter)/(1<<20), float64(rep.RSSPerSessionAfter)/1024,
			float64(rep.HeapLivePerSession)/1024, float64(rep.StackPerSession)/1024, rep.GoroutinesPerSession)
	}
	if len(rep.PlayerEpochsPerSecond) == 3 {
		fmt.Fprintf(cfg.Out, "players: epochs a second min %.1f, median %.1f, max %.1f; progress frames a second min %.1f, median %.1f, max %.1f\n",
			rep.PlayerEpochsPerSecond[0], rep.PlayerEpochsPerSecond[1], rep.PlayerEpochsPerSecond[2],
			rep.PlayerFramesPerSecond[0], rep.PlayerFramesPerSecond[1], rep.PlayerFramesPerSecond[2])
	}
	return rep, nil
}

// playerRate follows one playing session's progress frames: how many
// epochs it trained and how many frames it got in the measured window.
type playerRate struct {
	mu                    sync.Mutex
	firstAt, lastAt       time.Time
	firstEpoch, lastEpoch int64
	frames                int
}

var progressHead = []byte(`{"type":"progress","position":{`)

// see notes a frame if it is progress received after from.
func (r *playerRate) see(frame []byte, from time.Time) {
	if !bytes.HasPrefix(frame, progressHead) {
		return
	}
	now := time.Now()
	if now.Before(from) {
		return
	}
	i := bytes.Index(frame, []byte(`"epoch":`))
	if i < 0 {
		return
	}
	rest := frame[i+len(`"epoch":`):]
	j := bytes.IndexAny(rest, ",}")
	epoch, err := strconv.ParseInt(string(rest[:max(j, 0)]), 10, 64)
	if err != nil {
		return
	}
	r.mu.Lock()
	if r.frames == 0 {
		r.firstAt, r.firstEpoch = now, epoch
	}
	r.lastAt, r.lastEpoch = now, epoch
	r.frames++
	r.mu.Unlock()
}

// summarisePlayers reports the spread of epochs a second and of progress
// frames a second over the players, from their frames so far: sessions
// that share the cores fairly train at about the same speed.
func summarisePlayers(rep *Report, rates []playerRate) {
	var eps, fps []float64
	for i := range rates {
		r := &rates[i]
		r.mu.Lock()
		if r.frames > 1 && r.lastAt.After(r.firstAt) {
			secs := r.lastAt.Sub(r.firstAt).Seconds()
			eps = append(eps, float64(r.lastEpoch-r.firstEpoch)/secs)
			fps = append(fps, float64(r.frames-1)/secs)
		} else {
			eps, fps = append(eps, 0), append(fps, 0)
		}
		r.mu.Unlock()
	}
	spread := func(v []float64) []float64 {
		if len(v) == 0 {
			return nil
		}
		slices.Sort(v)
		round := func(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
		return []float64{round(v[0]), round(v[len(v)/2]), round(v[len(v)-1])}
	}
	rep.PlayerEpochsPerSecond, rep.PlayerFramesPerSecond = spread(eps), spread(fps)
}

func summarise(rep *Report, all []time.Duration) {
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
func runClassroom(ctx context.Context, cfg Config, rep *Report, lat *latencies, frames, nbytes, failures, connectFailures *atomic.Int64, all *[]*loadClient) error {
	resp, err := http.Post(cfg.Base.String()+"/api/rooms", "application/json", nil)
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
	presenter, err := dial(ctx, cfg.Base, "room="+room.Code, server.Credentials{Token: room.PresenterToken}, frames, nbytes)
	if err != nil {
		return fmt.Errorf("presenter: %w", err)
	}
	*all = append(*all, presenter)
	if err := presenter.do(map[string]any{"cmd": "load", "lesson": cfg.Lesson}); err != nil {
		return fmt.Errorf("presenter load: %w", err)
	}
	rep.Clients = cfg.Followers + 1
	// Followers, each reading everything; sent[n] is when step n was sent.
	var sentMu sync.Mutex
	var sent []time.Time
	followers := make([]*loadClient, 0, cfg.Followers)
	var fmu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := 0; i < cfg.Followers; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			c, err := dial(ctx, cfg.instance(i), joinQuery("room="+room.Code, cfg.eventsQuery(i)), server.Credentials{}, frames, nbytes)
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
		fmt.Fprintln(cfg.Out, "warning: some followers had not read their joining state after 30s; stepping anyway")
	}
	if cfg.Mode == "vote" {
		if err := runVote(ctx, cfg, rep, presenter, followers); err != nil {
			return err
		}
	}
	until := time.Now().Add(cfg.Duration)
	for time.Now().Before(until) && ctx.Err() == nil {
		t0 := time.Now()
		sentMu.Lock()
		sent = append(sent, t0)
		sentMu.Unlock()
		if err := presenter.do(map[string]any{"cmd": "step", "granularity": cfg.Granularity}); err != nil {
			failures.Add(1)
			break
		}
		sleepCtx(ctx, time.Until(t0.Add(cfg.Interval)))
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

// runVote puts a quick question to the class (up or down on the first
// weight) and has every follower answer it once, at a random moment in
// cfg.VoteWindow, while the presenter reads its tallies: how long after
// the last answer the presenter's tally counts every vote, and how many
// tally frames it took. Then the presenter reveals, and the steps follow.
func runVote(ctx context.Context, cfg Config, rep *Report, presenter *loadClient, followers []*loadClient) error {
	asked := time.Now()
	if err := presenter.do(map[string]any{"cmd": "ask", "layer": 0, "to": 0, "from": 0}); err != nil {
		return fmt.Errorf("presenter ask: %w", err)
	}
	var last atomic.Int64 // unix nanoseconds of the last answer sent
	var sent atomic.Int64
	for i, c := range followers {
		go func() {
			if !sleepCtx(ctx, rand.N(cfg.VoteWindow)) {
				return
			}
			msg := fmt.Sprintf(`{"cmd":"answer","question":1,"choice":%d}`, i%2)
			c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			// The follower's reader goroutine reads; this is its only writer.
			if c.ws.WriteMessage(websocket.TextMessage, []byte(msg)) == nil {
				now := time.Now().UnixNano()
				for {
					old := last.Load()
					if now <= old || last.CompareAndSwap(old, now) {
						break
					}
				}
				sent.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(cfg.VoteWindow + 30*time.Second)
	for time.Now().Before(deadline) {
		frame, err := presenter.read()
		if err != nil {
			return fmt.Errorf("presenter reading tallies: %w", err)
		}
		if !bytes.HasPrefix(frame, []byte(`{"type":"tally"`)) {
			continue
		}
		rep.TallyFrames++
		var t struct {
			Answered int `json:"answered"`
		}
		json.Unmarshal(frame, &t)
		rep.VotesTallied = t.Answered
		if t.Answered >= len(followers) {
			now := time.Now()
			rep.TallyLagMs = float64(now.UnixNano()-last.Load()) / 1e6
			rep.VoteSeconds = now.Sub(asked).Seconds()
			break
		}
	}
	rep.Votes = int(sent.Load())
	if err := presenter.do(map[string]any{"cmd": "reveal", "answer": nil}); err != nil {
		return fmt.Errorf("presenter reveal: %w", err)
	}
	fmt.Fprintf(cfg.Out, "vote: %d answers over %v; the presenter's tally counted %d, %.0f ms after the last, in %d tally frames\n",
		rep.Votes, cfg.VoteWindow, rep.VotesTallied, rep.TallyLagMs, rep.TallyFrames)
	return nil
}
