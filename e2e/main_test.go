// Package e2e holds the end-to-end tests: the program built as a user
// builds it, started as a real process on a free loopback port, and the
// learner's page in headless Chromium (Debian's /usr/bin/chromium) driven
// with chromedp. Without Chromium they skip, except in CI (CI=true), where a
// missing browser is a failure.
package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// program is the netstep binary built once for every test in this package.
var program string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "netstep-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	program = filepath.Join(dir, "netstep")
	args := []string{"build", "-o", program}
	if raceBuild {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "..")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the program:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running copy of the program.
type server struct {
	base string
	cmd  *exec.Cmd
	done chan error
	stop func()
}

// startProgram starts the program on addr and returns its base URL.
func startProgram(t *testing.T, addr string, args ...string) string {
	t.Helper()
	return startServer(t, addr, args...).base
}

// startServer starts `netstep serve --addr addr --data memory args...` (tests
// run side by side: no shared data folder) and waits until it
// prints its address and answers /healthz. The address comes from what the
// program prints, so port 0 never races another test for a port. stop sends
// SIGTERM (the path a deploy takes) and waits; the test's end stops it too.
func startServer(t *testing.T, addr string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(program, append([]string{"serve", "--addr", addr, "--data", "memory"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`http://(127\.0\.0\.1|localhost):[0-9]+`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" {
				select {
				case found <- m:
				default:
				}
			}
		}
		s.done <- cmd.Wait()
	}()
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("the server did not stop within 10s of SIGTERM")
		}
	}
	t.Cleanup(s.stop)
	select {
	case s.base = <-found:
	case err := <-s.done:
		stopped = true
		t.Fatalf("the server stopped: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not print its address within 20s")
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(s.base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the server did not answer /healthz within 15s")
	return nil
}
