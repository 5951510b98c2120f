//go:build race

package e2e

// raceBuild: the suite runs with -race, so the program it starts is built
// with the race detector too (as the server ran when these tests called it
// in-process).
const raceBuild = true
