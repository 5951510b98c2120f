#!/usr/bin/env bash
# The whole test suite: Go tests with the race detector (browser tests
# included: they need Chromium; the load generator's smoke run is one of
# them), the engine's determinism checks on arm64, GOAMD64=v3 and
# WebAssembly (they need qemu-aarch64-static and Node), a CI-sized run of
# the benchmarks, the page's JavaScript unit tests, tsc --checkJs over the
# page's JSDoc types (npm fetches the pinned TypeScript once), and a short
# run of each fuzz target.
set -euo pipefail
# Go 1.27.3 (the machine's own Go fetches it from the module proxy): 1.26
# calls standard-library code with known vulnerabilities.
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")"
go test -race -count=1 -timeout 25m ./...
# Three tests the race run above skips run here without -race: the idle
# session's memory (a measurement the detector's own bookkeeping would
# swamp) and the abuse-mode load tests (whose limits are rates the detector
# slows clients below). A skip here (it would pass silently) fails the suite.
measured=$(go test -count=1 -v -run '^(TestIdleSessionMemory|TestAbuseModeLeavesLearnersAlone|TestAbuseModeRunsTheAttacksChosen)$' ./server ./loadtest) || { echo "$measured"; exit 1; }
echo "$measured" | grep -E 'KiB per idle session|sessions. memory|^(---|ok|FAIL)'
grep -q -- '--- PASS: TestIdleSessionMemory' <<<"$measured"
grep -q -- '--- PASS: TestAbuseModeLeavesLearnersAlone' <<<"$measured"
grep -q -- '--- PASS: TestAbuseModeRunsTheAttacksChosen' <<<"$measured"
# The same numbers on every machine (engine/doc.go): the golden traces and
# the random sessions' digests in engine/testdata/golden, written on amd64,
# must come out bit for bit the same on arm64 (under qemu), on amd64 with
# FMA instructions (GOAMD64=v3) and in WebAssembly (under Node). Only these
# tests run there: about a minute each, most of it building the package.
det='^(TestGoldenTraces|TestRandomSessionDigests)$'
GOARCH=arm64 go test -count=1 -exec qemu-aarch64-static -run "$det" ./engine
if [ "$(go env GOHOSTARCH)" != amd64 ]; then
  echo "GOAMD64=v3 check skipped: the host is $(go env GOHOSTARCH), not amd64"
elif ! grep -qw avx2 /proc/cpuinfo; then
  echo "GOAMD64=v3 check skipped: this CPU has no AVX2, so a v3 test binary cannot run here"
else
  GOAMD64=v3 go test -count=1 -run "$det" ./engine
fi
GOOS=js GOARCH=wasm go test -count=1 -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" -run "$det" ./engine
# Every benchmark, 100 iterations each (about 10 s): a benchmark that breaks
# shows up here (allocations are pinned by tests); the figures in
# docs/benchmarks.md come from the full commands listed there.
go test -run '^$' -bench . -benchtime 100x ./engine ./server
# The page's repaint benchmark (a [2,64,64,64,1] network at top speed in
# headless Chromium), which the race run above skips: about 20 s.
NETSTEP_BENCH=1 go test -count=1 -run '^TestBrowserRepaintBigNetwork$' ./e2e
node --test web/jstest/
# tsc --checkJs over static/js (TypeScript pinned, CI only): any type error fails.
.ci/typecheck/run
./fuzz.sh
