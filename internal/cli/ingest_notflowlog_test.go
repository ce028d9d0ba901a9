package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestSkipsFilesWithoutFlowLogs: a folder as the generator (or an AWS
// export) leaves it holds an interface inventory beside the logs. Walking the
// folder skips it and says so; naming it directly is an error.
func TestIngestSkipsFilesWithoutFlowLogs(t *testing.T) {
	c, sum := genConfig(t, "s3", "default", 3000)
	inv := filepath.Join(c.Out, "inventory.json")
	if err := os.WriteFile(inv, []byte(`{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-0a1b2c3d4e5f60718"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	out := mustStore(t, nil, "ingest", "--data", data, c.Out)
	if !strings.Contains(out, "skipped 1 file holding no flow logs: "+inv) || strings.Contains(out, "rejected") {
		t.Errorf("summary:\n%s", out)
	}
	if !strings.Contains(out, fmt.Sprintf("%d records", sum.Records)) {
		t.Errorf("records missing from the summary:\n%s", out)
	}
	code, out, errs := storeRun(t, nil, "ingest", "--data", data, inv)
	if code != 1 || !strings.Contains(out+errs, "not a flow log") {
		t.Errorf("named directly: exit %d\n%s\n%s", code, out, errs)
	}
}
