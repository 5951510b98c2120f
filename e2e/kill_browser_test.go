package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/cluster/clustertest"
	netstep "github.com/netstep/netstep/server"
)

// presenterStep connects as the room's presenter, takes one step and
// hangs up.
func presenterStep(t *testing.T, base, code, token, id string) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws?room=" + code
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: netstep.Credentials{Token: token}.Subprotocols()}
	var ws *websocket.Conn
	var err error
	for range 50 { // the server may still be reopening its rooms
		if ws, _, err = d.Dial(u, nil); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("presenter: %v", err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte(`{"cmd":"step","granularity":"sample","id":"`+id+`"}`))
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("presenter: %v", err)
		}
		if strings.Contains(string(data), `"type":"done","id":"`+id+`"`) {
			return
		}
		if strings.Contains(string(data), `"type":"error"`) {
			t.Fatalf("presenter: %s", data)
		}
	}
}

// TestBrowserClassroomSurvivesKill: a follower's page watches a room; the
// server is killed (SIGKILL, nothing saved at the stop) and started again
// on the same --data; the follower's page reconnects by itself to the same
// room, with the same weights, and follows the presenter's next step.
func TestBrowserClassroomSurvivesKill(t *testing.T) {
	data := t.TempDir()
	first := startServer(t, "127.0.0.1:0", "--data", data)
	addr := strings.TrimPrefix(first.base, "http://")
	resp, err := http.Post(first.base+"/api/rooms", "application/json", strings.NewReader(`{"lesson":"xor"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ Code, PresenterToken string }
	json.NewDecoder(resp.Body).Decode(&room)
	resp.Body.Close()

	p := newBrowserPage(t, 1280, 720, false)
	// Not p.open: a follower's Step button stays disabled.
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(first.base+"/join/"+room.Code)))
	p.waitFor("the room's lesson", `!!window.netstep && !!window.netstep.model().network`)
	weights := `JSON.stringify(window.netstep.model().network.weights)`
	start := browserEval[string](p, weights)
	presenterStep(t, first.base, room.Code, room.PresenterToken, "1")
	p.waitFor("the presenter's step", weights+` !== `+jsString(start))
	before := browserEval[string](p, weights)

	first.cmd.Process.Signal(syscall.SIGKILL)
	first.stop()
	second := startServer(t, addr, "--data", data)
	presenterStep(t, second.base, room.Code, room.PresenterToken, "2")
	p.waitFor("the page to follow the step after the restart", weights+` !== `+jsString(before)+` && `+weights+` !== `+jsString(start))
	p.noErrors()
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowserClassSurvivesOwnerKill: two instances share a NATS node; a
// room is opened on A, and a follower's page watches it on B. A is killed
// (SIGKILL): the page stays connected to B, the presenter's next step,
// sent to B, finds the room taken over there from its last durable step,
// and the page follows it.
func TestBrowserClassSurvivesOwnerKill(t *testing.T) {
	nats := clustertest.Node(t).ClientURL()
	a := startServer(t, "127.0.0.1:0", "--nats", nats)
	b := startServer(t, "127.0.0.1:0", "--nats", nats)
	resp, err := http.Post(a.base+"/api/rooms", "application/json", strings.NewReader(`{"lesson":"xor"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ Code, PresenterToken string }
	json.NewDecoder(resp.Body).Decode(&room)
	resp.Body.Close()

	p := newBrowserPage(t, 1280, 720, false)
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(b.base+"/join/"+room.Code)))
	p.waitFor("the room's lesson", `!!window.netstep && !!window.netstep.model().network`)
	weights := `JSON.stringify(window.netstep.model().network.weights)`
	start := browserEval[string](p, weights)
	presenterStep(t, a.base, room.Code, room.PresenterToken, "1")
	p.waitFor("the presenter's step on A", weights+` !== `+jsString(start))
	before := browserEval[string](p, weights)

	a.cmd.Process.Signal(syscall.SIGKILL)
	a.stop()
	killed := time.Now()
	presenterStep(t, b.base, room.Code, room.PresenterToken, "2")
	p.waitFor("the page to follow the step B took over", weights+` !== `+jsString(before)+` && `+weights+` !== `+jsString(start))
	t.Logf("owner killed: the follower's page on B had the next step %v later", time.Since(killed).Round(time.Millisecond))
	p.noErrors()
}
