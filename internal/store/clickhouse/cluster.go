package clickhouse

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// A cluster store (?cluster=NAME in the DSN) spreads the records over the
// shards of a cluster of the server's <remote_servers>:
//
//   - every shard holds the records table `records`, a copy of the ingest
//     registry and the view `flows_local` (its current records, the same
//     SELECT as a single server's `flows`);
//   - the server the DSN names (the coordinator) also holds the catalogue
//     (datasets, formats, pending ingests, meta), the registry every copy
//     is made from, `records_dist` (Distributed over the shards' `records`,
//     sharded by the source address: inserts) and `flows` (Distributed over
//     the shards' `flows_local`: a query's filters and aggregation run on
//     every shard, the coordinator merges the partial results);
//   - a commit inserts its records through `records_dist` synchronously,
//     then writes its registry rows on the coordinator (the commit point)
//     and on the other shards; Open copies registry rows a crash left
//     unwritten on a shard before it removes abandoned rows.
//
// No ZooKeeper is needed: the tables are created on each shard over its own
// connection (no ON CLUSTER).

// shardingKey spreads records over the shards: all records of a source
// address on one shard. It hashes the address's text (computed for IPv4,
// which `records` stores as a number only), as schema version 2 did with
// the stored text: records go to the same shard as before the migration.
const shardingKey = "cityHash64(if(isNull(_srcaddr_v4), ifNull(srcaddr, ''), IPv4NumToString(assumeNotNull(_srcaddr_v4))))"

// remoteShard is a shard other than the coordinator.
type remoteShard struct {
	addr string
	conn driver.Conn
}

// openShards connects to the shards of the cluster other than the
// coordinator, creating the database on them unless read-only.
func (s *Store) openShards(ctx context.Context, opts *ch.Options) error {
	type node struct {
		num   uint32
		host  string
		port  uint16
		local uint8
	}
	var nodes []node
	err := s.each(ctx, `SELECT shard_num, host_address, port, is_local FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num`,
		[]any{s.cluster}, func(scan func(...any) error) error {
			var n node
			if err := scan(&n.num, &n.host, &n.port, &n.local); err != nil {
				return err
			}
			if len(nodes) == 0 || nodes[len(nodes)-1].num != n.num {
				nodes = append(nodes, n) // the first replica of each shard
			}
			return nil
		})
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return fmt.Errorf("the server has no cluster %q (<remote_servers> of its configuration)", s.cluster)
	}
	for _, n := range nodes {
		if n.local == 1 {
			s.coordinatorIsShard = true
			continue
		}
		o := *opts
		o.Addr = []string{net.JoinHostPort(n.host, strconv.Itoa(int(n.port)))}
		if !s.cfg.ReadOnly {
			boot := o
			boot.Auth.Database = "default"
			c, err := ch.Open(&boot)
			if err != nil {
				return fmt.Errorf("shard %d (%s): %w", n.num, o.Addr[0], err)
			}
			err = c.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(s.db))
			c.Close()
			if err != nil {
				return fmt.Errorf("shard %d (%s): %w", n.num, o.Addr[0], err)
			}
		}
		c, err := ch.Open(&o)
		if err != nil {
			return fmt.Errorf("shard %d (%s): %w", n.num, o.Addr[0], err)
		}
		s.remotes = append(s.remotes, remoteShard{addr: o.Addr[0], conn: c})
	}
	return nil
}

// shardConns returns a connection to every server that holds records: the
// coordinator (whose tables are empty when it is no shard) and the others.
func (s *Store) shardConns() []driver.Conn {
	out := []driver.Conn{s.conn}
	for _, r := range s.remotes {
		out = append(out, r.conn)
	}
	return out
}

// recordsTable is the table inserts go to.
func (s *Store) recordsTable() string {
	if s.cluster != "" {
		return "records_dist"
	}
	return "records"
}

