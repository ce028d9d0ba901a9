-- The nightly top-100 talkers of a NAT gateway (by pkt-srcaddr, pkt-dstaddr,
-- srcaddr, dstaddr, flow-direction), as the article's archive_flowlogs Lambda
-- runs it in Athena, minus its date clause
--     where year = '…' and month = '…' and day = '…'
-- a report's window restricts the data instead. See docs/reports.md.
select pkt_srcaddr, pkt_dstaddr, srcaddr, dstaddr, flow_direction, sum(bytes) as bytes
from default.nat_flowlog_table
group by 1,2,3,4,5
order by bytes desc
limit 100
