package cli

import (
	"context"
	"fmt"
)

const exportExamples = `  flowlens export --parquet ./lake
  flowlens export --parquet ./lake --dataset prod-vpc

The lake is <dataset>/year=YYYY/month=MM/day=DD/hour=HH/*.parquet with AWS's
Parquet column names and types, readable by Athena's flow log table (hive
partitions year, month, day, hour) and by DuckDB's read_parquet.
`

// runExport writes an Athena-ready Parquet lake.
func runExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "export", "export [--data DIR] [--store URL] --parquet DIR [--dataset NAME]...", exportExamples)
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	out := fs.String("parquet", "", "write the Parquet lake into `DIR` (a dataset's folder is replaced)")
	var datasets multiFlag
	fs.Var(&datasets, "dataset", "export only this dataset (repeatable; default: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	*out = env.abs(*out)
	if *out == "" {
		return usageError("--parquet DIR is required")
	}
	if fs.NArg() != 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	st, err := openStore(ctx, env, *data, *storeURL, true)
	if err != nil {
		return err
	}
	defer env.release(st)
	d := embedded(st)
	if d == nil {
		return fmt.Errorf("export: the Parquet lake is written from the embedded database; on ClickHouse write it with ClickHouse itself (docs/clickhouse.md)")
	}
	stats, err := d.Export(ctx, *out, datasets...)
	if err != nil {
		return err
	}
	for _, s := range stats {
		fmt.Fprintf(env.Stdout, "exported dataset %s: %d records in %d Parquet files (%s) under %s\n",
			s.Dataset, s.Records, s.Files, humanBytes(s.Bytes), s.Dir)
	}
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint([]string(*m)) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
