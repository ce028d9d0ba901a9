#!/usr/bin/env bash
# flowlens's ClickHouse store on the standard workload: RECORDS records of
# the day-20m preset (default 2 M), ingested with `flowlens ingest --store`
# into a clickhouse-server this script starts (Debian's package, its
# configuration copied with its own data folder and ports), then Q1–Q7 of
# BENCHMARK.md three ways: the SQL flowlens's compiler generates (taken
# from `flowlens query --explain`, sent over ClickHouse's HTTP interface),
# hand-written ClickHouse SQL for the same question over the same
# `records` table (sent the same way), and the whole `flowlens query`
# command (process start, connect, compile, run). First run and median of
# RUNS warm runs; flowlens and hand-written alternate so that load on a
# shared machine hits both alike.
#
# Environment: BIN (default bin/flowlens), BENCH_DIR (default
# $HOME/.cache/flowlens-bench), RECORDS (default 2000000), RUNS (default 5),
# INGEST_ONLY (1: stop after the ingest's row, no queries),
# COMPRESS (the driver's block compression for the ingest: lz4, zstd; default none),
# HTTP_PORT / TCP_PORT (default 18123 / 19000), DATASET (default
# BENCH_DIR/day-20m-RECORDS, generated when missing; an existing dataset
# such as the shared day-20m otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/flowlens}
BENCH_DIR=${BENCH_DIR:-$HOME/.cache/flowlens-bench}
RECORDS=${RECORDS:-2000000}
RUNS=${RUNS:-5}
HTTP_PORT=${HTTP_PORT:-18123}
TCP_PORT=${TCP_PORT:-19000}
DATASET=${DATASET:-$BENCH_DIR/day-20m-$RECORDS}
CH="$BENCH_DIR/clickhouse"
DSN="clickhouse://127.0.0.1:$TCP_PORT/bench"
URL="http://127.0.0.1:$HTTP_PORT/"
mkdir -p "$BENCH_DIR"

if [ ! -f "$DATASET/.complete" ]; then
  echo "bench: generating $RECORDS records of day-20m into $DATASET" >&2
  rm -rf "$DATASET"
  "$BIN" generate --preset day-20m --records "$RECORDS" --out "$DATASET" --inventory - --quiet
  touch "$DATASET/.complete"
fi

# A clickhouse-server of our own, as the tests start one.
rm -rf "$CH"; mkdir -p "$CH"
sed -e "s#/var/lib/clickhouse/#$CH/data/#g" -e "s#/var/log/clickhouse-server/#$CH/log/#g" \
    -e "s#<http_port>8123</http_port>#<http_port>$HTTP_PORT</http_port>#" \
    -e "s#<tcp_port>9000</tcp_port>#<tcp_port>$TCP_PORT</tcp_port>#" \
    -e "s#<interserver_http_port>9009</interserver_http_port>#<interserver_http_port>$((TCP_PORT + 9))</interserver_http_port>#" \
    -e "s#<https_port>8443</https_port>##" -e "s#<tcp_port_secure>9440</tcp_port_secure>##" \
    -e "s#<listen_host>::1</listen_host>##" /etc/clickhouse-server/config.xml >"$CH/config.xml"
cp /etc/clickhouse-server/users.xml "$CH/users.xml"
clickhouse-server --config-file="$CH/config.xml" >"$CH/server.out" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "$URL" -d 'SELECT 1' >/dev/null && break; sleep 0.2; done
chq() { curl -sf "$URL" --data-binary "$1"; }
echo "== $(chq 'SELECT version()' | tr -d '\n') on $(nproc) cores; load: $(uptime | sed 's/.*load average/load average/')"

# CPU seconds of the server (utime + stime of /proc/PID/stat, in clock ticks)
srvcpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$SERVER/stat"; }
CPU0=$(srvcpu); T0=$(date +%s)
# log_queries: the server's CPU of the INSERT blocks of records alone, from
# system.query_log (less noisy than the process's, which merges count in)
/usr/bin/time -f 'TIME %e %M %U %S' "$BIN" ingest --store "$DSN?log_queries=1${COMPRESS:+&compress=$COMPRESS}" --data "$BENCH_DIR/ch-state" "$DATASET" >"$BENCH_DIR/ch-ingest.out" 2>"$BENCH_DIR/ch-ingest.err"
CPU1=$(srvcpu)
chq "SYSTEM FLUSH LOGS" >/dev/null
INS=$(chq "SELECT sum(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'UserTimeMicroseconds')] + ProfileEvents.Values[indexOf(ProfileEvents.Names, 'SystemTimeMicroseconds')]) / 1e6 FROM system.query_log WHERE type = 2 AND event_time >= toDateTime($T0) AND query LIKE 'INSERT INTO records%'")
read -r _ SECS RSS USR SYS < <(grep '^TIME' "$BENCH_DIR/ch-ingest.err")
chq "OPTIMIZE TABLE bench.records FINAL" >/dev/null || true
N=$(chq "SELECT count() FROM bench.flows")
BYTES=$(chq "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'bench' AND table = 'records' AND active")
echo "| | records | ingest s | records/s | peak RSS MiB | bytes/record | flowlens CPU s | server CPU s | of which INSERT INTO records |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
awk -v n="$N" -v s="$SECS" -v r="$RSS" -v b="$BYTES" -v c="$USR $SYS" -v s0="$CPU0" -v s1="$CPU1" -v ins="$INS" 'BEGIN { split(c, u, " ");
  printf "| flowlens ingest --store | %d | %.1f | %.0f k | %.0f | %.1f | %.1f | %.1f | %.1f |\n", n, s, n/s/1000, r/1024, b/n, u[1] + u[2], s1 - s0, ins }'
