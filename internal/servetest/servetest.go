// Package servetest starts `netstep serve` for tests, one way for every
// test: the root package's tests run it in-process (run), the end-to-end
// tests run the built program, and both go through Start. The server
// listens where the caller says (127.0.0.1:0 for a free port, so tests side
// by side never race for one); its address is read from the line it prints,
// and Start returns once /healthz answers 200.
package servetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Within is how long a server has to print its address, to answer
// /healthz, and to stop after it is asked to: generous, for a loaded
// machine and the race detector (three instances forming an embedded NATS
// cluster take 3–9 s on an idle 2-core machine under the race detector,
// and CI runs every package's tests at once).
const Within = 40 * time.Second

// listening is the line serve prints once it listens.
var listening = regexp.MustCompile(`listening on (http://\S+)/`)

// Server is one running `netstep serve`.
type Server struct {
	// Base is the server's URL without a trailing slash: http://127.0.0.1:PORT.
	Base string

	cancel context.CancelFunc
	exited chan struct{} // closed when run has returned
	read   chan struct{} // closed when the last line has gone to onLine
	err    error         // what run returned, once exited is closed
	ended  bool          // Ended was called: run's error is the test's business
}

// Start calls run in a goroutine with a context that Stop cancels (the
// server's SIGTERM) and a writer for the server's standard output; run
// returns when the server has stopped, nil for a clean shutdown. Every line
// the server prints goes to onLine (when not nil), from another goroutine.
// The test's end stops the server.
func Start(t testing.TB, run func(ctx context.Context, stdout io.Writer) error, onLine func(line string)) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	s := &Server{cancel: cancel, exited: make(chan struct{}), read: make(chan struct{})}
	go func() {
		s.err = run(ctx, w)
		w.CloseWithError(fmt.Errorf("serve returned: %v", s.err))
		close(s.exited)
	}()
	found := make(chan string, 1)
	go func() {
		defer close(s.read)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if m := listening.FindStringSubmatch(lines.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			if onLine != nil {
				onLine(lines.Text())
			}
		}
		io.Copy(io.Discard, out) // a line too long for the scanner must not block the server
	}()
	t.Cleanup(func() { s.Stop(t) })
	select {
	case s.Base = <-found:
	case <-s.exited:
		t.Fatalf("serve stopped before it printed its address: %v", s.err)
	case <-time.After(Within):
		t.Fatalf("serve did not print its address within %v", Within)
	}
	deadline := time.Now().Add(Within)
	for {
		res, err := http.Get(s.Base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/healthz never answered 200 within %v: %v", s.Base, Within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Process is the built program run as a server: its Run is the run Start
// takes.
type Process struct {
	path string
	args []string

	mu  sync.Mutex
	cmd *exec.Cmd // once Run has started it
}

// Program is the built program at path, to be started with args.
func Program(path string, args ...string) *Process {
	return &Process{path: path, args: args}
}

// Run runs the program until ctx is done, then sends it SIGTERM, the signal
// a deploy sends, and SIGKILL if it has not exited Within. Exit status 0
// after SIGTERM is a clean shutdown: nil. Any other end is an error that
// quotes the last of the program's standard error (a race detector's
// report, a panic).
func (p *Process) Run(ctx context.Context, stdout io.Writer) error {
	cmd := exec.CommandContext(ctx, p.path, p.args...)
	cmd.Stdout = stdout
	var stderr tail
	cmd.Stderr = &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = Within
	dieWithParent(cmd)
	p.mu.Lock()
	err := cmd.Start()
	p.cmd = cmd
	p.mu.Unlock()
	if err != nil {
		return err
	}
	err = cmd.Wait()
	if ctx.Err() != nil && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		return nil // Wait reports the cancelled context even after exit 0
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("after SIGTERM (SIGKILL %v later): %w", Within, err)
	}
	if err != nil && len(stderr.b) > 0 {
		err = fmt.Errorf("%w; the end of its standard error:\n%s", err, stderr.b)
	}
	return err
}

// tail keeps the last 8 KiB written to it.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - 8<<10; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// Kill sends the running program SIGKILL: a crash, with nothing saved at
// the stop. Follow it with the Server's Ended.
func (p *Process) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return errors.New("the program is not running")
	}
	return p.cmd.Process.Kill()
}

// Shutdown asks the server to stop (cancels run's context) without waiting.
func (s *Server) Shutdown() { s.cancel() }

// Stop asks the server to stop and waits until it has and its output has
// been read (onLine is not called after Stop); an error from run (a server
// that did not exit cleanly) fails the test. Stopping a server that has
// already stopped does nothing more.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.cancel()
	select {
	case <-s.exited:
	case <-time.After(Within + 5*time.Second):
		t.Errorf("serve did not return within %v of shutdown", Within+5*time.Second)
		return
	}
	<-s.read
	if s.err != nil && !s.ended {
		t.Errorf("serve returned %v after shutdown, want nil (exit 0)", s.err)
		s.ended = true // said once
	}
}

// Ended waits for a server the test ended itself (a SIGKILL) and returns
// what run returned; Stop then reports nothing.
func (s *Server) Ended() error {
	<-s.exited
	s.ended = true
	return s.err
}
