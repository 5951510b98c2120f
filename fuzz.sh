#!/usr/bin/env bash
# Runs every fuzz target for a budget (default 60000 inputs each):
#   ./fuzz.sh            # CI: a count, so the run cannot race a clock
#   ./fuzz.sh 5m         # a longer hunt by time
# A count rather than a duration by default: with a duration, Go 1.26's
# fuzzing coordinator can report "context deadline exceeded" at the end of
# the window on a busy machine without any failing input (go.dev/issue/75804,
# fixed in Go 1.27).
set -euo pipefail
# Go 1.27.3 (the machine's own Go fetches it from the module proxy): 1.26
# calls standard-library code with known vulnerabilities.
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")"
budget=${1:-60000x}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //'); do
    echo "fuzz $pkg $target for $budget"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" -parallel=2 "$pkg"
  done
done
