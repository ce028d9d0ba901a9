#!/usr/bin/env bash
# The standard workload through the CLI (see scripts/bench.sh for `make bench`): the day-20m dataset, ingested
# by flowlens and loaded into a plain DuckDB table with read_csv in the same
# run, then the workload Q1–Q7 on both with the same engine settings. Prints
# ingest rate, bytes per record, first and median-of-5 warm times, peak RSS
# and the ratio plain/flowlens per query.
#
# Environment: BIN (flowlens binary, default bin/flowlens), BENCH_DIR (where
# the dataset and both databases live, default $HOME/.cache/flowlens-bench),
# RUNS (warm runs, default 5), PRESET (default day-20m), SKIP_INGEST (set:
# reuse both databases of the last run and only run the queries).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/flowlens}
BENCH_DIR=${BENCH_DIR:-$HOME/.cache/flowlens-bench}
RUNS=${RUNS:-5}
PRESET=${PRESET:-day-20m}
DATASET="$BENCH_DIR/$PRESET"
FL="$BENCH_DIR/flowlens-data"
PLAIN="$BENCH_DIR/plain-data"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: GNU time (/usr/bin/time) is needed" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

if [ ! -f "$DATASET/.complete" ]; then
  echo "bench: generating $PRESET into $DATASET" >&2
  rm -rf "$DATASET"
  "$BIN" generate --preset "$PRESET" --out "$DATASET" --inventory - --quiet
  touch "$DATASET/.complete"
fi

# run LABEL CMD... : runs CMD under GNU time, sets SECS and RSS_MB.
run() {
  local out
  out=$("$TIME" -f 'TIME %e %M' "$@" 2>&1 >/dev/null | grep '^TIME' || true)
  SECS=$(echo "$out" | awk '{print $2}')
  RSS_MB=$(echo "$out" | awk '{printf "%.0f", $3/1024}')
}

if [ -z "${SKIP_INGEST:-}" ]; then
rm -rf "$FL" "$PLAIN"
"$TIME" -f 'TIME %e %M' "$BIN" ingest --data "$FL" "$DATASET" 2>"$BENCH_DIR/ingest.err" >/dev/null
read -r _ FL_SECS FL_RSS < <(grep '^TIME' "$BENCH_DIR/ingest.err")
GLOB="$DATASET/**/*.log.gz"
"$TIME" -f 'TIME %e %M' "$BIN" sql --write --data "$PLAIN" \
  "CREATE TABLE plain AS SELECT * FROM read_csv('$GLOB', delim = ' ', header = true, nullstr = '-',
    names = ['version', 'account_id', 'interface_id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol',
             'packets', 'bytes', 'start', 'end', 'action', 'log_status'])" \
  2>"$BENCH_DIR/plain.err" >/dev/null
read -r _ PL_SECS PL_RSS < <(grep '^TIME' "$BENCH_DIR/plain.err")
"$BIN" sql --write --data "$FL" "CHECKPOINT" >/dev/null
"$BIN" sql --write --data "$PLAIN" "CHECKPOINT" >/dev/null
RECORDS=$("$BIN" sql --data "$FL" --output csv "SELECT count(*) FROM flows" | tail -1)
echo "== ingest ($RECORDS records, $(nproc) cores)"
FL_BYTES=$(stat -c %s "$FL/flowlens.duckdb")
PL_BYTES=$(stat -c %s "$PLAIN/flowlens.duckdb")
fi
[ -z "${SKIP_INGEST:-}" ] && awk -v r="$RECORDS" -v fs="$FL_SECS" -v fr="$FL_RSS" -v fb="$FL_BYTES" -v ps="$PL_SECS" -v pr="$PL_RSS" -v pb="$PL_BYTES" 'BEGIN {
  printf "| | ingest s | records/s | peak RSS MiB | bytes/record |\n| --- | --- | --- | --- | --- |\n"
  printf "| flowlens | %.1f | %.0f k | %.0f | %.1f |\n", fs, r/fs/1000, fr/1024, fb/r
  printf "| plain DuckDB read_csv | %.1f | %.0f k | %.0f | %.1f |\n", ps, r/ps/1000, pr/1024, pb/r
}'

# The needle of Q7: a remote address with about 100 records.
NEEDLE=$("$BIN" sql --data "$FL" --output csv \
  "SELECT srcaddr FROM flows WHERE srcaddr NOT LIKE '10.%' GROUP BY 1 HAVING count(*) BETWEEN 90 AND 110 ORDER BY srcaddr LIMIT 1" | tail -1)
V4=$("$BIN" sql --data "$FL" --output csv "SELECT ip4_int('$NEEDLE')" | tail -1)
# 10.1.0.0/16 as integers.
LO=167837696; HI=167903231

