//go:build race

package server

// raceEnabled: the race detector slows everything several times, so load
// tests scale themselves down.
const raceEnabled = true
