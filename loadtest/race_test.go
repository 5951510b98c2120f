//go:build race

package loadtest

// raceEnabled: under the race detector everything runs several times
// slower, so rate limits are never reached and the abuse test means
// nothing there; test.sh runs it without -race.
const raceEnabled = true
