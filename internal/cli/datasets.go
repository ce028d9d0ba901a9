package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/store"
)

// runDatasets lists datasets.
func runDatasets(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "datasets", "datasets [--data DIR] [--store URL] [--output table|csv|json|jsonl]", "  flowlens datasets\n  flowlens datasets --output json\n")
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	output := fs.String("output", "table", "result format: table, csv, json or jsonl")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutputFormat(*output); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	st, err := openStore(ctx, env, *data, *storeURL, true)
	if err != nil {
		return err
	}
	defer env.release(st)
	ds, err := st.Datasets(ctx)
	if err != nil {
		return err
	}
	return writeResult(env.Stdout, *output, datasetsResult(ds, *output == "table"))
}

// datasetsResult turns datasets into a result; human makes sizes and
// times readable.
func datasetsResult(ds []store.Dataset, human bool) *store.Result {
	res := &store.Result{Columns: []string{"dataset", "records", "bytes", "bytes_per_record", "first", "last", "files", "last_ingest", "retention", "formats", "declared_format"}}
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		if human {
			return t.UTC().Format("2006-01-02 15:04:05")
		}
		return t.UTC()
	}
	for _, d := range ds {
		var bpr any
		if d.Records > 0 {
			bpr = float64(int64(float64(d.Bytes)/float64(d.Records)*10+0.5)) / 10
		}
		ids := make([]int, 0, len(d.Formats))
		for id := range d.Formats {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		var fm []string
		for _, id := range ids {
			fm = append(fm, d.Formats[id])
		}
		var bytes any = d.Bytes
		if human {
			bytes = humanBytes(d.Bytes)
		}
		var ret any
		if d.Retention > 0 {
			ret = formatKeep(d.Retention)
		}
		res.Rows = append(res.Rows, []any{d.Name, d.Records, bytes, bpr, ts(d.MinTime), ts(d.MaxTime), d.Files, ts(d.LastIngest), ret, strings.Join(fm, " | "), nilIfEmpty(d.DeclaredFormat)})
	}
	return res
}

func formatKeep(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
