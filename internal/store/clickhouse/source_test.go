package clickhouse

import (
	"slices"
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
			if _, ok := stored[c]; !ok {
				t.Errorf("legacy %v: %s is not stored as the view has it", legacy, c)
			}
		}
		for _, c := range []string{"srcaddr", "dstaddr", "end", "_ingest_time", "tcp_flags", "year", "aws-service"} {
			if _, ok := stored[c]; ok {
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

// TestFlowsScanPlainColumns: a column whose pushed filter is false on the
// value `records` stores where the record lacks the field (Excludes of
// 0 or ”) is given as stored, without the `if` over `_nulls`; the others
// keep the view's expression, and `_nulls` is read only if one needs it.
func TestFlowsScanPlainColumns(t *testing.T) {
	var probed []any
	excl := func(zero any) func(v any) bool {
		return func(v any) bool { probed = append(probed, v); return v == zero }
	}
	s := &Store{}
	from, ok := s.FlowsScan([]string{"action", "dstport", "srcport", "bytes"}, []sqlgen.ScanFilter{
		{SQL: "action = 'REJECT'", Cols: []string{"action"}, Excludes: excl("")},
		{SQL: "dstport = 22", Cols: []string{"dstport"}, Excludes: excl(int64(0))},
		{SQL: "srcport <> 22", Cols: []string{"srcport"}, Excludes: func(any) bool { return false }}, // true on 0
		{SQL: "bytes > 10", Cols: []string{"bytes"}},                                                 // no Excludes: the column is read elsewhere
	})
	want := "(SELECT if(bitAnd(_nulls, 32) != 0, NULL, toInt32(`_srcport_stored`)) AS `srcport`, " +
		"toInt32(`_dstport_stored`) AS `dstport`, " +
		"if(bitAnd(_nulls, 512) != 0, NULL, `_bytes_stored`) AS `bytes`, " +
		"`_action_stored` AS `action` " +
		"FROM (SELECT `_nulls`, `srcport` AS `_srcport_stored`, `dstport` AS `_dstport_stored`, `bytes` AS `_bytes_stored`, `action` AS `_action_stored` FROM records " +
		"WHERE (action = 'REJECT') AND (dstport = 22) AND (srcport <> 22) AND (bytes > 10) AND _file_id IN (" + currentFiles + "))) AS flows"
	if !ok || from != want {
		t.Errorf("FlowsScan = %v\n%s\nwant\n%s", ok, from, want)
	}
	if !slices.Equal(probed, []any{"", int64(0)}) {
		t.Errorf("Excludes probed with %v, want the stored defaults '' (action) and 0 (dstport)", probed)
	}
	// `_nulls` is read only where a column still needs it
	from, _ = s.FlowsScan([]string{"action", "srcaddr"}, []sqlgen.ScanFilter{
		{SQL: "action = 'REJECT'", Cols: []string{"action"}, Excludes: excl("")},
	})
	if !strings.Contains(from, "`_action_stored` AS `action`") || !strings.Contains(from, "if(bitAnd(_nulls, 8) != 0, NULL, `_srcaddr_stored`)") {
		t.Errorf("FlowsScan = %s", from)
	}
	from, _ = s.FlowsScan([]string{"action"}, []sqlgen.ScanFilter{
		{SQL: "action = 'REJECT'", Cols: []string{"action"}, Excludes: excl("")},
	})
	if want := "(SELECT `_action_stored` AS `action` FROM (SELECT `action` AS `_action_stored` FROM records WHERE (action = 'REJECT') AND _file_id IN (" + currentFiles + "))) AS flows"; from != want {
		t.Errorf("FlowsScan =\n%s\nwant\n%s", from, want)
	}
}
