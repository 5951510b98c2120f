#!/usr/bin/env bash
# The whole test suite: Go tests with the race detector (browser tests
# included: they need Chromium; the load generator's smoke run is one of
# them), a CI-sized run of the benchmarks, the page's JavaScript unit tests,
# and a short run of each fuzz target.
set -euo pipefail
# Go 1.27.3 (the machine's own Go fetches it from the module proxy): 1.26
# calls standard-library code with known vulnerabilities.
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")"
go test -race -count=1 ./...
# Every benchmark, 100 iterations each (about 10 s): a benchmark that breaks
# shows up here (allocations are pinned by tests); the figures in
# docs/benchmarks.md come from the full commands listed there.
go test -run '^$' -bench . -benchtime 100x ./engine ./server
node --test web/jstest/
./fuzz.sh