// insertContext is the context of inserts into recordsTable: through the
// Distributed table, synchronously, so that the records are on their
// shards when the registry row makes them visible.
func (s *Store) insertContext(ctx context.Context) context.Context {
	if s.cluster != "" {
		return ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_distributed_sync": 1}))
	}
	return ctx
}

// clusterDDL creates the coordinator's Distributed tables.
func (s *Store) clusterDDL() []string {
	c, db := quoteString(s.cluster), quoteString(s.db)
	return []string{
		"CREATE TABLE IF NOT EXISTS records_dist AS records ENGINE = Distributed(" + c + ", " + db + ", 'records', " + shardingKey + ")",
		"CREATE TABLE IF NOT EXISTS flows AS flows_local ENGINE = Distributed(" + c + ", " + db + ", 'flows_local')",
	}
}

// clusterQuery adds to a SELECT on a cluster store the setting that runs
// a subquery over `flows` inside a query over `flows` (IN filters, joins)
// once, on the coordinator, its result sent to the shards (GLOBAL IN,
// GLOBAL JOIN); without it the server refuses such "double-distributed"
// subqueries. 18.16's native protocol takes only numeric settings from a
// client, so the setting goes into the query text. A query that has its
// own SETTINGS clause is left alone.
func (s *Store) clusterQuery(q string) string {
	if s.cluster == "" {
		return q
	}
	head := strings.ToUpper(strings.TrimLeft(q, " \t\r\n("))
	if !strings.HasPrefix(head, "SELECT") && !strings.HasPrefix(head, "WITH") {
		return q
	}
	if strings.Contains(strings.ToUpper(q), "SETTINGS") {
		return q
	}
	return q + "\nSETTINGS distributed_product_mode = 'global'"
}

// registryRow is one row of the ingest registry.
type registryRow struct {
	fileID                 uint64
	dataset, key, checksum string
	size, mod, records     int64
	lo, hi                 *int64
	ingested, committed    int64
}

const registryCols = "file_id, dataset, key, size, checksum, mod_time_ms, records, min_start, max_start, ingested_ms, committed_ns"

// writeRegistry inserts registry rows as one block on conn.
func writeRegistry(ctx context.Context, conn driver.Conn, rows []registryRow) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO ingest_registry ("+registryCols+")")
	if err != nil {
		return err
	}
	defer b.Close()
	for _, r := range rows {
		if err := b.Append(r.fileID, r.dataset, r.key, r.size, r.checksum, r.mod, r.records, r.lo, r.hi, r.ingested, r.committed); err != nil {
			return err
		}
	}
	return b.Send()
}

// copyRegistry writes on every other shard the coordinator's registry rows
// it lacks (rows a crash between the coordinator's commit and the shard's
// copy left unwritten).
func (s *Store) copyRegistry(ctx context.Context) error {
	if len(s.remotes) == 0 {
		return nil
	}
	var all []registryRow
	err := s.each(ctx, "SELECT "+registryCols+" FROM ingest_registry", nil, func(scan func(...any) error) error {
		var r registryRow
		if err := scan(&r.fileID, &r.dataset, &r.key, &r.size, &r.checksum, &r.mod, &r.records, &r.lo, &r.hi, &r.ingested, &r.committed); err != nil {
			return err
		}
		all = append(all, r)
		return nil
	})
	if err != nil {
		return err
	}
	for _, sh := range s.remotes {
		have := map[uint64]bool{}
		rows, err := sh.conn.Query(ctx, "SELECT file_id FROM ingest_registry")
		if err != nil {
			return fmt.Errorf("shard %s: %w", sh.addr, err)
		}
		for rows.Next() {
			var id uint64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			have[id] = true
		}
		rows.Close()
		var missing []registryRow
		for _, r := range all {
			if !have[r.fileID] {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			s.logger.Info("copying registry rows to a shard", "shard", sh.addr, "rows", len(missing))
		}
		if err := writeRegistry(ctx, sh.conn, missing); err != nil {
			return fmt.Errorf("shard %s: %w", sh.addr, err)
		}
	}
	return nil
}
