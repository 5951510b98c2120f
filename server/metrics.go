package server

import (
	"net/http"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, in a registry of its own so
// that several servers (tests) can live in one process.
type metrics struct {
	reg       *prometheus.Registry
	sessions  prometheus.Gauge
	viewers   prometheus.Gauge
	rooms     prometheus.Gauge
	followers prometheus.Gauge
	memory    prometheus.Gauge
	encodes   prometheus.Counter
	started   prometheus.Counter
	steps     prometheus.Counter
	errors    *prometheus.CounterVec
	dropped   prometheus.Counter
	refused   *prometheus.CounterVec
	takeovers prometheus.Counter
	logWrite  prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netstep_sessions", Help: "Live sessions, including those waiting to be resumed."}),
		viewers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netstep_connections", Help: "Open websocket connections attached to a session."}),
		rooms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netstep_rooms", Help: "Open classroom rooms."}),
		memory: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netstep_session_memory_bytes", Help: "Bytes the sessions hold by their own count (trainers, histories, cached state frames), which --max-memory bounds."}),
		encodes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netstep_state_encodes_total", Help: "State frames encoded (a room's cached state sent again is not counted)."}),
		followers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "netstep_followers", Help: "Students following a classroom room."}),
		started: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netstep_sessions_started_total", Help: "Sessions started."}),
		steps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netstep_steps_total", Help: "Training steps taken, by step commands and in run mode."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netstep_errors_total", Help: "Error frames sent, by protocol error code."}, []string{"code"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netstep_frames_dropped_total", Help: "Frames not sent to a viewer: replaced by a newer one, or dropped with a viewer that fell behind."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "netstep_upgrades_refused_total", Help: "Websocket upgrades refused, by reason."}, []string{"reason"}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "netstep_room_takeovers_total", Help: "Rooms this instance took over from another (gone, or draining) or brought back at start."}),
		logWrite: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "netstep_room_log_write_seconds", Help: "Time to write a room's changes to its log in JetStream, acknowledged, before its frames go out.",
			Buckets: []float64{.0001, .0002, .0005, .001, .002, .005, .01, .05, .25, 1}}),
	}
	m.reg.MustRegister(m.sessions, m.viewers, m.rooms, m.followers, m.memory, m.encodes, m.started, m.steps, m.errors, m.dropped, m.refused, m.takeovers, m.logWrite,
		// go_gc_heap_live_bytes (the heap marked live by the last GC) and
		// go_gc_cycles_total_gc_cycles_total besides the usual go_memstats:
		// the load generator divides them by the sessions to get the real
		// memory an idle session holds, garbage left out.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/(heap/live:bytes|cycles/total:gc-cycles)$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Metrics returns the handler for GET /metrics: this server's metrics in
// the Prometheus text format.
func (s *Server) Metrics() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

// Registry returns the server's Prometheus registry, for the program to add
// its own collectors to.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }
