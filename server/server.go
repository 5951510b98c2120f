package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/netstep/netstep/cluster"
	"github.com/netstep/netstep/engine"
	"github.com/netstep/netstep/external"
)

// Config is everything the server can be told. Zero fields take the
// defaults named in their comments (and in docs/protocol.md).
type Config struct {
	Lessons             *engine.Catalog // lessons load may name; default engine.Builtin()
	MaxSessions         int             // live sessions on this instance, counting those awaiting resume; default 2000
	AllowOrigins        []string        // origins besides the server's own and "null", as scheme://host[:port]
	IdleTimeout         time.Duration   // a session with no command for this long ends; default 30 min
	ResumeWindow        time.Duration   // how long a dropped session waits to be resumed; default 2 min
	MaxFrameBytes       int64           // largest frame a client may send; default 1 MiB + 4 KiB (a 1 MiB lesson and its command)
	CommandsPerSecond   float64         // per connection, sustained; default 50
	CommandBurst        int             // per connection; default 100
	BytesPerSecond      float64         // per connection, sustained, in bursts of two maximal frames; default 1 MiB
	HandshakesPerSecond float64         // per client address, sustained; default 2
	HandshakeBurst      int             // per client address; default 60, a class behind one NAT
	WriteTimeout        time.Duration   // a write that takes longer drops the viewer; default 10 s
	PingInterval        time.Duration   // pings keep connections alive; no pong in 2× this drops it; default 30 s
	MaxQueuedFrames     int             // frames waiting for one viewer before it is dropped or resynced; default 128
	BoundaryGrid        int             // heatmap side for 2-D lessons; default 40
	SliceBudget         time.Duration   // run mode trains this long between looks at the inbox; default 2 ms
	RoomTTL             time.Duration   // a classroom room with no presenter connected (or no command) ends after this; default 2 h
	MaxRooms            int             // classroom rooms open at once, over every instance sharing NATS; default 200 (each is also a session)
	MaxFollowers        int             // students following one room; default 1000
	FollowersPerAddress int             // students from one client address following one room; default 200 (a lecture hall behind one NAT)
	RoomsPerAddress     int             // rooms opened from one client address open at once, over every instance; default 5
	RoomEmptyTTL        time.Duration   // a room with nobody connected ends after this; default 10 min
	JoinsPerSecond      float64         // room connections and unknown room codes per client address, sustained; default 3
	JoinBurst           int             // per client address; default 60, a class behind one NAT
	RoomsPerHour        float64         // rooms one client address may open, sustained; default 30
	RoomBurst           int             // per client address; default 5
	RunConcurrency      int             // sessions doing heavy work at once (Play, big steps, Back replays, state encodes, edits); default one less than GOMAXPROCS, at least 1
	SessionMemory       int64           // bytes one session's trainer may hold (history, checkpoints, pinned edits); default 16 MiB
	MaxMemory           int64           // bytes all sessions may hold before new work is refused (server_busy); default 1 GiB
	Logger              *slog.Logger    // default slog.Default()

	// TrustProxy names the reverse proxies in front: on a request straight
	// from one of them, X-Forwarded-For gives the client's address every
	// per-address limit counts, and X-Forwarded-Proto/-Host a new room's
	// links (package external). The zero value trusts none.
	TrustProxy external.Proxies

	// MaxClusterSessions, when above 0, caps live sessions over every
	// instance sharing NATS (admission.go); 0 leaves it to each
	// instance's MaxSessions.
	MaxClusterSessions int

	// Cluster, when set, is this instance's connection to NATS: room codes
	// are then unique across every instance sharing it (directory.go).
	// Nil runs alone, as tests do.
	Cluster *cluster.Conn

	// OwnerLease is how long a learner's session stays this instance's
	// after its last renewal in NATS (renewed every third of it): once an
	// instance dies, its sessions move to another instance this long
	// after, at most (store.go). Default 6 s; at least a second.
	OwnerLease time.Duration
}

