package servetest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the program when the test binary that
// started it dies (a go test timeout, a Ctrl-C, a killed CI job). Without it
// the server lives on as an orphan, holding its port and every file the test
// binary's parent handed down, such as a lock held around the test run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
