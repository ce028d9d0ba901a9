#!/usr/bin/env python3
# Compares ClickHouse queries by CPU time: runs each SQL file N times, alternately, against
# a clickhouse-server HTTP port (PORT, default 28123; database DATABASE, default bench, which
# must exist: name other databases' tables in full) with log_queries=1 and
# prints the median wall time and the median user+system CPU time from system.query_log,
# each as a ratio to the first file. CPU time moves far less than wall time on a shared machine.
# usage: scripts/clickhouse-cpu-ab.py N a.sql b.sql ...
import sys, time, urllib.request, urllib.parse, statistics, uuid
import os
BASE="http://127.0.0.1:%s/?database=%s&enable_optimize_predicate_expression=1" % (os.environ.get('PORT','28123'), os.environ.get('DATABASE','bench'))
n=int(sys.argv[1]); files=sys.argv[2:]; qs=[open(f).read() for f in files]
tag=uuid.uuid4().hex[:8]
wall=[[] for _ in qs]
def run(q, qid):
    t=time.time(); urllib.request.urlopen(BASE+"&log_queries=1&query_id="+qid, data=q.encode()).read(); return time.time()-t
for j,q in enumerate(qs): run(q, f"w{tag}-{j}-x")
for i in range(n):
    for j,q in enumerate(qs): wall[j].append(run(q, f"r{tag}-{j}-{i}"))
urllib.request.urlopen(BASE, data=b"SYSTEM FLUSH LOGS").read()
sql=f"""SELECT splitByChar('-', query_id)[2] AS j,
 median(ProfileEvents.Values[indexOf(ProfileEvents.Names,'UserTimeMicroseconds')] + ProfileEvents.Values[indexOf(ProfileEvents.Names,'SystemTimeMicroseconds')]) / 1e6,
 median(read_bytes), median(read_rows)
 FROM system.query_log WHERE query_id LIKE 'r{tag}-%' AND type = 2 GROUP BY j ORDER BY toUInt32(j) FORMAT TSV"""
rows=urllib.request.urlopen(BASE, data=sql.encode()).read().decode().strip().split("\n")
cpu={int(r.split("\t")[0]): r.split("\t")[1:] for r in rows}
w0=statistics.median(wall[0]); c0=float(cpu[0][0])
for j,f in enumerate(files):
    w=statistics.median(wall[j]); c=float(cpu[j][0])
    print(f"{f:28s} wall {w:.3f} ({w/w0:.2f})  cpu {c:.3f} ({c/c0:.2f})  read {float(cpu[j][1])/1e6:.1f} MB {float(cpu[j][2])/1e6:.2f} Mrows")
