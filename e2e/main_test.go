// Package e2e holds the end-to-end tests: the program built as a user
// builds it, started as a real process on a free loopback port, and the
// learner's page in headless Chromium (Debian's /usr/bin/chromium) driven
// with chromedp. Without Chromium they skip, except in CI (CI=true), where a
// missing browser is a failure.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/netstep/netstep/internal/servetest"
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
	*servetest.Server
	process *servetest.Process
}

// startProgram starts the program on addr and returns its base URL.
func startProgram(t *testing.T, addr string, args ...string) string {
	t.Helper()
	return startServer(t, addr, args...).Base
}

// kill ends the program with SIGKILL (a crash: nothing saved at the stop)
// and waits until it has gone.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.Ended()
}

// startServer starts `netstep serve --addr addr --data memory args...` (tests
// run side by side: no shared data folder) through servetest: the address
// comes from what the program prints, so port 0 never races another test
// for a port. Stop sends SIGTERM (the path a deploy takes) and waits; the
// test's end stops it too.
func startServer(t *testing.T, addr string, args ...string) *server {
	t.Helper()
	p := servetest.Program(program, append([]string{"serve", "--addr", addr, "--data", "memory"}, args...)...)
	return &server{Server: servetest.Start(t, p.Run, nil), process: p}
}
