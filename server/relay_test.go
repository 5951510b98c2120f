package server

import (
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/cluster/clustertest"
)

// TestRoomAcrossInstances: a room opened on instance A, its presenter
// connected to B and its followers to A, B and C: every follower gets
// every events frame the presenter got, in order; a follower on C can ask
// for the state; the end of the room reaches every instance.
func TestRoomAcrossInstances(t *testing.T) {
	clustertest.ForEachTopology(t, classAcross)
}

func classAcross(t *testing.T, urls [3]string, replicas int) {
	var inst [3]*testServer
	for i, u := range urls {
		inst[i] = newTestServer(t, Config{Cluster: openClusterReplicas(t, u, replicas)})
	}
	a, b, c := inst[0], inst[1], inst[2]
	rm := a.openRoom(t, "circle-8-8")
	for _, ts := range inst {
		if code, status := ts.JoinRoom(nil, rm.Code); status != 200 || code != rm.Code {
			t.Fatalf("JoinRoom(%s) on an instance: %q %d, want 200", rm.Code, code, status)
		}
	}

	p := b.dial(t, "?room="+rm.Code, rm.presenter())
	for p.read()["type"] != "room" {
	}
	var followers []*client
	for i, ts := range []*testServer{a, b, b, c, c} {
		f, first := ts.joinRoom(t, rm, "?room="+rm.Code)
		if got := types(first); got != "state,room" {
			t.Fatalf("follower %d's first frames after hello: %s, want state,room", i, got)
		}
		followers = append(followers, f)
	}
	if _, resp, err := c.tryDial("?room="+rm.Code, nil, Credentials{Token: "wrong"}); err == nil || resp.StatusCode != 403 {
		t.Errorf("a wrong presenter token on another instance: %v, want 403", err)
	}

	followersGetEveryEvent(t, followers, p.stepEveryGranularity(12))

	f := followers[3] // on C
	frames := f.do(`{"cmd":"state","id":"s"}`)
	if got := types(frames); !strings.HasSuffix(got, "state,done") { // a held-back boundary frame may come first
		t.Errorf("a follower on C asking for the state got %s, want state,done", got)
	}
	if frames := f.do(`{"cmd":"step","id":"x"}`); frames[len(frames)-1]["code"] != CodeNotPresenter {
		t.Errorf("a follower on C stepping got %v, want %s", frames[len(frames)-1], CodeNotPresenter)
	}

	p.do(`{"cmd":"endRoom","id":"end"}`)
	for _, f := range followers {
		for f.read()["type"] != "roomEnded" {
		}
		if code := f.closeCode(); code != websocket.CloseNormalClosure {
			t.Errorf("a follower closed with %d, want 1000", code)
		}
	}
}
