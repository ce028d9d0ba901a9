#!/usr/bin/env bash
# `make bench-serve`: the query workload Q1–Q7 (shared BENCHMARK.md) on the day-20m dataset
#   1. in fresh CLI processes (`flowlens query`, no server: process start and database open included),
#   2. through a running `flowlens serve`, one query at a time, warm (synchronous, then asynchronous as
#      the console runs them: time to the first rows of a query run slice by slice, and to Complete),
#   3. through the server under load: CLIENTS concurrent clients mixing Q1–Q7 for DURATION,
# printing tables for docs/BENCHMARKS.md: first and median latency, p50/p99 under load, errors
# (must be 0; 429s are waited out and counted apart) and the server's peak RSS.
#
# Environment: BIN (default bin/flowlens), BENCH_DIR (dataset and database, default
# $HOME/.cache/flowlens-bench, shared with scripts/bench-cli.sh), DATASET (the generated flow logs,
# default BENCH_DIR/PRESET: a folder with a .complete file is used as it is, read only),
# SERVE_DATA (the database, default BENCH_DIR/serve-PRESET), PRESET (default day-20m),
# RECORDS (scale the preset, default its own), RUNS (warm runs, default 5), CLIENTS (default 50),
# DURATION (default 60s), MAX_CONCURRENT (server's --max-concurrent, default 8), PORT (default 18480).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/flowlens}
BENCH_DIR=${BENCH_DIR:-$HOME/.cache/flowlens-bench}
PRESET=${PRESET:-day-20m}
RUNS=${RUNS:-5}
CLIENTS=${CLIENTS:-50}
DURATION=${DURATION:-60s}
MAX_CONCURRENT=${MAX_CONCURRENT:-8}
PORT=${PORT:-18480}
NAME=$PRESET${RECORDS:+-$RECORDS}
DATASET=${DATASET:-$BENCH_DIR/$NAME}
DATA=${SERVE_DATA:-$BENCH_DIR/serve-$NAME}
mkdir -p "$BENCH_DIR"

if [ ! -f "$DATASET/.complete" ]; then
  echo "bench-serve: generating $NAME into $DATASET" >&2
  rm -rf "$DATASET"
  "$BIN" generate --preset "$PRESET" ${RECORDS:+--records "$RECORDS"} --out "$DATASET" --inventory - --quiet
  touch "$DATASET/.complete"
fi
if [ ! -f "$DATA/.complete" ]; then
  rm -rf "$DATA"
  "$BIN" ingest --data "$DATA" "$DATASET" >&2
  touch "$DATA/.complete"
fi

NEEDLE=$("$BIN" sql --data "$DATA" --output csv "SELECT srcaddr FROM flows WHERE srcaddr NOT LIKE '10.%'
  GROUP BY srcaddr HAVING count(*) BETWEEN 50 AND 200 ORDER BY abs(count(*) - 100), srcaddr LIMIT 1" | tail -n +2)
QUERIES=(
  "stats sum(bytes) as b by srcaddr, dstaddr | sort b desc | limit 10"
  'filter action = "REJECT" | stats count(*) as n by srcaddr | sort n desc | limit 20'
  "stats sum(bytes) as b by bin(5m)"
  'filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr | sort n desc | limit 20'
  "stats count_distinct(dstport) as p by srcaddr | filter p > 100"
  'filter isIpv4InSubnet(srcaddr, "10.1.0.0/16") | stats sum(bytes) as b by dstaddr | sort b desc | limit 10'
  "filter srcaddr = \"$NEEDLE\" | fields @timestamp, srcaddr, dstaddr, srcport, dstport, bytes"
)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
echo "== $NAME, Q7 address $NEEDLE"
echo
echo "fresh CLI process per query (flowlens query, no server), ms"
printf '%-5s %10s %10s\n' query first median
for i in "${!QUERIES[@]}"; do
  times=()
  for r in $(seq 0 "$RUNS"); do
    t0=$(now_ms); "$BIN" query --data "$DATA" "${QUERIES[$i]}" > /dev/null; t1=$(now_ms)
    times+=($((t1 - t0)))
  done
  first=${times[0]}
  median=$(printf '%s\n' "${times[@]:1}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf 'Q%-4d %10d %10d\n' $((i + 1)) "$first" "$median"
done

"$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" --max-concurrent "$MAX_CONCURRENT" --log-level warn 2> "$BENCH_DIR/serve.log" &
SERVER=$!
trap 'kill -INT $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  [ -f "$DATA/serve.json" ] && break
  sleep 0.1
done
echo
echo "through flowlens serve, one query at a time (warm)"
"$BIN" loadtest --data "$DATA" --needle "$NEEDLE" --sequential "$RUNS"
echo
echo "through flowlens serve, asynchronous (the console's path: first rows, Complete)"
"$BIN" loadtest --data "$DATA" --needle "$NEEDLE" --async 3
echo
echo "through flowlens serve, $CLIENTS clients for $DURATION (--max-concurrent $MAX_CONCURRENT)"
"$BIN" loadtest --data "$DATA" --needle "$NEEDLE" --clients "$CLIENTS" --duration "$DURATION"
