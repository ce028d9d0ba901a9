package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CREATE EXTERNAL TABLE with a column list declares the column order of
// a dataset's header-less text (with --write); ingest then reads such text
// with it, a header line still wins, and datasets shows it.
func TestCreateExternalTableDeclaresFormat(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// The legacy DDL's names, in an order of the user's own.
	ddl := `CREATE EXTERNAL TABLE IF NOT EXISTS edge (
		sourceaddress string, destinationaddress string, destinationport int, numbytes bigint,
		starttime int, action string, logstatus string)
		PARTITIONED BY (dt string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ' ' LOCATION 's3://bucket/prefix/'`
	// Read-only: nothing recorded, the hint says how.
	code, _, errs := storeRun(t, nil, "sql", "--data", data, ddl)
	if code != 0 || !strings.Contains(errs, "with --write") || !strings.Contains(errs, "${srcaddr} ${dstaddr} ${dstport} ${bytes} ${start} ${action} ${log-status}") {
		t.Fatalf("read-only CREATE: exit %d\n%s", code, errs)
	}
	code, _, errs = storeRun(t, nil, "sql", "--write", "--data", data, ddl)
	if code != 0 || !strings.Contains(errs, "dataset edge: header-less text ingested into it is read as ${srcaddr} ${dstaddr} ${dstport} ${bytes} ${start} ${action} ${log-status}") {
		t.Fatalf("CREATE --write: exit %d\n%s", code, errs)
	}
	out := mustStore(t, nil, "datasets", "--data", data, "--output", "csv")
	if !strings.Contains(out, "${srcaddr} ${dstaddr} ${dstport} ${bytes} ${start} ${action} ${log-status}") {
		t.Errorf("datasets does not show the declared format:\n%s", out)
	}
	// Header-less text in that order, and a file whose header wins.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "a.log"), []byte("10.0.0.1 10.0.0.2 22 700 1717164000 REJECT OK\n10.0.0.3 10.0.0.2 443 5 1717164060 ACCEPT OK\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "b.log"), []byte("srcaddr dstaddr dstport bytes start action log-status\n10.0.0.9 10.0.0.2 3389 1 1717164120 REJECT OK\n"), 0o644))
	mustStore(t, nil, "ingest", "--data", data, "--dataset", "edge", filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log"))
	rows := sqlCSV(t, data, `SELECT srcaddr, dstport, bytes, action FROM edge ORDER BY start`)
	got := ""
	for _, r := range rows {
		got += strings.Join(r, " ") + "\n"
	}
	want := "10.0.0.1 22 700 REJECT\n10.0.0.3 443 5 ACCEPT\n10.0.0.9 3389 1 REJECT\n"
	if got != want {
		t.Errorf("records:\n%swant\n%s", got, want)
	}
	// A column flowlens does not know: no declaration.
	code, _, errs = storeRun(t, nil, "sql", "--write", "--data", data, `CREATE EXTERNAL TABLE other (srcaddr string, colour string) LOCATION 's3://b/'`)
	if code != 0 || strings.Contains(errs, "dataset other") {
		t.Errorf("CREATE with an unknown column: exit %d\n%s", code, errs)
	}
}
