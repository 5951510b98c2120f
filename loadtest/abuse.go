package loadtest

// Abuse mode: the attacks of issue 18 (a client flooding setWeight, clients
// flooding state on the largest 2-D lesson, a room's followers flooding
// state, forks of a room, sessions opened and dropped at once) run side by
// side with well-behaved learners stepping and a presenter stepping for a
// class, whose latencies are what the report measures.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/server"
)

// The attackers, as the issue found them.
const (
	abuseEditors     = 4  // setWeight floods
	abuseStaters     = 8  // state floods on the largest 2-D lesson
	abuseFollowers   = 50 // a room's followers sending state
	abuseForks       = 15 // "explore on my own" forks of that room
	abuseFloodPerSec = 50 // each flooder's commands a second: the server's default command limit
	// The at-limit state floods: 2 a second, the server's 1 a second and
	// one refused (a strike), which a client can keep up for good; a
	// faster one is closed within seconds.
	abuseStatesAtLimit = 2
	abuseHitsPerSec    = 10 // sessions opened with a lesson and dropped at once
)

// Attacks names abuse mode's attacks, in the order they start: setWeight
// (clients flooding setWeight), state (clients flooding state on the
// spiral lesson), followerState (a room's followers flooding state), forks
// (forks of that room), hitAndRun (sessions opened with a lesson and
// dropped at once), and stateAtLimit and followerStateAtLimit (the state
// floods at the most a client can send for good without being closed).
// --attacks picks some of them, so that each of the issue's cases can be
// measured alone; "all" is the first five, the attacks issue 18 found.
var Attacks = []string{"setWeight", "state", "followerState", "forks", "hitAndRun", "stateAtLimit", "followerStateAtLimit"}

// issueAttacks are the attacks "all" runs: those issue 18 found.
var issueAttacks = Attacks[:5]

