#!/usr/bin/env bash
# `make bench`: the standard benchmark of flowlens (the day-20m dataset and the
# Q1–Q7 workload of the shared BENCHMARK.md) beside its peers in the same run:
# a plain DuckDB table loaded with read_csv from the same files (in flowlens's
# own process and DuckDB instance) and Debian's clickhouse-server (started by
# the bench on free ports, IPv4 as UInt32, ORDER BY (srcaddr, start)). flowlens
# is measured through a running `flowlens serve`, in fresh `flowlens query`
# processes and in process; the table printed is ready for docs/BENCHMARKS.md,
# with flowlens's ratio to the best peer per figure. With clickhouse-server,
# flowlens on its ClickHouse store (`ingest --store`, same server) gets its
# own column and rows beside the peers; without it the bench says so and
# runs without both. The dataset is generated
# once into ./bench-data and reused. Arguments go to `flowlens bench`
# (--records 2000000 --runs 3 for a quicker run, --no-clickhouse).
set -euo pipefail
cd "$(dirname "$0")/.."
exec bin/flowlens bench "$@"