func (c *Config) fill() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Lessons == nil {
		c.Lessons = engine.Builtin()
	}
	def(&c.MaxSessions, 2000)
	defDur(&c.IdleTimeout, 30*time.Minute)
	defDur(&c.ResumeWindow, 2*time.Minute)
	defDur(&c.OwnerLease, 6*time.Second)
	c.OwnerLease = max(c.OwnerLease, cluster.MinLease)
	if c.MaxFrameBytes <= 0 {
		// A lesson may be 1 MiB (engine.MaxLessonBytes): with its load
		// command around it, it still fits in a frame.
		c.MaxFrameBytes = engine.MaxLessonBytes + 4<<10
	}
	if c.CommandsPerSecond <= 0 {
		c.CommandsPerSecond = 50
	}
	def(&c.CommandBurst, 100)
	if c.BytesPerSecond <= 0 {
		c.BytesPerSecond = 1 << 20
	}
	if c.HandshakesPerSecond <= 0 {
		c.HandshakesPerSecond = 2
	}
	def(&c.HandshakeBurst, 60)
	defDur(&c.WriteTimeout, 10*time.Second)
	defDur(&c.PingInterval, 30*time.Second)
	def(&c.MaxQueuedFrames, 128)
	def(&c.BoundaryGrid, 40)
	defDur(&c.SliceBudget, 2*time.Millisecond)
	defDur(&c.RoomTTL, 2*time.Hour)
	def(&c.MaxRooms, 200)
	def(&c.MaxFollowers, 1000)
	def(&c.FollowersPerAddress, 200)
	def(&c.RoomsPerAddress, 5)
	defDur(&c.RoomEmptyTTL, 10*time.Minute)
	if c.JoinsPerSecond <= 0 {
		c.JoinsPerSecond = 3
	}
	def(&c.JoinBurst, 60)
	if c.RoomsPerHour <= 0 {
		c.RoomsPerHour = 30
	}
	def(&c.RoomBurst, 5)
	def(&c.RunConcurrency, max(1, runtime.GOMAXPROCS(0)-1))
	if c.SessionMemory <= 0 {
		c.SessionMemory = 16 << 20
	}
	if c.MaxMemory <= 0 {
		c.MaxMemory = 1 << 30
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Server is the websocket endpoint and the sessions behind it.
type Server struct {
	cfg         Config
	log         *slog.Logger
	upgrader    websocket.Upgrader
	metrics     *metrics
	handshakes  *addrLimiter
	joins       *addrLimiter // room lookups (room.go)
	roomCreates *addrLimiter
	origins     map[string]bool
	limitsJSON  []byte
	turns       chan struct{} // run-mode turns: RunConcurrency tokens
	lessons     *lessonCache  // parsed inline lessons, shared
	dir         *directory    // the room directory in NATS, or nil
	board       *board        // the other instances' counts, with NATS, or nil (admission.go)
	standIns    standIns      // followers on other instances of rooms held here (followers.go)
	store       *store        // saved sessions, with an embedded node on disk (store.go), or nil
	roomData    *roomStore    // rooms' claims, snapshots and logs, with NATS that keeps data (roomlog.go), or nil
	quit        chan struct{} // closed by Shutdown: background loops end
	memUsed     atomic.Int64  // bytes the sessions hold, by their own count (memory.go)

	wg sync.WaitGroup // session goroutines and connection readers and writers

	mu       sync.Mutex
	sessions map[string]*session
	byToken  map[[32]byte]*session    // keyed by the token's hash: lookups leak no timing about tokens
	rooms    map[string]*room         // open classroom rooms by code
	mirrors  map[string]*mirror       // rooms other instances hold that followers here watch (mirror.go)
	taking   map[string]chan struct{} // rooms being taken over here, closed when done (roomlog.go)
	reserved int                      // upgrades in progress that will start a session
	opening  map[string]int           // rooms being opened, by the address opening them (admission.go)
	conns    map[*websocket.Conn]struct{}
	closing  bool
}

// ErrOrigin marks the error New returns for an entry of AllowOrigins that
// is not an origin.
var ErrOrigin = errors.New("server: allowed origin")

// New returns a server. It fails if an allowed origin is not of the form
// scheme://host[:port].
func New(cfg Config) (*Server, error) {
	cfg.fill()
	if cfg.BoundaryGrid < 2 || cfg.BoundaryGrid > engine.MaxGrid {
		return nil, fmt.Errorf("server: boundary grid %d: want 2 to %d", cfg.BoundaryGrid, engine.MaxGrid)
	}
	s := &Server{
		cfg:         cfg,
		log:         cfg.Logger,
		metrics:     newMetrics(),
		handshakes:  newAddrLimiter(cfg.HandshakesPerSecond, cfg.HandshakeBurst),
		joins:       newAddrLimiter(cfg.JoinsPerSecond, cfg.JoinBurst),
		roomCreates: newAddrLimiter(cfg.RoomsPerHour/3600, cfg.RoomBurst),
		origins:     map[string]bool{},
		sessions:    map[string]*session{},
		byToken:     map[[32]byte]*session{},
		rooms:       map[string]*room{},
		mirrors:     map[string]*mirror{},
		opening:     map[string]int{},
		standIns:    standIns{m: map[*viewer]standIn{}},
		taking:      map[string]chan struct{}{},
		conns:       map[*websocket.Conn]struct{}{},
		turns:       make(chan struct{}, cfg.RunConcurrency),
		lessons:     newLessonCache(),
		quit:        make(chan struct{}),
	}
	for range cfg.RunConcurrency {
		s.turns <- struct{}{}
	}
	for _, o := range cfg.AllowOrigins {
		n, ok := normalOrigin(o)
		if !ok {
			return nil, fmt.Errorf("%w %q: want scheme://host[:port], such as https://course.example.org", ErrOrigin, o)
		}
		s.origins[n] = true
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout:  10 * time.Second,
		ReadBufferSize:    1024, // small: an idle connection keeps it; big frames are read in pieces
		WriteBufferSize:   4096,
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: false,
		CheckOrigin:       func(*http.Request) bool { return true }, // checked before, with a plain message
		Subprotocols:      []string{Subprotocol},                    // picked when offered (credentials.go)
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, "websocket upgrade failed: "+reason.Error(), status)
		},
	}
	limits := map[string]any{
		"maxFrameBytes":         cfg.MaxFrameBytes,
		"maxLessonBytes":        engine.MaxLessonBytes,
		"commandsPerSecond":     cfg.CommandsPerSecond,
		"commandBurst":          cfg.CommandBurst,
		"bytesPerSecond":        cfg.BytesPerSecond,
		"resumeSeconds":         int(cfg.ResumeWindow.Seconds()),
		"idleSeconds":           int(cfg.IdleTimeout.Seconds()),
		"maxLayers":             engine.MaxLayers,
		"maxNeurons":            engine.MaxNeurons,
		"maxWeights":            engine.MaxWeights,
		"maxSamples":            engine.MaxSamples,
		"maxInputs":             engine.MaxInputs,
		"maxOutputs":            engine.MaxOutputs,
		"maxNameChars":          engine.MaxNameChars,
		"maxValue":              engine.MaxValue,
		"maxStepsPerSecond":     maxStepsPerSecond,
		"maxRunFramesPerSecond": int(time.Second / progressInterval),
		"maxQueuedFrames":       cfg.MaxQueuedFrames,
		"boundaryGrid":          cfg.BoundaryGrid,
	}
	s.limitsJSON, _ = json.Marshal(limits)
	if cfg.Cluster != nil {
		d, err := newDirectory(cfg.Cluster)
		if err != nil {
			return nil, err
		}
		s.dir = d
		if s.board, err = s.newBoard(); err != nil {
			return nil, err
		}
		s.wg.Add(1)
		go s.publishLoop()
		if !cfg.Cluster.Embedded() || cfg.Cluster.Persistent() {
			// NATS keeps data beyond this process: rooms outlive it.
			if s.roomData, err = newRoomStore(cfg.Cluster); err != nil {
				return nil, err
			}
			if s.store, err = newStore(cfg.Cluster, cfg.OwnerLease); err != nil {
				return nil, err
			}
			if s.store.rooms {
				s.restoreRooms()
			}
			if err := s.serveHandovers(); err != nil {
				return nil, err
			}
			s.wg.Add(2)
			go s.renewLoop(s.quit)
			go s.every(s.quit, roomRenew, s.renewRooms)
		}
		s.wg.Add(1)
		go s.refreshLoop(s.quit)
	}
	return s, nil
}

