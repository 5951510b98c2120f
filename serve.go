package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/netstep/netstep/engine"
	"github.com/netstep/netstep/external"
	"github.com/netstep/netstep/server"
	"github.com/netstep/netstep/web"
)

// shutdownTimeout bounds a graceful stop: websockets closed with 1001,
// requests finished. The program exits well within 10 seconds of SIGTERM.
const shutdownTimeout = 8 * time.Second

// listFlag is a flag that may be repeated and takes comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// proxyFlag is --trust-proxy: addresses and CIDRs, repeated or separated
// by commas.
type proxyFlag struct {
	list listFlag
	p    external.Proxies
}

func (f *proxyFlag) String() string { return f.list.String() }

func (f *proxyFlag) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "false", "1", "0", "yes", "no", "on", "off":
		return fmt.Errorf("want the proxies' addresses, not %q: name the addresses or CIDRs your proxy or load balancer connects from, such as 10.0.0.0/8,127.0.0.1", s)
	}
	list := append(slices.Clone(f.list), s)
	p, err := external.ParseProxies(list)
	if err != nil {
		return err
	}
	f.list, f.p = list, p
	return nil
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("serve", "Run the server: the page, live training sessions over websockets at /ws, /healthz and /metrics.", getenv, stderr)
	addr := f.String("addr", ":8080", "the address to listen on, HOST:PORT (the PORT variable, if set, changes the port of the default)")
	metricsAddr := f.String("metrics-addr", "", "serve /metrics on this address, HOST:PORT, instead of the main one (which then answers 404 there); empty: /metrics on the main address")
	maxSessions := &intFlag{v: 2000, lo: 1, hi: 1_000_000}
	f.Var(maxSessions, "max-sessions", "live sessions at most; past it new connections get 503")
	maxClusterSessions := &intFlag{v: 0, lo: 0, hi: 100_000_000}
	f.Var(maxClusterSessions, "max-cluster-sessions", "live sessions at most over every instance sharing NATS, counted through NATS (docs/scaling.md); 0: only each instance's --max-sessions")
	maxRooms := &intFlag{v: 200, lo: 1, hi: 1_000_000}
	f.Var(maxRooms, "max-rooms", "classroom rooms open at once over every instance sharing NATS; past it opening a room gets 503")
	var origins listFlag
	f.Var(&origins, "allow-origin", "another origin whose pages may open sessions, as https://host[:port]; repeat or separate with commas")
	var embedOrigins listFlag
	f.Var(&embedOrigins, "embed-origins", "sites allowed to frame /embed, as https://host[:port]; repeat or separate with commas (default: any site)")
	var trustProxy proxyFlag
	f.Var(&trustProxy, "trust-proxy", "the reverse proxies or load balancers in front, as addresses or CIDRs (10.0.0.0/8,127.0.0.1); on requests straight from one, the client's address comes from X-Forwarded-For (every per-address limit counts it) and absolute links (oEmbed, embed snippets, room join links and QR codes) from X-Forwarded-Proto and X-Forwarded-Host; repeat or separate with commas")
	lessonsDir := f.String("lessons", "", "a directory of your own lessons (*.json), added to the built-in ones")
	idle := f.Duration("idle-timeout", 30*time.Minute, "a session with no command for this long ends")
	resume := f.Duration("resume-window", 2*time.Minute, "how long a dropped session can be resumed")
	handshakeBurst := &intFlag{v: 60, lo: 1, hi: 1_000_000}
	f.Var(handshakeBurst, "handshake-burst", "websocket handshakes one client address may make at once (a class behind one NAT)")
	handshakeRate := f.Float64("handshake-rate", 2, "websocket handshakes a second one client address may make, sustained")
	logFormat := f.String("log-format", "text", "log lines as text or json, on standard error")
	roomTTL := f.Duration("room-ttl", 2*time.Hour, "a classroom room whose presenter has gone ends after this")
	joinBurst := &intFlag{v: 60, lo: 1, hi: 100_000}
	f.Var(joinBurst, "join-burst", "classroom joins one address may make at once (a class behind one NAT); then 3 a second")
	data := f.String("data", "netstep-data", "the folder where the embedded NATS node keeps rooms across restarts (created if missing; one instance a folder); memory keeps nothing")
	natsURL := f.String("nats", "", "join a NATS cluster with JetStream instead of embedding a node: nats://host:4222, several separated by commas (docs/scaling.md)")
	natsReplicas := &intFlag{v: 1, lo: 1, hi: 5}
	f.Var(natsReplicas, "nats-replicas", "with --nats or --nats-cluster-listen: copies of each stream and bucket the NATS cluster keeps (3 on a 3-node cluster)")
	clusterListen := f.String("nats-cluster-listen", "", "make this instance's embedded NATS node a member of a cluster of such nodes, listening for the others' routes at HOST:PORT (0.0.0.0:6222); give every member the same --nats-routes and --nats-replicas 3 (docs/scaling.md)")
	var routes listFlag
	f.Var(&routes, "nats-routes", "with --nats-cluster-listen: the members' route URLs, nats://host:6222, separated by commas (this member's own may be among them)")
	roomEmptyTTL := f.Duration("room-empty-ttl", 10*time.Minute, "a classroom room with nobody connected ends after this")
	roomsPerAddr := &intFlag{v: 5, lo: 1, hi: 100_000}
	f.Var(roomsPerAddr, "rooms-per-address", "classroom rooms one client address may have open at once, over every instance sharing NATS (a school behind one NAT: one per teacher teaching at once)")
	followersPerAddr := &intFlag{v: 200, lo: 1, hi: 1_000_000}
	f.Var(followersPerAddr, "followers-per-address", "students from one client address who may follow one room (a lecture hall behind one NAT: its size)")
	sessionMemory := &intFlag{v: 16, lo: 1, hi: 1 << 20}
	f.Var(sessionMemory, "session-memory", "MiB one session may hold for its undo history (checkpoints and edits); past it the oldest edits are forgotten")
	maxMemory := &intFlag{v: 1024, lo: 16, hi: 1 << 30}
	f.Var(maxMemory, "max-memory", "MiB all sessions may hold; past it loading lessons, edits, forks and new rooms are refused (server_busy)")
	if err := f.parse(args); err != nil {
		return err
	}
	// An idle session holds about 40 KiB of live memory; with Go's default
	// GOGC=100 the heap may grow to twice what is live before a collection,
	// which puts resident memory near 90 KiB a session. Collecting at 50%
	// keeps it under 64 KiB for a small CPU cost (docs/benchmarks.md). A
	// GOGC or GOMEMLIMIT in the environment wins.
	if getenv("GOGC") == "" && getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(50)
	}
	explicitAddr := false
	f.Visit(func(fl *flag.Flag) { explicitAddr = explicitAddr || fl.Name == "addr" })
	if !explicitAddr && getenv(envName("addr")) == "" {
		if port := getenv("PORT"); port != "" {
			*addr = ":" + port
		}
	}
	if *roomEmptyTTL < time.Second {
		return usageError{"--room-empty-ttl must be at least 1s"}
	}
	if *roomTTL < time.Second {
		return usageError{"--room-ttl must be at least 1s"}
	}
	if *handshakeRate <= 0 {
		return usageError{"--handshake-rate: want a number above 0"}
	}
	if *idle < time.Minute || *resume < time.Second {
		return usageError{"--idle-timeout must be at least 1m and --resume-window at least 1s"}
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(stderr, nil)
	default:
		return usageError{fmt.Sprintf("--log-format: want text or json, got %q", *logFormat)}
	}
	log := slog.New(handler)

	cat := engine.Builtin()
	if err := engine.BuiltinError(); err != nil {
		log.Error("a built-in lesson is broken", "err", err)
	}
	if *lessonsDir != "" {
		folder, err := openLessonFolder(*lessonsDir)
		if err != nil {
			return usageError{"--lessons " + err.Error()}
		}
		with, err := cat.With(folder, ".")
		folder.Close()
		if with == nil {
			return fmt.Errorf("--lessons %s: %w", *lessonsDir, err)
		}
		// A bad file is skipped, said once in the log with its name, and the
		// server starts with the others (netstep validate FOLDER says the same).
		for _, p := range fileProblems(err) {
			log.Warn("--lessons: a lesson file is skipped", "folder", *lessonsDir, "problem", p.Error())
		}
		cat = with
	}

	nc, closeNATS, err := openCluster(ctx, natsFlags{data: *data, url: *natsURL, replicas: natsReplicas.v, clusterListen: *clusterListen, routes: routes}, *addr, log)
	if err != nil {
		return err
	}
	defer closeNATS()

	srv, err := server.New(server.Config{
		Cluster:      nc,
		Lessons:      cat,
		MaxSessions:  maxSessions.v,
		MaxRooms:     maxRooms.v,
		AllowOrigins: origins,
		TrustProxy:   trustProxy.p,
		IdleTimeout:  *idle,
		ResumeWindow: *resume,
		RoomTTL:      *roomTTL,
		JoinBurst:    joinBurst.v,
		Logger:       log,

		RoomEmptyTTL:        *roomEmptyTTL,
		RoomsPerAddress:     roomsPerAddr.v,
		FollowersPerAddress: followersPerAddr.v,
		MaxClusterSessions:  maxClusterSessions.v,
		SessionMemory:       int64(sessionMemory.v) << 20,
		MaxMemory:           int64(maxMemory.v) << 20,

		HandshakesPerSecond: *handshakeRate,
		HandshakeBurst:      handshakeBurst.v,
	})
	if err != nil {
		return setupError(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Where phones on the network reach this server: the machine's own
	// interfaces, for the presenter's join link (docs/classroom.md).
	ifaceAddrs, _ := net.InterfaceAddrs()
	network := networkURLs(ln.Addr(), ifaceAddrs)
	pages, err := web.New(web.Options{Lessons: webCatalog(cat), DefaultLesson: defaultLesson(cat), Logger: log, Rooms: srv,
		EmbedOrigins: embedOrigins, TrustProxy: trustProxy.p, Addresses: network})
	if err != nil {
		ln.Close()
		return setupError(err)
	}
	r := chi.NewRouter()
	// Every answer's caching and security headers start from one place.
	r.Use(web.Headers)
	r.Get("/healthz", srv.Healthz)
	if *metricsAddr == "" {
		r.Method(http.MethodGet, "/metrics", srv.Metrics())
	}
	r.Method(http.MethodGet, "/ws", srv)
	r.Post("/api/rooms", srv.CreateRoom)
	r.Mount("/", pages)

	var mln net.Listener
	if *metricsAddr != "" {
		if mln, err = net.Listen("tcp", *metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
	}
	newHTTPServer := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
		}
	}
	hs := newHTTPServer(r)
	// The main address is printed first: scripts and tests read the first
	// URL printed as the page's.
	fmt.Fprintf(stdout, "netstep is listening on %s (open it in a browser)\n", pageURL(ln.Addr()))
	for _, u := range network {
		fmt.Fprintf(stdout, "  on the network (students' phones join here): %s/\n", u)
	}
	log.Info("listening", "addr", ln.Addr().String(), "maxSessions", maxSessions.v, "lessons", len(cat.Names()))
	served := make(chan error, 2)
	// The metrics listener, when asked for: /metrics alone, on an address
	// that can be kept off the public network.
	var ms *http.Server
	if mln != nil {
		mr := chi.NewRouter()
		mr.Use(web.Headers)
		mr.Method(http.MethodGet, "/metrics", srv.Metrics())
		ms = newHTTPServer(mr)
		fmt.Fprintf(stdout, "netstep serves its metrics on %smetrics\n", pageURL(mln.Addr()))
		log.Info("metrics listening", "addr", mln.Addr().String())
		go func() { served <- ms.Serve(mln) }()
	}

	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		hs.Close()
		if ms != nil {
			ms.Close()
		}
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: closing every session with 1001")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Shutdown(sctx) }()
	if ms != nil {
		ms.Shutdown(sctx)
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	wsErr := srv.Shutdown(sctx)
	httpErr := <-httpDone
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if wsErr != nil || httpErr != nil {
		log.Warn("shutdown cut some connections short", "websockets", wsErr, "http", httpErr)
	}
	log.Info("stopped")
	return nil
}

// pageURL is the URL to open for a listener's address.
func pageURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// networkURLs are the base URLs at which other machines reach a listener:
// for one bound to all interfaces (0.0.0.0, ::, or no host), one per
// non-loopback, non-link-local address of this machine's interfaces; for
// one bound to a single non-loopback address, that one; none for loopback.
func networkURLs(ln net.Addr, ifaces []net.Addr) []string {
	host, port, err := net.SplitHostPort(ln.String())
	if err != nil {
		return nil
	}
	reachable := func(ip net.IP) bool {
		return ip != nil && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() && !ip.IsUnspecified() && !ip.IsMulticast()
	}
	var out []string
	if ip := net.ParseIP(host); host != "" && !ip.IsUnspecified() {
		if reachable(ip) {
			out = append(out, "http://"+net.JoinHostPort(ip.String(), port))
		}
		return out
	}
	for _, a := range ifaces {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		}
		if reachable(ip) {
			out = append(out, "http://"+net.JoinHostPort(ip.String(), port))
		}
	}
	return out
}

// webCatalog is the engine's catalog as the pages see it, with what the
// gallery shows of each lesson (see galleryLesson).
func webCatalog(cat *engine.Catalog) web.Catalog {
	var out web.Catalog
	for _, n := range cat.Names() {
		l, _ := cat.Lookup(n)
		out = append(out, galleryLesson(n, l))
	}
	return out
}

func defaultLesson(cat *engine.Catalog) string {
	if _, ok := cat.Lookup(engine.DefaultLesson); ok {
		return engine.DefaultLesson
	}
	return ""
}

// setupError says which flag is to blame for an error setting up the server
// or the pages, when one is: a bad origin is a usage error naming its flag;
// anything else (NATS not answering, a bug) is passed on as it is.
func setupError(err error) error {
	switch {
	case errors.Is(err, server.ErrOrigin):
		return usageError{"--allow-origin: " + strings.TrimPrefix(err.Error(), "server: ")}
	case errors.Is(err, web.ErrEmbedOrigin):
		return usageError{"--embed-origins: " + strings.TrimPrefix(err.Error(), "web: ")}
	}
	return err
}
