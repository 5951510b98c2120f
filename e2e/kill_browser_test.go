package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
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

// followedRoom is a room opened on one server with a follower's page
// watching it on another (or the same), after the presenter's first step.
type followedRoom struct {
	code, token string
	page        *browserPage
	start       string // the page's weights before the first step, as JSON
	before      string // and after it
}

// pageWeights is what the page's weights are, as JSON.
const pageWeights = `JSON.stringify(window.netstep.model().network.weights)`

// followRoom opens an xor room on open, has a follower's page join it on
// watch, and the presenter take a step through open, which the page
// follows.
func followRoom(t *testing.T, open, watch string) *followedRoom {
	t.Helper()
	resp, err := http.Post(open+"/api/rooms", "application/json", strings.NewReader(`{"lesson":"xor"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ Code, PresenterToken string }
	json.NewDecoder(resp.Body).Decode(&room)
	resp.Body.Close()
	fr := &followedRoom{code: room.Code, token: room.PresenterToken, page: newBrowserPage(t, 1280, 720, false)}
	p := fr.page
	// Not p.open: a follower's Step button stays disabled.
	p.do(chromedp.Do(p.ctx, chromedp.Navigate(watch+"/join/"+room.Code)))
	p.waitFor("the room's lesson", `!!window.netstep && !!window.netstep.model().network`)
	fr.start = browserEval[string](p, pageWeights)
	presenterStep(t, open, fr.code, fr.token, "1")
	p.waitFor("the presenter's step", pageWeights+` !== `+jsString(fr.start))
	fr.before = browserEval[string](p, pageWeights)
	return fr
}

// followsNextStep has the presenter take a second step through server and
// waits for the page to follow it.
func (fr *followedRoom) followsNextStep(t *testing.T, server, what string) {
	t.Helper()
	presenterStep(t, server, fr.code, fr.token, "2")
	fr.page.waitFor(what, pageWeights+` !== `+jsString(fr.before)+` && `+pageWeights+` !== `+jsString(fr.start))
	fr.page.noErrors()
}

// TestBrowserClassroomSurvivesKill: a follower's page watches a room; the
// server is killed (SIGKILL, nothing saved at the stop) and started again
// on the same --data; the follower's page reconnects by itself to the same
// room, with the same weights, and follows the presenter's next step.
func TestBrowserClassroomSurvivesKill(t *testing.T) {
	data := t.TempDir()
	first := startServer(t, "127.0.0.1:0", "--data", data)
	addr := strings.TrimPrefix(first.Base, "http://")
	fr := followRoom(t, first.Base, first.Base)
	first.kill(t)
	second := startServer(t, addr, "--data", data)
	fr.followsNextStep(t, second.Base, "the page to follow the step after the restart")
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
	fr := followRoom(t, a.Base, b.Base)
	a.kill(t)
	killed := time.Now()
	fr.followsNextStep(t, b.Base, "the page to follow the step B took over")
	t.Logf("owner killed: the follower's page on B had the next step %v later", time.Since(killed).Round(time.Millisecond))
}