// every runs f every d until quit, as a background loop Shutdown waits for
// (the caller has added it to s.wg).
func (s *Server) every(quit <-chan struct{}, d time.Duration, f func()) {
	defer s.wg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			f()
		}
	}
}

// Healthz answers GET /healthz: 200 "ok" while the server accepts sessions,
// 503 once it is shutting down.
func (s *Server) Healthz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if closing {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "shutting down\n")
		return
	}
	io.WriteString(w, "ok\n")
}

// ServeHTTP is the websocket endpoint, /ws. Everything that can be refused
// is refused before the upgrade, with a plain HTTP status and message.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	refuse := func(reason string, status int, msg string) {
		s.metrics.refused.WithLabelValues(reason).Inc()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "2")
		}
		w.WriteHeader(status)
		io.WriteString(w, msg+"\n")
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		refuse("closing", http.StatusServiceUnavailable, "netstep is restarting; try again in a few seconds.")
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		refuse("not_websocket", http.StatusBadRequest, "This is netstep's websocket endpoint: connect with a websocket, as the page does.")
		return
	}
	if !s.originAllowed(r) {
		refuse("origin", http.StatusForbidden, "Pages from "+r.Header.Get("Origin")+" may not open netstep sessions here; the server's operator can allow it with --allow-origin.")
		return
	}
	if msg := checkQuery(r); msg != "" {
		refuse("query", http.StatusBadRequest, msg)
		return
	}
	q := r.URL.Query()
	if q.Has("token") {
		// Refused rather than ignored: ignored, a presenter would silently
		// follow. A resume token or a seat in the query is ignored below.
		refuse("query_token", http.StatusBadRequest, "token: a presenter token is not accepted in the address, which proxies and servers log; send it as the websocket subprotocol netstep.token.TOKEN (docs/protocol.md).")
		return
	}
	creds, msg := credentialsOf(r)
	if msg != "" {
		refuse("subprotocol", http.StatusBadRequest, msg)
		return
	}
	compact := false
	switch q.Get("events") {
	case "", "objects":
	case "compact":
		compact = true
	default:
		refuse("query", http.StatusBadRequest, "events: want objects or compact.")
		return
	}
	if q.Has("room") || q.Has("fork") {
		s.serveRoom(w, r, q, creds, compact, refuse) // limited by the join limit instead: a class joins at once
		return
	}
	if !s.handshakes.allow(s.clientAddr(r), time.Now()) {
		refuse("rate", http.StatusTooManyRequests, "Too many connections from your address; wait a few seconds.")
		return
	}
	lesson := q.Get("lesson")
	var sess *session
	expired := false
	if tok := creds.Resume; tok != "" {
		sess = s.lookup(tok)
		if sess == nil {
			sess = s.revive(tok) // saved before a restart, or held by another instance
		}
		expired = sess == nil
	}
	if sess == nil {
		if msg, ok := s.reserve(); !ok {
			refuse("full", http.StatusServiceUnavailable, msg)
			return
		}
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		if sess == nil {
			s.release()
		}
		return // the upgrader has answered
	}
	resumed := sess != nil
	if sess != nil {
		// The session may end between lookup and attach; then this is a
		// fresh session after all.
		c := s.newConn(ws, sess)
		if sess.do(func() { sess.attach(c.v, true, false) }) {
			c.serve()
			return
		}
		resumed, expired = false, true
		if msg, ok := s.reserve(); !ok {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, msg), time.Now().Add(time.Second))
			s.untrack(ws)
			ws.Close()
			return
		}
	}
	sess = s.start(compact)
	c := s.newConn(ws, sess)
	if !sess.do(func() {
		sess.attach(c.v, resumed, expired)
		if q.Has("resume") && !resumed && !expired {
			// A page from before tokens left the address: it restores its
			// lesson as after a restart, and the token is not honoured.
			sess.reply(c.v, &Error{Code: CodeResumeExpired, Message: "resume: a resume token in the address is ignored, since logs keep addresses; send it as the websocket subprotocol netstep.resume.TOKEN. This is a fresh session."})
		}
		if lesson != "" {
			sess.preload(c.v, lesson)
		}
	}) {
		s.untrack(ws)
		ws.Close()
		return
	}
	c.serve()
}

