package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/cluster/clustertest"
	"github.com/netstep/netstep/internal/servetest"
	"github.com/netstep/netstep/server"
)

// serving is one run of `netstep serve` inside the test.
type serving struct {
	*servetest.Server
	url string // http://127.0.0.1:PORT/
	// metrics receives the URL of --metrics-addr's /metrics, if printed.
	metrics chan string
}

var metricsLine = regexp.MustCompile(`metrics on (http://\S+)`)

// startServe calls run with the arguments and environment (NETSTEP_DATA
// memory unless env says otherwise: tests run side by side, no shared data
// folder) through servetest, which waits until it prints its URL and
// /healthz answers.
func startServe(t *testing.T, env map[string]string, args ...string) *serving {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "NETSTEP_DATA" {
			return "memory"
		}
		return ""
	}
	metrics := make(chan string, 1)
	srv := servetest.Start(t, func(ctx context.Context, stdout io.Writer) error {
		return run(ctx, append([]string{"serve"}, args...), getenv, stdout, io.Discard)
	}, func(line string) {
		if m := metricsLine.FindStringSubmatch(line); m != nil {
			select {
			case metrics <- m[1]:
			default:
			}
		}
	})
	return &serving{Server: srv, url: srv.Base + "/", metrics: metrics}
}

// openRoom opens a classroom room on the xor lesson (POST /api/rooms) and
// returns its code.
func (s *serving) openRoom(t *testing.T) string {
	t.Helper()
	resp, err := http.Post(s.url+"api/rooms", "application/json", strings.NewReader(`{"lesson":"xor"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ Code string }
	json.NewDecoder(resp.Body).Decode(&room)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || room.Code == "" {
		t.Fatalf("POST %sapi/rooms: %d %+v", s.url, resp.StatusCode, room)
	}
	return room.Code
}

func (s *serving) ws(t *testing.T, query string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(s.url, "http") + "ws" + query
	c, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v %v", u, resp, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readFrame(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServe(t *testing.T) {
	s := startServe(t, nil, "--addr", "127.0.0.1:0")
	if code, body := get(t, s.url); code != 200 || !strings.Contains(body, "<html") {
		t.Errorf("GET / = %d %.80q", code, body)
	}
	if code, body := get(t, s.url+"metrics"); code != 200 || !strings.Contains(body, "netstep_sessions") {
		t.Errorf("GET /metrics = %d, lacking netstep_sessions", code)
	}
	c := s.ws(t, "?lesson=xor")
	if f := readFrame(t, c); f["type"] != "hello" || f["protocol"] != 1.0 {
		t.Fatalf("first frame %v", f)
	}
	if f := readFrame(t, c); f["type"] != "state" {
		t.Fatalf("second frame %v", f)
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"cmd":"step","id":"1"}`))
	if f := readFrame(t, c); f["type"] != "events" {
		t.Fatalf("step answered %v", f)
	}
	// A 2-D lesson's boundary frame may come before or after done: when the
	// step takes longer than the heatmaps' interval (a loaded machine) it
	// goes out at once (docs/protocol.md, "boundary").
	f := readFrame(t, c)
	if f["type"] == "boundary" {
		f = readFrame(t, c)
	}
	if f["type"] != "done" {
		t.Fatalf("step ended with a %v frame", f["type"])
	}

	// SIGTERM: every websocket is closed with 1001 and run returns nil.
	start := time.Now()
	s.Shutdown()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Errorf("on shutdown the client saw %v, want close 1001", err)
			}
			break
		}
	}
	s.Stop(t)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}

func TestServePortVariable(t *testing.T) {
	s := startServe(t, map[string]string{"PORT": "0"})
	if !strings.HasPrefix(s.url, "http://localhost:") {
		t.Errorf("URL %s; want http://localhost:PORT/ for the default address", s.url)
	}
}

func TestServeFlagsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mine.json"), []byte(`{"title":"Mine","network":{"inputs":["a"],"outputs":["b"],"layers":[{"size":1,"activation":"linear"}]},"data":{"samples":[{"x":[1],"y":[2]}]},"training":{"learningRate":0.1}}`), 0o644)
	s := startServe(t, map[string]string{"NETSTEP_ALLOW_ORIGIN": "https://a.example, https://b.example", "NETSTEP_MAX_SESSIONS": "1"},
		"--addr", "127.0.0.1:0", "--lessons", dir, "--allow-origin", "https://c.example")
	u := "ws" + strings.TrimPrefix(s.url, "http") + "ws"
	for _, tt := range []struct {
		origin string
		want   int
	}{{"https://b.example", 403}, {"https://c.example", 101}, {"https://d.example", 403}} { // the flag replaces the variable's list
		c, resp, _ := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {tt.origin}})
		if c != nil {
			defer c.Close()
		}
		if resp == nil || resp.StatusCode != tt.want {
			t.Errorf("origin %s: %v, want %d", tt.origin, resp, tt.want)
		}
	}
	// NETSTEP_MAX_SESSIONS=1: the session above is connected.
	_, resp, _ := websocket.DefaultDialer.Dial(u, nil)
	if resp == nil || resp.StatusCode != 503 {
		t.Errorf("past --max-sessions: %v, want 503", resp)
	}
}

func TestServeTeacherLessons(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mine.json"), []byte(`{"title":"Mine","network":{"inputs":["a"],"outputs":["b"],"layers":[{"size":1,"activation":"linear"}]},"data":{"samples":[{"x":[1],"y":[2]}]},"training":{"learningRate":0.1}}`), 0o644)
	s := startServe(t, nil, "--addr", "127.0.0.1:0", "--lessons", dir)
	c := s.ws(t, "?lesson=mine")
	readFrame(t, c)
	if f := readFrame(t, c); f["type"] != "state" || f["state"].(map[string]any)["lesson"].(map[string]any)["title"] != "Mine" {
		t.Errorf("?lesson=mine: %v", f)
	}
	if code, _ := get(t, s.url+"lesson/mine"); code != 200 {
		t.Errorf("GET /lesson/mine = %d", code)
	}

	missing := filepath.Join(t.TempDir(), "missing")
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", "memory", "--lessons", missing}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("--lessons %s: %v, want an error saying it is not a directory", missing, err)
	}
}

