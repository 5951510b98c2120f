//go:build !linux

package servetest

import "os/exec"

// dieWithParent has no portable equivalent outside Linux: there a test
// binary that dies may leave its server running.
func dieWithParent(*exec.Cmd) {}