# Each query: flowlens SQL over the flows view (the forms the Logs Insights
# compiler emits: integer addresses for lookups and subnets, the 5-minute
# rollup for traffic over time), and the same
# question over the plain table.
declare -a NAMES FLQ PLQ
NAMES+=(Q1); FLQ+=("SELECT srcaddr, dstaddr, sum(bytes) AS b FROM flows GROUP BY srcaddr, dstaddr ORDER BY b DESC LIMIT 10")
PLQ+=("SELECT srcaddr, dstaddr, sum(bytes) AS b FROM plain GROUP BY srcaddr, dstaddr ORDER BY b DESC LIMIT 10")
NAMES+=(Q2); FLQ+=("SELECT srcaddr, count(*) AS n FROM flows WHERE action = 'REJECT' GROUP BY srcaddr ORDER BY n DESC LIMIT 20")
PLQ+=("SELECT srcaddr, count(*) AS n FROM plain WHERE action = 'REJECT' GROUP BY srcaddr ORDER BY n DESC LIMIT 20")
NAMES+=(Q3); FLQ+=("SELECT bin AS t, sum(bytes) AS b FROM flows_5m GROUP BY 1 ORDER BY 1")
PLQ+=("SELECT start - start % 300 AS t, sum(bytes) AS b FROM plain GROUP BY 1 ORDER BY 1")
NAMES+=(Q4); FLQ+=("SELECT srcaddr, count(*) AS n FROM flows WHERE action = 'REJECT' AND dstport = 22 GROUP BY srcaddr ORDER BY n DESC LIMIT 20")
PLQ+=("SELECT srcaddr, count(*) AS n FROM plain WHERE action = 'REJECT' AND dstport = 22 GROUP BY srcaddr ORDER BY n DESC LIMIT 20")
NAMES+=(Q5); FLQ+=("SELECT srcaddr, count(DISTINCT dstport) AS p FROM flows GROUP BY srcaddr HAVING p > 100")
PLQ+=("SELECT srcaddr, count(DISTINCT dstport) AS p FROM plain GROUP BY srcaddr HAVING p > 100")
NAMES+=(Q6); FLQ+=("SELECT dstaddr, sum(bytes) AS b FROM flows WHERE _srcaddr_v4 BETWEEN $LO AND $HI GROUP BY dstaddr ORDER BY b DESC LIMIT 10")
PLQ+=("SELECT dstaddr, sum(bytes) AS b FROM plain WHERE srcaddr LIKE '10.1.%' GROUP BY dstaddr ORDER BY b DESC LIMIT 10")
NAMES+=(Q7); FLQ+=("SELECT start, srcaddr, dstaddr, srcport, dstport, bytes FROM flows WHERE _srcaddr_v4 = $V4")
PLQ+=("SELECT start, srcaddr, dstaddr, srcport, dstport, bytes FROM plain WHERE srcaddr = '$NEEDLE'")

# measure I: runs flowlens and plain alternately (first runs, then RUNS warm
# runs each) so that load on a shared machine hits both alike; sets F1 FM FP
# and P1 PM PP (first, median seconds, peak MiB).
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {
  local i=$1 ft=() pt=()
  run "$BIN" sql --data "$FL" --output csv "${FLQ[$i]}"; F1=$SECS; FP=$RSS_MB
  run "$BIN" sql --data "$PLAIN" --output csv "${PLQ[$i]}"; P1=$SECS; PP=$RSS_MB
  for _ in $(seq "$RUNS"); do
    run "$BIN" sql --data "$FL" --output csv "${FLQ[$i]}"; ft+=("$SECS"); [ "$RSS_MB" -gt "$FP" ] && FP=$RSS_MB
    run "$BIN" sql --data "$PLAIN" --output csv "${PLQ[$i]}"; pt+=("$SECS"); [ "$RSS_MB" -gt "$PP" ] && PP=$RSS_MB
  done
  FM=$(median "${ft[@]}"); PM=$(median "${pt[@]}")
}

echo
echo "== queries (each run is a fresh process: open + query; flowlens and plain alternate; first run, median of $RUNS warm runs, peak RSS)"
echo "| query | flowlens first | flowlens median | flowlens RSS MiB | plain first | plain median | plain RSS MiB | plain/flowlens |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for i in "${!NAMES[@]}"; do
  measure "$i"
  awk -v n="${NAMES[$i]}" -v f1="$F1" -v fm="$FM" -v fp="$FP" -v p1="$P1" -v pm="$PM" -v pp="$PP" \
    'BEGIN { printf "| %s | %.2f s | %.2f s | %d | %.2f s | %.2f s | %d | %.1fx |\n", n, f1, fm, fp, p1, pm, pp, pm/fm }'
done