// badLessonFolder is a --lessons folder with one good lesson and every kind
// of file that must be skipped: invalid JSON, a FIFO (opening it blocking
// would hang start-up), a symbolic link out of the folder, and one inside it
// (followed).
func badLessonFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	good := `{"title":"Mine","network":{"inputs":["a"],"outputs":["b"],"layers":[{"size":1,"activation":"linear"}]},"data":{"samples":[{"x":[1],"y":[2]}]},"training":{"learningRate":0.1}}`
	os.WriteFile(filepath.Join(dir, "mine.json"), []byte(good), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"title":"Broken","training":{"learningRate":"fast"}}`), 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(outside, []byte(good), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "escape.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("mine.json", filepath.Join(dir, "alias.json")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestServeSkipsBadLessonFiles: start-up neither hangs on a FIFO nor stops
// at a bad file; each skipped file is logged by name, and the good lessons
// are served.
func TestServeSkipsBadLessonFiles(t *testing.T) {
	dir := badLessonFolder(t)
	var logs servetest.Log
	// A start-up that hangs on the lessons folder (a FIFO opened blocking)
	// never prints its address.
	s := servetest.Start(t, func(ctx context.Context, stdout io.Writer) error {
		return run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", "memory", "--lessons", dir}, func(string) string { return "" }, stdout, &logs)
	}, nil)
	for path, want := range map[string]int{"lesson/mine": 200, "lesson/alias": 200, "lesson/broken": 404, "lesson/pipe": 404, "lesson/escape": 404} {
		if code, _ := get(t, s.Base+"/"+path); code != want {
			t.Errorf("GET /%s = %d, want %d", path, code, want)
		}
	}
	s.Stop(t)
	log := logs.String()
	for _, want := range []string{"broken.json: data: missing", "training.learningRate", "pipe.json: not a regular file (a FIFO)", "escape.json: a symbolic link that leads out of the folder"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
}

// TestValidateFolder: netstep validate FOLDER reports what serve would skip,
// by file, without hanging on the FIFO.
func TestValidateFolder(t *testing.T) {
	dir := badLessonFolder(t)
	var out strings.Builder
	err := run(context.Background(), []string{"validate", dir, filepath.Join(dir, "pipe.json")}, func(string) string { return "" }, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "4 of 6 lesson files have problems") {
		t.Errorf("validate: %v, want 4 of 6 lesson files with problems", err)
	}
	for _, want := range []string{"mine.json: ok", "alias.json: ok", "broken.json: training.learningRate", "pipe.json: not a regular file (a FIFO)", "escape.json: a symbolic link"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("validate does not say %q:\n%s", want, out.String())
		}
	}
}

func TestServeCutsOffSlowHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for ReadHeaderTimeout")
	}
	s := startServe(t, nil, "--addr", "127.0.0.1:0")
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	io.Copy(io.Discard, conn)
	if d := time.Since(start); d > 7*time.Second {
		t.Errorf("a half-sent header held the connection for %v", d)
	}
}

// TestServeEmbedOrigins: --embed-origins (or NETSTEP_EMBED_ORIGINS) narrows
// who may frame /embed; a malformed origin is refused at start.
func TestServeEmbedOrigins(t *testing.T) {
	s := startServe(t, map[string]string{"NETSTEP_EMBED_ORIGINS": "https://moodle.example.edu"}, "--addr", "127.0.0.1:0")
	resp, err := http.Get(s.url + "embed?lesson=xor")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://moodle.example.edu") {
		t.Errorf("/embed CSP %q does not name the embed origin", csp)
	}
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", "memory", "--embed-origins", "moodle.example.edu/course"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--embed-origins") {
		t.Errorf("a malformed embed origin: %v", err)
	}
}

// TestServeDataFolder: by default the embedded NATS node stores under
// netstep-data in the working directory; a second instance on the same
// folder is refused with a message naming --data; --data memory writes
// nothing there.
func TestServeDataFolder(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	startServe(t, map[string]string{"NETSTEP_DATA": ""}, "--addr", "127.0.0.1:0")
	for _, p := range []string{"netstep-data/netstep.lock", "netstep-data/nats/jetstream"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("the default data folder lacks %s: %v", p, err)
		}
	}
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--data netstep-data: another netstep is using this folder") {
		t.Errorf("a second serve on the same folder: %v, want an error naming --data", err)
	}

	empty := t.TempDir()
	t.Chdir(empty)
	s := startServe(t, nil, "--addr", "127.0.0.1:0") // the helper's default is --data memory
	s.Stop(t)
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("--data memory left %d files in the working directory", len(ents))
	}
}

// TestServeInstancesShareRooms: two instances on one NATS (--nats) share
// their rooms: a room opened on one has its join page on the other.
func TestServeInstancesShareRooms(t *testing.T) {
	url := clustertest.Node(t).ClientURL()
	a := startServe(t, nil, "--addr", "127.0.0.1:0", "--nats", url)
	b := startServe(t, map[string]string{"NETSTEP_NATS": url}, "--addr", "127.0.0.1:0")
	code := a.openRoom(t)
	if status, _ := get(t, b.url+"join/"+code); status != http.StatusOK {
		t.Errorf("GET /join/%s on b: %d, want 200", code, status)
	}
	if status, _ := get(t, b.url+"join/ZZZZZZ"); status != http.StatusNotFound {
		t.Errorf("GET /join/ZZZZZZ on b: %d, want 404", status)
	}
}

// TestServeRestartKeepsRooms: a room opened before a stop (SIGTERM) is
// there after serve starts again on the same --data.
func TestServeRestartKeepsRooms(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	a := startServe(t, nil, "--addr", "127.0.0.1:0", "--data", data)
	code := a.openRoom(t)
	a.Stop(t)
	b := startServe(t, nil, "--addr", "127.0.0.1:0", "--data", data)
	if status, _ := get(t, b.url+"join/"+code); status != http.StatusOK {
		t.Errorf("GET /join/%s after a restart: %d, want 200", code, status)
	}
}

// TestSetupErrorsNameTheirCause: only a bad origin is blamed on an origin
// flag; NATS not answering or anything else keeps its own words.
func TestSetupErrorsNameTheirCause(t *testing.T) {
	_, originErr := server.New(server.Config{AllowOrigins: []string{"not an origin"}})
	other := errors.New("web: parsing templates: broken")
	tests := []struct {
		err   error
		want  string
		usage bool
	}{
		{originErr, `--allow-origin: allowed origin "not an origin": want scheme://host[:port]`, true},
		{fmt.Errorf("%w: the rooms bucket: timeout", server.ErrCluster), "server: NATS: the rooms bucket: timeout", false},
		{other, "web: parsing templates: broken", false},
	}
	for _, tt := range tests {
		err := setupError(tt.err)
		var ue usageError
		if !strings.HasPrefix(err.Error(), tt.want) || errors.As(err, &ue) != tt.usage {
			t.Errorf("setupError(%v) = %v (usage error %v), want %q (usage error %v)", tt.err, err, errors.As(err, &ue), tt.want, tt.usage)
		}
	}
}

