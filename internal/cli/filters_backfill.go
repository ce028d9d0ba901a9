package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/filtereval"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/query"
)

// runFiltersBackfill is 'flowlens filters backfill --dataset D NAME
// --start T --end T': the filter over the records already stored. While a
// server owns the folder it runs there (its API's backfill, under its
// write lock), so that the server's metrics get the result.
func runFiltersBackfill(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "filters backfill", "filters backfill [--data DIR] [--store URL] --dataset D NAME --start T --end T [--output table|json]", filtersExamples)
	data := dataFlag(fs, env)
	storeURL := storeFlag(fs, env)
	dataset := fs.String("dataset", "", "the filter's `dataset`")
	fs.StringVar(dataset, "log-group-name", "", "the same as --dataset")
	startS := fs.String("start", "", "first `time` (2024-05-31T14:00:00Z, 2024-05-31, epoch seconds, -2h); rounded down to the minute")
	endS := fs.String("end", "", "end `time`, exclusive (default now); rounded up to the minute")
	output := fs.String("output", "table", "result format: table or json")
	// The filter's name may come before the flags, as in
	// 'filters backfill SSHAccess --start …'.
	var names []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *dataset == "" || len(names) != 1 {
		return usageError("name the dataset (--dataset) and one filter")
	}
	if *startS == "" {
		return usageError("--start is required (the range of record start times to recompute)")
	}
	if *output != "table" && *output != "json" {
		return usageError("unknown --output %q (use table or json)", *output)
	}
	now := time.Now().UTC()
	start, err := query.ParseTime(*startS, now)
	if err != nil {
		return usageError("--start: %v", err)
	}
	end := now
	if *endS != "" {
		if end, err = query.ParseTime(*endS, now); err != nil {
			return usageError("--end: %v", err)
		}
	}
	if !end.After(start) {
		return usageError("--end (%s) is not after --start (%s)", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	dir := env.abs(*data)
	var res filtereval.BackfillResult
	if env.shared == nil && serverOwns(dir) {
		res, err = backfillOnServer(ctx, dir, *dataset, names[0], start, end)
	} else {
		res, err = backfillHere(ctx, env, dir, *storeURL, *dataset, names[0], start, end)
	}
	if err != nil {
		if errors.Is(err, metricfilter.ErrNotFound) || errors.Is(err, filtereval.ErrBackfillRange) {
			return usageError("%v", err)
		}
		return err
	}
	if *output == "json" {
		return writeJSON(env.Stdout, res)
	}
	fmt.Fprintf(env.Stdout, "backfilled %s of dataset %s over %s .. %s: %d records read, %d matched, %g samples in %d minutes of %d series (%d minutes replaced)\n",
		res.Filter, res.Dataset, res.Start.Format(time.RFC3339), res.End.Format(time.RFC3339),
		res.Records, res.Matched, res.Samples, res.Minutes, res.Series, res.Replaced)
	return nil
}

// backfillHere opens the store (no server owns it: nothing else commits
// while it is open) and backfills into DIR/metrics.
func backfillHere(ctx context.Context, env *Env, dir, storeURL, dataset, name string, start, end time.Time) (filtereval.BackfillResult, error) {
	var res filtereval.BackfillResult
	if _, err := metricfilter.Open(dir).Get(ctx, dataset, name); err != nil {
		return res, err
	}
	st, err := openStore(ctx, env, dir, storeURL, false)
	if err != nil {
		return res, err
	}
	defer env.release(st)
	cfg := filtereval.DefaultConfig()
	cfg.Dir = dir
	ev, err := filtereval.New(cfg, filtereval.Deps{Logger: env.Logger, Filters: metricfilter.Open(dir), Recovery: recoveryOf(st)})
	if err != nil {
		return res, err
	}
	if err := ev.Start(ctx); err != nil {
		return res, err
	}
	res, err = ev.Backfill(ctx, st, dataset, name, start, end)
	return res, errors.Join(err, ev.Stop(context.WithoutCancel(ctx)))
}

// backfillOnServer asks the server that owns dir through its API.
func backfillOnServer(ctx context.Context, dir, dataset, name string, start, end time.Time) (filtereval.BackfillResult, error) {
	var res filtereval.BackfillResult
	info, err := readServeInfo(dir)
	if err != nil {
		return res, fmt.Errorf("the flowlens serve that owns %s: read %s: %w", dir, serveInfoName, err)
	}
	token, err := os.ReadFile(filepath.Join(dir, serveTokenName))
	if err != nil {
		return res, fmt.Errorf("the flowlens serve that owns %s: read its token (the folder's owner may run this command): %w", dir, err)
	}
	body, _ := json.Marshal(map[string]any{"start": start.Unix(), "end": end.Unix()})
	u := strings.TrimRight(info.URL, "/") + "/api/v1/metric-filters/" + url.PathEscape(dataset) + "/" + url.PathEscape(name) + "/backfill"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return res, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return res, fmt.Errorf("the flowlens serve that owns %s: %w", dir, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return res, err
	}
	var env struct {
		Data  filtereval.BackfillResult `json:"data"`
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return res, fmt.Errorf("the flowlens serve that owns %s: HTTP %d: %s", dir, resp.StatusCode, bytes.TrimSpace(b))
	}
	if env.Error != nil {
		switch env.Error.Type {
		case "not_found":
			return res, fmt.Errorf("%w: %s", metricfilter.ErrNotFound, env.Error.Message)
		case "bad_request":
			return res, fmt.Errorf("%w: %s", filtereval.ErrBackfillRange, env.Error.Message)
		}
		return res, fmt.Errorf("the flowlens serve that owns %s: %s", dir, env.Error.Message)
	}
	return env.Data, nil
}
