package athena

import (
	"fmt"
	"strings"
	"testing"
)

func TestPrepare(t *testing.T) {
	cases := []struct {
		in string
		// want lists each statement as kind|verb|line:col|table
		want []string
	}{
		{"SELECT 1", []string{"query|SELECT|1:1|"}},
		{"  (SELECT 1) ;; \n-- c\n", []string{"query|SELECT|1:3|"}},
		{"with x as (select 1) select * from x", []string{"query|WITH|1:1|"}},
		{"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", []string{"write|WITH … INSERT|1:1|"}},
		{"EXPLAIN ANALYZE SELECT 1; explain update t set a = 1", []string{"query|EXPLAIN SELECT|1:1|", "write|EXPLAIN UPDATE|1:27|"}},
		{"SHOW TABLES; DESCRIBE flows; SUMMARIZE flows; FROM flows; VALUES (1); TABLE flows; PIVOT t ON a",
			[]string{"query|SHOW|1:1|", "query|DESCRIBE|1:14|", "query|SUMMARIZE|1:30|", "query|FROM|1:47|", "query|VALUES|1:59|",
				"query|TABLE|1:71|", "query|PIVOT|1:84|"}},
		{"drop table x;\n  COPY t TO 'f'; attach 'x'; SET a = 1; PRAGMA x; INSTALL x; LOAD x; CALL f(); CHECKPOINT; USE x; DETACH x",
			[]string{"write|DROP|1:1|", "write|COPY|2:3|", "write|ATTACH|2:18|", "write|SET|2:30|", "write|PRAGMA|2:41|",
				"write|INSTALL|2:51|", "write|LOAD|2:62|", "write|CALL|2:70|", "write|CHECKPOINT|2:80|", "write|USE|2:92|", "write|DETACH|2:99|"}},
		{"CREATE TABLE t (a int); CREATE OR REPLACE EXTERNAL TABLE `db`.`t2` (a int)",
			[]string{"write|CREATE|1:1|", "create external table|CREATE EXTERNAL TABLE|1:25|t2"}},
		{"ALTER TABLE db.t ADD PARTITION (dt='x'); ALTER TABLE t ADD COLUMN c int; ALTER TABLE t DROP PARTITION (dt='x')",
			[]string{"add partition|ALTER TABLE … ADD PARTITION|1:1|t", "write|ALTER|1:42|", "write|ALTER|1:74|"}},
		{"MSCK REPAIR TABLE `vpc_flow_logs`; CREATE DATABASE IF NOT EXISTS flowdb",
			[]string{"repair table|MSCK REPAIR TABLE|1:1|vpc_flow_logs", "create database|CREATE DATABASE|1:36|flowdb"}},
		{"SHOW PARTITIONS db.vpc_flow_logs", []string{"query|SHOW PARTITIONS|1:1|vpc_flow_logs"}},
		{"SELEC 1", []string{"write|SELEC|1:1|"}},
	}
	for _, c := range cases {
		stmts, err := Prepare(c.in, testOptions)
		if err != nil {
			t.Errorf("Prepare(%q): %v", c.in, err)
			continue
		}
		var got []string
		for _, s := range stmts {
			got = append(got, fmt.Sprintf("%s|%s|%s|%s", s.Kind, s.Verb, s.Pos, s.Table))
			if s.Kind.NoOp() != (s.SQL == "") || s.Kind.NoOp() != (s.Notice != "") {
				t.Errorf("%q: statement %+v: SQL or notice", c.in, s)
			}
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("Prepare(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		in   string
		kind Kind
		verb string
	}{
		{"SELECT 1", KindQuery, "SELECT"},
		{"MSCK REPAIR TABLE t; SELECT 1", KindQuery, "SELECT"},
		{"SELECT 1; MSCK REPAIR TABLE t", KindRepairTable, "MSCK REPAIR TABLE"},
		{"SELECT 1; DELETE FROM t; DROP TABLE t", KindWrite, "DELETE"},
		{"SELECT ';DROP TABLE t' -- ; DROP TABLE t", KindQuery, "SELECT"},
	}
	for _, c := range cases {
		kind, verb, err := Classify(c.in)
		if err != nil || kind != c.kind || verb != c.verb {
			t.Errorf("Classify(%q) = %v, %q, %v; want %v, %q", c.in, kind, verb, err, c.kind, c.verb)
		}
	}
	if _, _, err := Classify("SELECT 'x"); err == nil {
		t.Errorf("Classify of an unterminated string: no error")
	}
}

func TestCreateExternalTable(t *testing.T) {
	stmts, err := Prepare("CREATE EXTERNAL TABLE IF NOT EXISTS vpc_flow_logs_pp (\n"+
		"  version int COMMENT 'v', account string, `end` bigint, srcaddr string, tags map<string,string>, x struct<a:int,b:decimal(10,2)>\n"+
		") PARTITIONED BY (accid string, region string, day string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '", testOptions)
	if err != nil || len(stmts) != 1 {
		t.Fatalf("Prepare: %v %v", stmts, err)
	}
	var got []string
	for _, c := range stmts[0].Columns {
		got = append(got, fmt.Sprintf("%s %s %v %s", c.Name, c.Type, c.Partition, c.Canonical))
	}
	want := []string{"version int false version", "account string false account_id", "end bigint false end",
		"srcaddr string false srcaddr", "tags map<string,string> false ", "x struct<a:int,b:decimal(10,2)> false ",
		"accid string true account_id", "region string true region", "day string true day"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("columns\n got %q\nwant %q", got, want)
	}
	if n := stmts[0].Notice; !strings.Contains(n, "queries of vpc_flow_logs_pp read vpc_flow_logs") ||
		!strings.Contains(n, "7 of its 9 columns (version, account=account_id, end, srcaddr, accid=account_id, region, day)") ||
		!strings.HasSuffix(n, "not known to flowlens: tags, x") {
		t.Errorf("notice %q", n)
	}
}