// TestServeHeadersFromOnePlace: every route of the program, the server's as
// well as the pages', gets its caching and security headers from
// web.Headers, so none is without them.
func TestServeHeadersFromOnePlace(t *testing.T) {
	s := startServe(t, nil, "--addr", "127.0.0.1:0")
	for _, tt := range []struct{ method, path, cache string }{
		{"GET", "healthz", "no-store"},
		{"GET", "metrics", "no-store"},
		{"GET", "ws", "no-store"}, // refused: not a websocket handshake
		{"GET", "api/rooms", "no-store"},
		{"POST", "api/rooms", "no-store"},
		{"GET", "nope", "no-store"},
		{"GET", "", "no-cache"},
		{"HEAD", "lesson/xor", "no-cache"},
	} {
		req, _ := http.NewRequest(tt.method, s.url+tt.path, strings.NewReader(""))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Cache-Control"); got != tt.cache {
			t.Errorf("%s /%s: Cache-Control %q, want %q", tt.method, tt.path, got, tt.cache)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s /%s: no nosniff or no Content-Security-Policy", tt.method, tt.path)
		}
		if tt.method == "HEAD" && res.StatusCode != 200 {
			t.Errorf("HEAD /%s: %d, want 200", tt.path, res.StatusCode)
		}
	}
}

// TestServeMetricsAddr: with --metrics-addr, /metrics is served there and
// only there.
func TestServeMetricsAddr(t *testing.T) {
	s := startServe(t, map[string]string{"NETSTEP_METRICS_ADDR": "127.0.0.1:0"}, "--addr", "127.0.0.1:0")
	var murl string
	select {
	case murl = <-s.metrics:
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not print where its metrics are")
	}
	if code, _ := get(t, s.url+"metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the main address = %d, want 404", code)
	}
	code, body := get(t, murl)
	if code != 200 || !strings.Contains(body, "netstep_sessions") {
		t.Errorf("GET %s = %d, lacking netstep_sessions", murl, code)
	}
	if code, _ := get(t, strings.TrimSuffix(murl, "metrics")); code != http.StatusNotFound {
		t.Errorf("GET / on --metrics-addr = %d, want 404: only the metrics are there", code)
	}
}

// TestServeEmbeddedCluster: three instances whose embedded NATS nodes form
// one cluster, with no NATS server of their own: they start in any order
// (each waits for a majority), share rooms, and keep three copies.
func TestServeEmbeddedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node cluster takes a few seconds")
	}
	ports := clustertest.FreePorts(t, 3)
	routes := clustertest.Routes(ports)
	inst := make([]*serving, 3)
	var wg sync.WaitGroup
	for i := range inst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst[i] = startServe(t, nil, "--addr", "127.0.0.1:0", "--nats-replicas", "3",
				"--nats-cluster-listen", fmt.Sprintf("127.0.0.1:%d", ports[i]), "--nats-routes", strings.Join(routes, ","))
		}()
	}
	wg.Wait()
	for _, s := range inst {
		if s == nil {
			t.Fatal("an instance did not start")
		}
	}
	code := inst[0].openRoom(t)
	for i, s := range inst[1:] {
		c := s.ws(t, "?room="+code)
		for {
			if f := readFrame(t, c); f["type"] == "room" {
				if f["followers"] != float64(i+1) {
					t.Errorf("follower %d on instance %d: the room counts %v followers", i+1, i+2, f["followers"])
				}
				break
			}
		}
	}
}
