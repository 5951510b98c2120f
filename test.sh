#!/usr/bin/env bash
# The whole test suite: Go tests with the race detector (browser tests
# included: they need Chromium), the page's JavaScript unit tests, and a
# short run of each fuzz target.
set -euo pipefail
cd "$(dirname "$0")"
go test -race -count=1 ./...
if ls static/js/*.test.js >/dev/null 2>&1; then
  node --test static/js/
fi
./fuzz.sh 10s
