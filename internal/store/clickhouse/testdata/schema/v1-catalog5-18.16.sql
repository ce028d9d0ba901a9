-- The ClickHouse schema of flowlens with schema_version 1, as a release
-- whose flow log catalog ended at version 5 of the fields created it on
-- ClickHouse 18.16 (text enums and identifiers LowCardinality), with one
-- file of six records ingested into dataset prod. TestMigrateFromV1 loads
-- it (statements separated by ";" at the end of a line) and opens the store.
CREATE TABLE IF NOT EXISTS records (`dataset` String,
  `_hour` Int64,
  `_file_id` UInt64,
  `_format_id` Int32,
  `_ingest_time` Int64,
  `version` Nullable(Int32),
  `account_id` LowCardinality(Nullable(String)),
  `interface_id` LowCardinality(Nullable(String)),
  `srcaddr` Nullable(String),
  `_srcaddr_v4` Nullable(UInt32),
  `dstaddr` Nullable(String),
  `_dstaddr_v4` Nullable(UInt32),
  `srcport` Nullable(Int32),
  `dstport` Nullable(Int32),
  `protocol` Nullable(Int32),
  `packets` Nullable(Int64),
  `bytes` Nullable(Int64),
  `start` Nullable(Int64),
  `end` Nullable(Int64),
  `action` LowCardinality(Nullable(String)),
  `log_status` LowCardinality(Nullable(String)),
  `vpc_id` LowCardinality(Nullable(String)),
  `subnet_id` LowCardinality(Nullable(String)),
  `instance_id` LowCardinality(Nullable(String)),
  `tcp_flags` Nullable(Int32),
  `type` LowCardinality(Nullable(String)),
  `pkt_srcaddr` Nullable(String),
  `pkt_dstaddr` Nullable(String),
  `region` LowCardinality(Nullable(String)),
  `az_id` LowCardinality(Nullable(String)),
  `sublocation_type` LowCardinality(Nullable(String)),
  `sublocation_id` LowCardinality(Nullable(String)),
  `pkt_src_aws_service` LowCardinality(Nullable(String)),
  `pkt_dst_aws_service` LowCardinality(Nullable(String)),
  `flow_direction` LowCardinality(Nullable(String)),
  `traffic_path` Nullable(Int32))
ENGINE = MergeTree PARTITION BY _hour ORDER BY (dataset, ifNull(_srcaddr_v4, 0), ifNull(start, 0));
CREATE TABLE IF NOT EXISTS datasets (name String, retention_seconds Int64, created_ms Int64,
  declared_format Nullable(String), version Int64) ENGINE = ReplacingMergeTree(version) ORDER BY name;
CREATE TABLE IF NOT EXISTS formats (dataset String, format_id Int32, format String)
  ENGINE = ReplacingMergeTree ORDER BY (dataset, format_id);
CREATE TABLE IF NOT EXISTS ingest_registry (file_id UInt64, dataset String, key String, size Int64,
  checksum String, mod_time_ms Int64, records Int64, min_start Nullable(Int64), max_start Nullable(Int64),
  ingested_ms Int64, committed_ns Int64) ENGINE = MergeTree ORDER BY (dataset, key);
CREATE TABLE IF NOT EXISTS ingest_pending (file_id UInt64, dataset String, key String, started_ms Int64)
  ENGINE = MergeTree ORDER BY file_id;
CREATE TABLE IF NOT EXISTS flowlens_meta (key String, value String, version Int64)
  ENGINE = ReplacingMergeTree(version) ORDER BY key;