// reserve holds a place for a new session, or says why there is none.
func (s *Server) reserve() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return "netstep is restarting; try again in a few seconds.", false
	}
	if s.sessionRefusalLocked() != "" {
		s.evictOrphan()
	}
	if msg := s.sessionRefusalLocked(); msg != "" {
		return msg, false
	}
	s.reserved++
	return "", true
}

// evictOrphan evicts the session whose learner left longest ago (one that
// waits for a resume), so that sessions opened and abandoned cannot keep a
// newcomer out at MaxSessions. Rooms are not evicted. s.mu is held.
func (s *Server) evictOrphan() {
	var oldest *session
	var since int64
	for _, sess := range s.sessions {
		if t := sess.orphaned.Load(); t != 0 && sess.room == nil && (oldest == nil || t < since) {
			oldest, since = sess, t
		}
	}
	if oldest != nil {
		s.evictLocked(oldest)
	}
}

// evictLocked stops a session whose learner left, to make room: with a
// store it is parked there (saved, its claim released; its resume token
// brings it back, here or on another instance, as after a restart),
// without one it ends. s.mu is held.
func (s *Server) evictLocked(sess *session) {
	delete(s.sessions, sess.id)
	delete(s.byToken, sha256.Sum256([]byte(sess.token)))
	s.metrics.sessions.Dec()
	s.metrics.refused.WithLabelValues("evicted").Inc()
	sess.parked.Store(s.store != nil)
	sess.stop(websocket.CloseGoingAway, "session expired")
}

