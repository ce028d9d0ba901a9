#!/usr/bin/env bash
# `make bench`: the standard benchmark of flowlens (the day-20m dataset and the
# Q1–Q7 workload of the shared BENCHMARK.md), run in one process beside a plain
# DuckDB table loaded with read_csv from the same files, printing a table ready
# for docs/BENCHMARKS.md. The dataset is generated once into ./bench-data and
# reused. Arguments go to `flowlens bench` (--records 2000000 --runs 3 for a
# quicker run). scripts/bench-cli.sh measures the same workload through
# separate `flowlens sql` processes (process start and database open included).
set -euo pipefail
cd "$(dirname "$0")/.."
exec bin/flowlens bench "$@"