CREATE VIEW flows AS SELECT dataset, `version`, `account_id`, `interface_id`, `srcaddr`, `dstaddr`, `srcport`, `dstport`, `protocol`, `packets`, `bytes`, `start`, `end`, `action`, `log_status`, `vpc_id`, `subnet_id`, `instance_id`, `tcp_flags`, `type`, `pkt_srcaddr`, `pkt_dstaddr`, `region`, `az_id`, `sublocation_type`, `sublocation_id`, `pkt_src_aws_service`, `pkt_dst_aws_service`, `flow_direction`, `traffic_path`, formatDateTime(toDateTime(_hour, 'UTC'), '%Y') AS `year`, formatDateTime(toDateTime(_hour, 'UTC'), '%m') AS `month`, formatDateTime(toDateTime(_hour, 'UTC'), '%d') AS `day`, formatDateTime(toDateTime(_hour, 'UTC'), '%H') AS `hour`, toDate(toDateTime(_hour, 'UTC')) AS `date`, formatDateTime(toDateTime(_hour, 'UTC'), '%Y-%m-%d') AS `dt`, account_id AS `accid`, account_id AS `aws-account-id`, region AS `aws-region`, 'vpcflowlogs' AS `aws-service`, _hour, _srcaddr_v4, _dstaddr_v4, _format_id, _ingest_time, _file_id FROM records WHERE _file_id IN (SELECT argMax(file_id, committed_ns) FROM ingest_registry GROUP BY dataset, key);
CREATE VIEW IF NOT EXISTS prod AS SELECT * FROM flows WHERE dataset = 'prod';
CREATE VIEW IF NOT EXISTS vpc_flow_logs AS SELECT * FROM flows;
CREATE VIEW IF NOT EXISTS vpc_flow_logs_parquet AS SELECT * FROM flows;
INSERT INTO datasets (name, retention_seconds, created_ms, declared_format, version) VALUES ('prod', 0, 1768440000000, NULL, 1);
INSERT INTO formats (dataset, format_id, format) VALUES ('prod', 730420455, '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}');
INSERT INTO ingest_registry (file_id, dataset, key, size, checksum, mod_time_ms, records, min_start, max_start, ingested_ms, committed_ns) VALUES (77, 'prod', '/data/old.log', 600, 'c0ffee', 0, 6, 1768435200, 1768435500, 1768440000000, 1768440000000000000);
INSERT INTO flowlens_meta (key, value, version) VALUES ('schema_version', '1', 1);
INSERT INTO records (dataset, _hour, _file_id, _format_id, _ingest_time, version, account_id, interface_id, srcaddr, _srcaddr_v4, dstaddr, _dstaddr_v4, srcport, dstport, protocol, packets, bytes, start, `end`, action, log_status) VALUES
  ('prod', 1768435200, 77, 730420455, 1768440000000, 2, '7304204556789012', 'eni-0a1b2c3d', '10.0.0.1', 167772161, '10.1.0.9', 167837705, 50000, 22, 6, 2, 40, 1768435200, 1768435260, 'REJECT', 'OK'),
  ('prod', 1768435200, 77, 730420455, 1768440000000, 2, '7304204556789012', 'eni-0a1b2c3d', '10.0.0.1', 167772161, '10.1.0.9', 167837705, 50001, 22, 6, 2, 40, 1768435260, 1768435320, 'REJECT', 'OK'),
  ('prod', 1768435200, 77, 730420455, 1768440000000, 2, '7304204556789012', 'eni-0a1b2c3d', '10.0.0.2', 167772162, '10.1.0.9', 167837705, 50002, 443, 6, 2, 1500, 1768435320, 1768435380, 'ACCEPT', 'OK'),
  ('prod', 1768435200, 77, 730420455, 1768440000000, 2, '7304204556789012', 'eni-0a1b2c3d', '10.0.0.3', 167772163, '10.1.0.8', 167837704, 50003, 22, 6, 2, 60, 1768435380, 1768435440, 'REJECT', 'OK'),
  ('prod', 1768435200, 77, 730420455, 1768440000000, 2, '7304204556789012', 'eni-0a1b2c3d', '10.0.0.3', 167772163, '10.1.0.8', 167837704, 50004, 3389, 6, 2, 900, 1768435440, 1768435500, 'ACCEPT', 'OK'),
  ('prod', 1768435200, 77, 730420455, 1768440000000, 2, '7304204556789012', 'eni-0a1b2c3d', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1768435500, 1768435560, NULL, 'NODATA');
