package server

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them:
// every session, reader and writer must end when its server shuts down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
