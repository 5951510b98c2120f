package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/cluster/clustertest"
)

// TestHitAndRunSessionsDoNotLockOut: sessions opened and left at once used
// to be held for the resume window, so a few addresses locked a real user
// out at --max-sessions for 2 minutes. A session that never loaded a lesson
// now ends when its socket does, and one that did is the first to go when a
// newcomer needs its place.
func TestHitAndRunSessionsDoNotLockOut(t *testing.T) {
	ts := newTestServer(t, Config{MaxSessions: 20})
	for i := range 20 {
		q := ""
		if i%2 == 0 {
			q = "?lesson=xor"
		}
		c := ts.dial(t, q)
		c.ws.Close()
	}
	waitFor(t, "the sessions that loaded nothing to end", func() bool { return ts.Sessions() <= 10 })
	for range 20 { // more newcomers than there are free places
		c := ts.dial(t, "?lesson=xor")
		if f := c.read(); f["type"] != "state" {
			t.Fatalf("a newcomer at --max-sessions got %v", f)
		}
	}
	if n := ts.Sessions(); n > 20 {
		t.Errorf("%d sessions live; --max-sessions is 20", n)
	}
	// With every place taken by a connected learner, a newcomer is refused.
	_, resp, err := ts.tryDial("?lesson=xor", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a newcomer with every session connected: %v %v; want 503", err, resp)
	}
}

// joinOutcome dials a room as a follower: "in" (it got its room frame),
// "full" (closed with CloseRoomFull) or the error.
func (ts *testServer) joinOutcome(t testing.TB, code string) (string, *websocket.Conn) {
	ws, _, err := ts.tryDial("?room="+code, nil)
	if err != nil {
		return err.Error(), nil
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code == CloseRoomFull && strings.Contains(ce.Text, "full") {
			ws.Close()
			return "full", nil
		}
		if err != nil {
			ws.Close()
			return err.Error(), nil
		}
		if strings.HasPrefix(string(data), `{"type":"room"`) {
			// Held until the test ends: a connection nothing refers to is
			// closed when the garbage collector finalizes its socket, and a
			// follower the test counts would leave the room under it.
			t.Cleanup(func() { ws.Close() })
			return "in", ws
		}
	}
}

// TestRoomFollowerCapIsExact: 1,200 students joining at the same moment
// used to all get in past the 1,000 cap (it was checked before the upgrade
// and counted after). Exactly the cap gets in, and the rest are told the
// room is full in a close frame their page can read.
func TestRoomFollowerCapIsExact(t *testing.T) {
	joins, capacity := 1200, 1000
	if raceEnabled || testing.Short() {
		joins, capacity = 240, 200
	}
	ts := newTestServer(t, Config{MaxFollowers: capacity, FollowersPerAddress: joins, JoinBurst: 2 * joins, MaxSessions: 10})
	rm := ts.openRoom(t, "xor")
	var mu sync.Mutex
	got := map[string]int{}
	var conns []*websocket.Conn
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range joins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, ws := ts.joinOutcome(t, rm.Code)
			mu.Lock()
			got[out]++
			if ws != nil {
				conns = append(conns, ws)
			}
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if got["in"] != capacity || got["full"] != joins-capacity {
		t.Errorf("%d simultaneous joins of a room for %d: %v; want exactly %d in and the rest full", joins, capacity, got, capacity)
	}
}

// TestRoomLimitsPerAddress: one address can neither fill a room nor open
// all the rooms, and an empty room ends in minutes, not hours.
func TestRoomLimitsPerAddress(t *testing.T) {
	ts := newTestServer(t, Config{FollowersPerAddress: 3, RoomsPerAddress: 2, RoomBurst: 10, RoomEmptyTTL: 300 * time.Millisecond})
	rm := ts.openRoom(t, "xor")
	p, _ := ts.joinRoom(t, rm, "?room="+rm.Code, rm.presenter()) // keeps the room from expiring
	for i := range 3 {
		if out, _ := ts.joinOutcome(t, rm.Code); out != "in" {
			t.Fatalf("follower %d from one address: %s", i, out)
		}
	}
	if out, _ := ts.joinOutcome(t, rm.Code); out != "full" {
		t.Errorf("a 4th follower from an address allowed 3: %s; want told the room is full", out)
	}
	ts.openRoom(t, "xor")
	resp, body := ts.postRoom(t, `{"lesson":"xor"}`, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "rooms open") {
		t.Errorf("a 3rd room from an address allowed 2: %d %s", resp.StatusCode, body)
	}
	// The second room has nobody in it: it ends after RoomEmptyTTL, and the
	// address may open another.
	waitFor(t, "the empty room to end", func() bool { return ts.Rooms() == 1 })
	ts.openRoom(t, "xor")
	p.mustDo(`{"cmd":"step","id":"s"}`) // the first room, with its presenter, is still there
}

