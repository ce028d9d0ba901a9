package clickhouse

import (
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/sqlgen"
)

// TestFlowsScanFromTheView: FlowsScan's FROM item is cut from the view's
// own SELECT: every column of the view, the filters on stored columns
// only, the exactly-once filter always.
func TestFlowsScanFromTheView(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		d, ok := parseFlowsSelect(flowsSelect(legacy))
		if !ok {
			t.Fatalf("legacy %v: flowsSelect does not parse", legacy)
		}
		names := map[string]bool{}
		for _, it := range d.outer {
			names[it.name] = true
		}
		for i := range flowlog.Fields() {
			if c := flowlog.Fields()[i].Column; !names[c] {
				t.Errorf("legacy %v: no view column %q", legacy, c)
			}
		}
		for _, c := range []string{"dataset", "_hour", "_srcaddr_v4", "_dstaddr_v4", "_ingest_time", "_file_id", "aws-service", "dt"} {
			if !names[c] {
				t.Errorf("legacy %v: no view column %q", legacy, c)
			}
		}
		if d.from != "records" || !strings.HasPrefix(d.where, "_file_id IN (") {
			t.Errorf("legacy %v: inner FROM %q WHERE %q", legacy, d.from, d.where)
		}
		stored := d.storedAsIs()
		for _, c := range []string{"dataset", "_hour", "start", "action", "bytes", "dstport", "protocol", "_srcaddr_v4"} {
			if !stored[c] {
				t.Errorf("legacy %v: %s is not stored as the view has it", legacy, c)
			}
		}
		for _, c := range []string{"srcaddr", "dstaddr", "end", "_ingest_time", "tcp_flags", "year", "aws-service"} {
			if stored[c] {
				t.Errorf("legacy %v: %s is computed, not stored", legacy, c)
			}
		}
	}
	s := &Store{}
	from, ok := s.FlowsScan([]string{"dstport", "srcaddr", "start", "_ingest_time"}, []sqlgen.ScanFilter{
		{SQL: "dstport = 22", Cols: []string{"dstport"}},
		{SQL: "_srcaddr_v4 = 1", Cols: []string{"_srcaddr_v4"}},
		{SQL: "srcaddr = 'x'", Cols: []string{"srcaddr"}},
	})
	want := "(SELECT if(isNull(`_srcaddr_v4`), if(bitAnd(_nulls, 8) != 0, NULL, `_srcaddr_stored`), IPv4NumToString(assumeNotNull(`_srcaddr_v4`))) AS `srcaddr`, " +
		"if(bitAnd(_nulls, 64) != 0, NULL, toInt32(`_dstport_stored`)) AS `dstport`, if(bitAnd(_nulls, 1024) != 0, NULL, `_start_stored`) AS `start`, " +
		"toInt64(bitShiftRight(_file_id, 20)) AS _ingest_time " +
		"FROM (SELECT `_file_id`, `_nulls`, `srcaddr` AS `_srcaddr_stored`, `_srcaddr_v4`, `dstport` AS `_dstport_stored`, `start` AS `_start_stored` FROM records " +
		"WHERE (dstport = 22) AND (_srcaddr_v4 = 1) AND _file_id IN (" + currentFiles + "))) AS flows"
	if !ok || from != want {
		t.Errorf("FlowsScan = %v\n%s\nwant\n%s", ok, from, want)
	}
	if _, ok := s.FlowsScan([]string{"start", "nosuch"}, nil); ok {
		t.Error("FlowsScan of a column the view lacks")
	}
	if _, ok := (&Store{cluster: "c"}).FlowsScan([]string{"start"}, nil); ok {
		t.Error("FlowsScan on a cluster store")
	}
}
