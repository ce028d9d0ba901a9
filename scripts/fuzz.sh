#!/usr/bin/env bash
# Runs every native fuzz target of the module for a short time each ($1, default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-10s}
tags=${TAGS:-duckdb_arrow,isal}
for pkg in $(go list -tags "$tags" ./...); do
  dir=$(go list -tags "$tags" -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func \(Fuzz[A-Za-z0-9_]*\)' "$dir"/*_test.go 2>/dev/null | awk '{print $2}' | sed 's/(.*//' | sort -u); do
    echo "fuzz: $pkg $target ($t)"
    go test -tags "$tags" -run '^$' -fuzz "^${target}\$" -fuzztime "$t" "$pkg"
  done
done