// ParseAttacks reads a list of attacks: "all" (the first five of
// Attacks), "none" (the learners and the presenter alone: the same run's
// baseline), or names from Attacks separated by commas, each at most once.
func ParseAttacks(list string) ([]string, error) {
	want := "want all, none, or some of " + strings.Join(Attacks, ", ") + " separated by commas"
	switch strings.TrimSpace(list) {
	case "all":
		return slices.Clone(issueAttacks), nil
	case "none":
		return []string{}, nil
	}
	var out []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return nil, fmt.Errorf("%s; got %q", want, list)
		case !slices.Contains(Attacks, name):
			return nil, fmt.Errorf("%s; got %q, which is not one", want, name)
		case slices.Contains(out, name):
			return nil, fmt.Errorf("%q given twice", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// AbuseClients is how many sessions abuse mode may hold at once besides the
// learners: the server it starts allows that many more.
const AbuseClients = abuseEditors + 2*abuseStaters + abuseForks + 2 + 4*abuseHitsPerSec

// attack counts what one kind of attacker sent and what it was answered.
type attack struct {
	sent   atomic.Int64
	errors sync.Map // code → *atomic.Int64
}

var errorCode = regexp.MustCompile(`^\{"type":"error"(?:,"id":(?:"[^"]*"|[0-9]+))?,"code":"([a-z_]+)"`)

func (a *attack) saw(frame []byte) {
	if m := errorCode.FindSubmatch(frame); m != nil {
		n, _ := a.errors.LoadOrStore(string(m[1]), new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}
}

func (a *attack) report() map[string]int64 {
	out := map[string]int64{"sent": a.sent.Load()}
	a.errors.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// drain reads c until it closes, noting errors.
func drain(c *loadClient, a *attack) {
	for {
		frame, err := c.read()
		if err != nil {
			return
		}
		if a != nil {
			a.saw(frame)
		}
	}
}

// flood sends cmd(i) perSec times a second on c until ctx ends or the
// server closes the connection.
func flood(ctx context.Context, c *loadClient, a *attack, perSec int, cmd func(i int) string) {
	tick := time.NewTicker(time.Second / time.Duration(perSec))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if c.ws.WriteMessage(websocket.TextMessage, []byte(cmd(i))) != nil {
			return
		}
		a.sent.Add(1)
	}
}

// openRoom opens a classroom room with a built-in lesson.
func openRoom(base *url.URL, lesson string) (code, token string, err error) {
	req, _ := http.NewRequest(http.MethodPost, base.String()+"/api/rooms", bytes.NewReader([]byte(`{"lesson":"`+lesson+`"}`)))
	req.Header.Set("Origin", base.Scheme+"://"+base.Host)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct{ Code, PresenterToken string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &out) != nil {
		return "", "", fmt.Errorf("opening a room: %d %s", resp.StatusCode, body)
	}
	return out.Code, out.PresenterToken, nil
}

// runAbuse connects the learners and the class, starts the attacks, and
// measures the learners' steps (the report's latencies) and the
// presenter's (PresenterP50Ms, PresenterP99Ms) while they run.
func runAbuse(ctx context.Context, cfg Config, rep *Report, lat *latencies, stepLoop func(*loadClient, time.Time), connectAll func(int, string) []*loadClient, load func([]*loadClient) []*loadClient, all *[]*loadClient) error {
	base := cfg.Base
	dialOne := func(query string, creds server.Credentials) (*loadClient, error) {
		return dial(ctx, base, query, creds, new(atomic.Int64), new(atomic.Int64))
	}
	rep.Clients = cfg.Sessions
	learners := load(connectAll(cfg.Sessions, ""))
	*all = append(*all, learners...)
	rep.Connected = len(learners)

	code, token, err := openRoom(base, "spiral")
	if err != nil {
		return err
	}
	presenter, err := dialOne("room="+code, server.Credentials{Token: token})
	if err != nil {
		return fmt.Errorf("the presenter: %w", err)
	}
	*all = append(*all, presenter)

	chosen := cfg.Attacks
	if chosen == nil {
		chosen = issueAttacks
	}
	attacks := map[string]*attack{}
	for _, name := range chosen {
		attacks[name] = &attack{}
	}
	on := func(name string) bool { return attacks[name] != nil }
	count := func(name string, n int) int { // how many clients attack name: n, or none when it is not chosen
		if on(name) {
			return n
		}
		return 0
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	spawn := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	attacker := func(query string, a *attack) *loadClient {
		c, err := dialOne(query, server.Credentials{})
		if err != nil {
			a.saw([]byte(`{"type":"error","code":"connect_failed"`))
			return nil
		}
		*all = append(*all, c)
		go drain(c, a)
		return c
	}
	for range count("setWeight", abuseEditors) {
		if c := attacker("lesson=spiral", attacks["setWeight"]); c != nil {
			spawn(func() {
				flood(actx, c, attacks["setWeight"], abuseFloodPerSec, func(i int) string {
					return fmt.Sprintf(`{"cmd":"setWeight","id":%d,"layer":0,"to":%d,"from":%d,"value":%g}`, i, i%8, i%7, float64(i%1000)/1000)
				})
			})
		}
	}
	askState := func(i int) string { return fmt.Sprintf(`{"cmd":"state","id":%d}`, i) }
	for _, f := range []struct {
		name, query string
		clients     int
		perSec      int
	}{
		{"state", "lesson=spiral", abuseStaters, abuseFloodPerSec},
		{"followerState", "room=" + code, abuseFollowers, abuseFloodPerSec},
		{"stateAtLimit", "lesson=spiral", abuseStaters, abuseStatesAtLimit},
		{"followerStateAtLimit", "room=" + code, abuseFollowers, abuseStatesAtLimit},
	} {
		for range count(f.name, f.clients) {
			if c := attacker(f.query, attacks[f.name]); c != nil {
				spawn(func() { flood(actx, c, attacks[f.name], f.perSec, askState) })
			}
		}
	}
	for range count("forks", abuseForks) {
		if attacker("fork="+code, attacks["forks"]) != nil {
			attacks["forks"].sent.Add(1)
		}
	}
	spawn(func() {
		if !on("hitAndRun") {
			return
		}
		tick := time.NewTicker(time.Second / abuseHitsPerSec)
		defer tick.Stop()
		for {
			select {
			case <-actx.Done():
				return
			case <-tick.C:
			}
			ws, _, err := dialer.DialContext(actx, wsURL(base, "lesson=xor"), http.Header{"Origin": {base.Scheme + "://" + base.Host}})
			attacks["hitAndRun"].sent.Add(1)
			if err != nil {
				attacks["hitAndRun"].saw([]byte(`{"type":"error","code":"refused"`))
				continue
			}
			ws.Close()
		}
	})

	// The well-behaved: learners stepping, and the presenter stepping for
	// the class, measured while the attacks run.
	time.Sleep(time.Second) // the floods get going
	until := time.Now().Add(cfg.Duration)
	var pres []time.Duration
	var lwg sync.WaitGroup
	lwg.Add(1)
	go func() {
		defer lwg.Done()
		for time.Now().Before(until) && ctx.Err() == nil {
			t0 := time.Now()
			if err := presenter.do(map[string]any{"cmd": "step", "granularity": cfg.Granularity}); err != nil {
				rep.PresenterFailures++
				return
			}
			pres = append(pres, time.Since(t0))
			sleepCtx(ctx, time.Until(t0.Add(cfg.Interval)))
		}
	}()
	for _, c := range learners {
		lwg.Add(1)
		go func() { defer lwg.Done(); stepLoop(c, until) }()
	}
	lwg.Wait()
	stop()
	wg.Wait()
	sort.Slice(pres, func(i, j int) bool { return pres[i] < pres[j] })
	if n := len(pres); n > 0 {
		rep.PresenterP50Ms = float64(pres[n/2].Microseconds()) / 1000
		rep.PresenterP99Ms = float64(pres[min(n-1, n*99/100)].Microseconds()) / 1000
	}
	rep.Attacks = map[string]map[string]int64{}
	for name, a := range attacks {
		rep.Attacks[name] = a.report()
	}
	fmt.Fprintf(cfg.Out, "abuse: the presenter's steps p50 %.1f ms, p99 %.1f ms (%d steps) while the attacks ran; attacks %v\n",
		rep.PresenterP50Ms, rep.PresenterP99Ms, len(pres), rep.Attacks)
	return nil
}
