#!/usr/bin/env bash
# .ci/fuzz-short.sh — every fuzz target of the project, briefly, so that each
# parser is fuzzed on every CI run (FUZZTIME each, default 3s). Findings are
# written to the package's testdata/fuzz and fail the run; keep them as seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-3s}"
GO="${GO:-go}"
for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
  for f in $(grep -h --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
    echo "== $dir $f ($FUZZTIME)"
    "$GO" test -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" "$dir"
  done
done