func (s *Server) release() {
	s.mu.Lock()
	s.reserved--
	s.mu.Unlock()
}

// start begins a session in the place reserve held.
func (s *Server) start(compact bool) *session {
	id, token := randomString(9), randomString(24)
	sess := newSession(s, id, token)
	sess.compact = compact
	s.mu.Lock()
	s.reserved--
	if s.closing {
		// Reserved before Shutdown began, started after it looked: the
		// session never runs (Shutdown may already be waiting for the
		// others, so it must not be counted), and the caller's do fails.
		s.mu.Unlock()
		close(sess.done)
		return sess
	}
	s.sessions[id] = sess
	s.byToken[sha256.Sum256([]byte(token))] = sess
	s.wg.Add(1)
	s.mu.Unlock()
	s.metrics.sessions.Inc()
	s.metrics.started.Inc()
	go sess.loop()
	return sess
}

// lookup finds the live session a resume token names.
func (s *Server) lookup(token string) *session {
	if len(token) > 64 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byToken[sha256.Sum256([]byte(token))]
}

// forget removes an ended session: its token no longer resumes anything.
func (s *Server) forget(sess *session) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
		delete(s.byToken, sha256.Sum256([]byte(sess.token)))
		s.metrics.sessions.Dec()
		if rm := sess.room; rm != nil && s.rooms[rm.code] == rm {
			delete(s.rooms, rm.code)
			if rm.relay != nil {
				rm.relay.stop()
			}
			if s.dir != nil && (rm.relay == nil || !rm.relay.moved) { // a room that moved lives on elsewhere
				s.wg.Add(1) // the session's own count is still held: Shutdown waits for this too
				go s.releaseCode(rm.code)
			}
			s.metrics.rooms.Dec()
			s.metrics.followers.Sub(float64(rm.followers.Load()))
		}
	}
	s.mu.Unlock()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Sessions returns how many sessions are live.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Shutdown refuses new sessions, closes every websocket with 1001 (going
// away) and waits for every session and connection goroutine to end, or
// for ctx; then it cuts the connections that are left. http.Server's own
// Shutdown does not close websockets: call both.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		close(s.quit)
	}
	s.closing = true
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	mirrors := make([]*mirror, 0, len(s.mirrors))
	for _, m := range s.mirrors {
		mirrors = append(mirrors, m)
	}
	s.mu.Unlock()
	for _, m := range mirrors {
		m.end(nil)
	}
	for _, sess := range sessions {
		sess.stop(websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for ws := range s.conns {
			ws.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

func (s *Server) track(ws *websocket.Conn) {
	s.mu.Lock()
	s.conns[ws] = struct{}{}
	s.mu.Unlock()
}

func (s *Server) untrack(ws *websocket.Conn) {
	s.mu.Lock()
	delete(s.conns, ws)
	s.mu.Unlock()
}

// originAllowed accepts requests without an Origin (not from a browser),
// the origin "null" (sandboxed iframes), the server's own origin and the
// configured ones.
func (s *Server) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	n, ok := normalOrigin(o)
	return ok && s.origins[n]
}

// normalOrigin lowercases scheme://host[:port] and drops a default port.
func normalOrigin(o string) (string, bool) {
	u, err := url.Parse(strings.TrimSuffix(o, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if h, p, err := net.SplitHostPort(host); err == nil && ((u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443")) {
		host = h
	}
	return u.Scheme + "://" + host, true
}

// clientAddr is the address every per-address limit counts: the client's
// IPv4 address, or its IPv6 /64 (one household or school gets a whole
// /64, so counting single IPv6 addresses would let one client rotate
// through them). The client is the connection's peer or, on a request
// straight from a proxy named in TrustProxy, the address that proxy
// forwarded (external.Client has the one rule). Behind a proxy that is not
// named, every client shares the proxy's address, which the handshake and
// join bursts allow for.
func (s *Server) clientAddr(r *http.Request) string {
	host := external.Client(r, s.cfg.TrustProxy)
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// randomString returns n random bytes from crypto/rand, base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// The longest value each query parameter of /ws may have: a lesson's name
// (engine's limit), a 24-character token with room to spare, a room code.
// Longer values are refused before anything reads them, so nothing echoes
// a megabyte back.
const maxQueryBytes = 1024

var maxQueryValue = map[string]int{
	"lesson": engine.MaxNameChars,
	"resume": 64,
	"token":  64,
	"room":   16,
	"fork":   16,
	"seat":   maxSeatChars,
	"events": 16,
}

// checkQuery reports what is wrong with a /ws query's size, naming the
// field, or "".
func checkQuery(r *http.Request) string {
	if len(r.URL.RawQuery) > maxQueryBytes {
		return fmt.Sprintf("the query is %d bytes; at most %d.", len(r.URL.RawQuery), maxQueryBytes)
	}
	for k, vs := range r.URL.Query() {
		limit, known := maxQueryValue[k]
		for _, v := range vs {
			if known && len(v) > limit {
				return fmt.Sprintf("%s: at most %d characters, got %d.", k, limit, len(v))
			}
		}
		if known && len(vs) > 1 {
			return k + ": give it once."
		}
	}
	return ""
}
