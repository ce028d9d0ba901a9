#!/usr/bin/env bash
# Ingest throughput with and without 10 metric filters (docs/BENCHMARKS.md).
# Usage: scripts/bench-filters.sh [WORKDIR] [RECORDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-bench-filters}
N=${2:-2000000}
RUNS=${3:-3}
B=bin/flowlens
make build >/dev/null
mkdir -p "$W"
[ -d "$W/data" ] || $B generate --preset day-20m --records "$N" --out "$W/data" --truth "$W/truth.json" >/dev/null
add10() {
  local d=$1 a=(filters add --data "$1" --dataset default)
  $B "${a[@]}" --name SSHAccess --pattern '[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]' --metric-transformations 'metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess'
  $B "${a[@]}" --name RDP --pattern '[version, account, eni, srcaddr, dstaddr, srcport, dstport = 3389 || dstport = 22, protocol = 6, packets, bytes, start, end, action = ACCEPT, status]' --metric-namespace VPC --metric-name RemoteAdmin
  $B "${a[@]}" --name Rejects --pattern '[..., action = REJECT, status]' --metric-namespace VPC --metric-name Rejects
  $B "${a[@]}" --name RejectedBytesBySrc --pattern '[..., srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action = REJECT, status]' --metric-namespace VPC --metric-name RejectedBytes --metric-value '$bytes' --dimension 'Source=$srcaddr'
  $B "${a[@]}" --name Big --pattern '[..., bytes > 10000000, start, end, action, status = OK]' --metric-namespace VPC --metric-name Big
  $B "${a[@]}" --name Net10 --pattern '[version, account, eni, srcaddr = 10.0.*, ...]' --metric-namespace VPC --metric-name Net10
  $B "${a[@]}" --name SkipData --pattern '[version, account, eni, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, status = SKIPDATA]' --metric-namespace VPC --metric-name SkipData
  $B "${a[@]}" --name All --pattern '' --metric-namespace VPC --metric-name Records
  $B "${a[@]}" --name Bytes --pattern '[$action = ACCEPT, $bytes]' --metric-namespace VPC --metric-name AcceptedBytes --metric-value '$bytes' --default-value 0
  $B "${a[@]}" --name Term --pattern 'REJECT -NODATA' --metric-namespace VPC --metric-name RejectTerm
}
for run in $(seq "$RUNS"); do
  for mode in none ten; do
    d="$W/db-$mode"; rm -rf "$d"; mkdir -p "$d"
    if [ "$mode" = ten ]; then add10 "$d" 2>/dev/null; fi
    echo "$mode filters, run $run: $($B ingest --data "$d" "$W/data" 2>&1 | grep -o 'records in .*records/s')"
  done
done
