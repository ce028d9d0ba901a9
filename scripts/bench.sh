#!/usr/bin/env bash
# The standard benchmark of flowlens (the day-20m dataset and the Q1–Q7 workload),
# run beside a plain DuckDB table loaded with read_csv in the same process.
# The dataset is generated once into ./bench-data and reused. Arguments go to
# `flowlens bench` (e.g. --preset demo --runs 3 for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."
exec bin/flowlens bench "$@"