[ "${INGEST_ONLY:-}" = 1 ] && exit 0

NEEDLE=$(chq "SELECT srcaddr FROM bench.flows WHERE srcaddr NOT LIKE '10.%' GROUP BY srcaddr HAVING count() BETWEEN 90 AND 110 ORDER BY srcaddr LIMIT 1" | tr -d '\n')
V4=$(chq "SELECT toUInt32(IPv4StringToNum('$NEEDLE'))" | tr -d '\n')
LO=167837696; HI=167903231 # 10.1.0.0/16

declare -a NAMES LIQ HWQ
NAMES+=(Q1); LIQ+=('stats sum(bytes) as b by srcaddr, dstaddr | sort b desc | limit 10')
HWQ+=("SELECT IPv4NumToString(s) AS srcaddr, IPv4NumToString(d) AS dstaddr, b FROM (SELECT assumeNotNull(_srcaddr_v4) AS s, assumeNotNull(_dstaddr_v4) AS d, sum(bytes) AS b FROM bench.records GROUP BY s, d ORDER BY b DESC LIMIT 10)")
NAMES+=(Q2); LIQ+=('filter action = "REJECT" | stats count(*) as n by srcaddr | sort n desc | limit 20')
HWQ+=("SELECT IPv4NumToString(assumeNotNull(_srcaddr_v4)) AS srcaddr, count() AS n FROM bench.records WHERE action = 'REJECT' GROUP BY _srcaddr_v4 ORDER BY n DESC LIMIT 20")
NAMES+=(Q3); LIQ+=('stats sum(bytes) as b by bin(5m)')
HWQ+=("SELECT intDiv(start, 300) * 300 AS t, sum(bytes) AS b FROM bench.records GROUP BY t ORDER BY t")
NAMES+=(Q4); LIQ+=('filter action = "REJECT" and dstport = 22 | stats count(*) as n by srcaddr | sort n desc | limit 20')
HWQ+=("SELECT IPv4NumToString(assumeNotNull(_srcaddr_v4)) AS srcaddr, count() AS n FROM bench.records WHERE action = 'REJECT' AND dstport = 22 GROUP BY _srcaddr_v4 ORDER BY n DESC LIMIT 20")
NAMES+=(Q5); LIQ+=('stats count_distinct(dstport) as p by srcaddr | filter p > 100')
HWQ+=("SELECT IPv4NumToString(assumeNotNull(_srcaddr_v4)) AS srcaddr, uniqExact(dstport) AS p FROM bench.records GROUP BY _srcaddr_v4 HAVING p > 100")
NAMES+=(Q6); LIQ+=('filter isIpv4InSubnet(srcaddr, "10.1.0.0/16") | stats sum(bytes) as b by dstaddr | sort b desc | limit 10')
HWQ+=("SELECT IPv4NumToString(assumeNotNull(_dstaddr_v4)) AS dstaddr, sum(bytes) AS b FROM bench.records WHERE _srcaddr_v4 BETWEEN $LO AND $HI GROUP BY _dstaddr_v4 ORDER BY b DESC LIMIT 10")
NAMES+=(Q7); LIQ+=("filter srcaddr = \"$NEEDLE\" | fields @timestamp, srcaddr, dstaddr, srcport, dstport, bytes")
HWQ+=("SELECT start * 1000 AS ts, IPv4NumToString(assumeNotNull(_srcaddr_v4)) AS srcaddr, if(isNull(_dstaddr_v4), dstaddr, IPv4NumToString(assumeNotNull(_dstaddr_v4))) AS dstaddr, srcport, dstport, bytes FROM bench.records WHERE dataset = 'default' AND ifNull(_srcaddr_v4, 0) = $V4 ORDER BY start DESC LIMIT 10000")

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# httpq SQL: seconds of one run over HTTP (client side, the result read),
# with the setting flowlens's connections have (filters reach the scan
# under the flows view; 18.16's default is off)
httpq() { curl -sf -o /dev/null -w '%{time_total}' "$URL?database=bench&enable_optimize_predicate_expression=1" --data-binary "$1"; }
cliq() { local t0 t1; t0=$(date +%s.%N); "$BIN" query --store "$DSN" --output csv "$1" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }

echo
echo "== Q1–Q7: first run, median of $RUNS warm runs (seconds); flowlens SQL = what 'flowlens query' sends, hand-written = the best SQL found for the question on the same table"
echo "| query | flowlens SQL first | flowlens SQL median | hand-written first | hand-written median | flowlens/hand-written | flowlens query (command) median |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for i in "${!NAMES[@]}"; do
  SQL=$("$BIN" query --store "$DSN" --explain "${LIQ[$i]}" | awk 'f {print} /^-- sql/ {f=1}')
  F1=$(httpq "$SQL"); H1=$(httpq "${HWQ[$i]}")
  ft=(); ht=(); ct=()
  for _ in $(seq "$RUNS"); do
    ft+=("$(httpq "$SQL")"); ht+=("$(httpq "${HWQ[$i]}")"); ct+=("$(cliq "${LIQ[$i]}")")
  done
  FM=$(median "${ft[@]}"); HM=$(median "${ht[@]}"); CM=$(median "${ct[@]}")
  awk -v n="${NAMES[$i]}" -v f1="$F1" -v fm="$FM" -v h1="$H1" -v hm="$HM" -v cm="$CM" \
    'BEGIN { printf "| %s | %.3f | %.3f | %.3f | %.3f | %.2f | %.3f |\n", n, f1, fm, h1, hm, fm/hm, cm }'
done
echo "load after: $(uptime | sed 's/.*load average/load average/')"