// roomRefusal opens a room and returns "" when it opened, else the
// refusal's message.
func (ts *testServer) roomRefusal(t *testing.T) string {
	t.Helper()
	resp, body := ts.postRoom(t, `{"lesson":"xor"}`, nil)
	if resp.StatusCode == http.StatusCreated {
		return ""
	}
	var e struct{ Error string }
	json.Unmarshal(body, &e)
	if e.Error == "" {
		t.Fatalf("POST /api/rooms: %d %s", resp.StatusCode, body)
	}
	return e.Error
}

// seesRooms waits until ts counts n rooms on the other instances.
func (ts *testServer) seesRooms(t *testing.T, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d rooms on the other instances", n), func() bool {
		_, rooms, _ := ts.board.others("")
		return rooms == n
	})
}

// TestRoomCapsAcrossInstances: rooms per address and rooms in all are
// counted over every instance sharing NATS: a cap reached on A refuses on
// B and C with the same message A gives; an instance that stops gives its
// places back.
func TestRoomCapsAcrossInstances(t *testing.T) {
	url := clustertest.Node(t).ClientURL()
	t.Run("per address", func(t *testing.T) {
		var inst [3]*testServer
		for i := range inst {
			inst[i] = newTestServer(t, Config{Cluster: openCluster(t, url), RoomsPerAddress: 3, RoomBurst: 100})
		}
		a, b, c := inst[0], inst[1], inst[2]
		for _, ts := range []*testServer{a, a, b} { // all from 127.0.0.1
			if why := ts.roomRefusal(t); why != "" {
				t.Fatalf("a room under the cap was refused: %s", why)
			}
		}
		c.seesRooms(t, 3)
		why := c.roomRefusal(t)
		if !strings.Contains(why, "Your address has 3 classroom rooms open, the most one address may have.") {
			t.Errorf("a fourth room from one address on C: %q, want it refused", why)
		}
		a.seesRooms(t, 1)
		if whyA := a.roomRefusal(t); whyA != why {
			t.Errorf("refused on A with %q, on C with %q; want one message", whyA, why)
		}
		// A stops: its two rooms no longer count anywhere.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Shutdown(ctx)
		c.seesRooms(t, 1)
		for range 2 {
			if why := c.roomRefusal(t); why != "" {
				t.Fatalf("after A stopped, C refused: %s", why)
			}
		}
		if why := c.roomRefusal(t); why == "" {
			t.Error("C opened a fourth room for the address")
		}
	})
	t.Run("in all", func(t *testing.T) {
		a := newTestServer(t, Config{Cluster: openCluster(t, url), MaxRooms: 2, RoomBurst: 100})
		b := newTestServer(t, Config{Cluster: openCluster(t, url), MaxRooms: 2, RoomBurst: 100})
		for range 2 {
			if why := a.roomRefusal(t); why != "" {
				t.Fatalf("a room under the cap was refused: %s", why)
			}
		}
		whyA := a.roomRefusal(t)
		b.seesRooms(t, 2)
		whyB := b.roomRefusal(t)
		if want := "netstep is full: 2 classroom rooms are open, the most it allows."; !strings.HasPrefix(whyA, want) || whyB != whyA {
			t.Errorf("a third room: on A %q, on B %q; want both %q", whyA, whyB, want)
		}
	})
}

// TestSessionCapAcrossInstances: MaxClusterSessions counts the sessions of
// every instance; a newcomer on B is refused when A holds the rest.
func TestSessionCapAcrossInstances(t *testing.T) {
	url := clustertest.Node(t).ClientURL()
	a := newTestServer(t, Config{Cluster: openCluster(t, url), MaxClusterSessions: 3})
	b := newTestServer(t, Config{Cluster: openCluster(t, url), MaxClusterSessions: 3})
	for range 2 {
		a.dial(t, "?lesson=xor")
	}
	b.dial(t, "?lesson=xor")
	waitFor(t, "B to count A's sessions", func() bool {
		n, _, _ := b.board.others("")
		return n == 2
	})
	_, resp, err := b.tryDial("?lesson=xor", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a fourth session on B: %v %v; want 503", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if want := "netstep is full: 3 sessions are live on its servers together"; !strings.Contains(string(body), want) {
		t.Errorf("refusal %q, want %q", body, want)
	}
}

// TestRoomsPerAddressAtOnce: rooms opened at the same moment from one
// address never pass RoomsPerAddress (each holds its place from the check
// to its start).
func TestRoomsPerAddressAtOnce(t *testing.T) {
	for _, name := range []string{"alone", "with NATS"} {
		t.Run(name, func(t *testing.T) {
			cfg := Config{RoomsPerAddress: 3, RoomBurst: 100}
			if name == "with NATS" {
				cfg.Cluster = openCluster(t, clustertest.Node(t).ClientURL())
			}
			ts := newTestServer(t, cfg)
			var wg sync.WaitGroup
			var mu sync.Mutex
			opened := 0
			for range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if ts.roomRefusal(t) == "" {
						mu.Lock()
						opened++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if opened != 3 || ts.Rooms() != 3 {
				t.Errorf("12 rooms at once from one address: %d opened, %d open; want 3", opened, ts.Rooms())
			}
		})
	}
}
