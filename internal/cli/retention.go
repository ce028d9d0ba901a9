package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const retentionExamples = `  flowlens retention --keep 7d
  flowlens retention --keep 36h --dataset nat-gw
  flowlens retention --before 2024-05-01T00:00:00Z

--keep drops now and records the retention: while 'flowlens serve' runs it
drops the hours beyond it every hour ('flowlens jobs --history --job retention'
shows each run).
`

// runRetention removes whole hours older than --keep (or before --before).
func runRetention(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "retention", "retention [--data DIR] [--store URL] (--keep DURATION | --before TIME) [--dataset NAME]", retentionExamples)
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	keep := fs.String("keep", "", "keep this much data back from now (7d, 36h, 90m); also recorded as the dataset's retention, which flowlens serve applies every hour")
	before := fs.String("before", "", "remove the hours that end before this RFC 3339 `time` instead")
	dataset := fs.String("dataset", "", "only this dataset (default: every dataset)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if (*keep == "") == (*before == "") {
		return usageError("give --keep DURATION or --before TIME")
	}
	var cutoff time.Time
	var keepD time.Duration
	if *keep != "" {
		d, err := parseKeep(*keep)
		if err != nil {
			return usageError("--keep: %v", err)
		}
		keepD = d
		cutoff = time.Now().Add(-d)
	} else {
		t, err := time.Parse(time.RFC3339, *before)
		if err != nil {
			return usageError("--before: %v", err)
		}
		cutoff = t
	}
	// Whole hours only: an hour goes when all of it is older than the cutoff.
	cutoff = cutoff.UTC().Truncate(time.Hour)
	st, err := openStore(ctx, env, *data, *storeURL, false)
	if err != nil {
		return err
	}
	defer env.release(st)
	if keepD > 0 {
		if err := st.SetRetention(ctx, *dataset, keepD); err != nil {
			return err
		}
	}
	n, err := st.DropBefore(ctx, *dataset, cutoff)
	if err != nil {
		return err
	}
	scope := "every dataset"
	if *dataset != "" {
		scope = "dataset " + *dataset
	}
	fmt.Fprintf(env.Stdout, "removed %d records of %s in hours before %s UTC\n", n, scope, cutoff.Format("2006-01-02 15:04"))
	return nil
}

// parseKeep parses 7d, 36h, 90m, 1h30m; days are 24 hours.
func parseKeep(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q (use 7d, 36h, 90m)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q (use 7d, 36h, 90m)", s)
	}
	return d, nil
}
