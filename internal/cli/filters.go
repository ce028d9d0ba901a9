package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/filterpattern"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/store"
)

const filtersExamples = `  # what 'aws logs test-metric-filter' does, over lines, files or stdin
  echo '2 1234567890123 eni-xxxxxxxx xx.x.x.xxx yy.y.y.yyy 49907 80 6 4 216 1441204247 1441204306 ACCEPT OK' |
    flowlens filters test --output json \
      --pattern '[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=80,protocol,packets,bytes,start,end,action,log_status]'
  flowlens filters test --pattern 'REJECT "eni-0a1b2c3d4e5f60718"' ./AWSLogs/2024/05/31/*.log.gz

  # metric filters of a dataset: every record ingested afterwards is evaluated
  flowlens filters add --dataset my-flow-log --name SSHAccess \
    --pattern '[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]' \
    --metric-transformations 'metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess'
  flowlens filters add --dataset prod-vpc --name RejectedBytes --pattern '[..., bytes, start, end, action = REJECT, status]' \
    --metric-namespace VPC --metric-name RejectedBytes --metric-value '$bytes' --unit Bytes --dimension 'Source=$3'
  flowlens filters list --dataset my-flow-log --output json
  flowlens filters delete --dataset my-flow-log SSHAccess
  # a filter over records stored before it existed (minutes recomputed, never counted twice)
  flowlens filters backfill --dataset my-flow-log SSHAccess --start 2024-05-31 --end 2024-06-01

Patterns are CloudWatch Logs filter patterns: terms ("a phrase", -not, ?or),
%regex%, space-delimited [a, b=22, c!=x, d>=5, e=*foo*, ...] with && || and
parentheses, JSON { $.x = 1 }; "" matches everything. flowlens extension:
[$dstport = 22, $action = REJECT] names fields of the format instead of
listing every position. An invalid pattern exits with status 2 and its
position. Definitions live in DIR/metricfilters/filters.json; the CLI and a
running 'flowlens serve' share them. A filter counts what is ingested after
it exists; 'backfill' evaluates it over stored records whose start is in
[--start, --end) and replaces the filter's minutes of that range with the
result, so a second backfill, or one over minutes already counted at
ingest, counts each record once. While a server owns the folder, backfill
runs there (ingest waits meanwhile). 'flowlens ingest --force' backfills
the range it replaced by itself.
`

// runFilters is 'flowlens filters test|add|list|delete'.
func runFilters(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || wantsHelp(args[:1]) {
		fs := newFlagSet(env, "filters", "filters test --pattern P [--output table|json|jsonl] [FILE…|-] | add … | list … | delete --dataset D NAME | backfill --dataset D NAME --start T --end T", filtersExamples)
		fs.Usage()
		if len(args) == 0 {
			return usageError("name a subcommand: test, add, list, delete or backfill")
		}
		return nil
	}
	switch args[0] {
	case "test":
		return runFiltersTest(ctx, env, args[1:])
	case "add", "put":
		return runFiltersAdd(ctx, env, args[0], args[1:])
	case "list":
		return runFiltersList(ctx, env, args[1:])
	case "delete":
		return runFiltersDelete(ctx, env, args[1:])
	case "backfill":
		return runFiltersBackfill(ctx, env, args[1:])
	}
	return usageError("unknown subcommand %q: test, add, list, delete or backfill", args[0])
}

// patternError is the exit-2 error of an invalid pattern, with a caret.
func patternError(err error) error {
	var pe *filterpattern.Error
	if errors.As(err, &pe) {
		return &ExitError{Code: 2, Err: fmt.Errorf("invalid filter pattern at %v\n  %s", err, strings.ReplaceAll(pe.Caret(), "\n", "\n  "))}
	}
	return &ExitError{Code: 2, Err: err}
}

// testMatch is one element of TestMetricFilter's matches.
type testMatch struct {
	EventNumber     int               `json:"eventNumber"`
	EventMessage    string            `json:"eventMessage"`
	ExtractedValues map[string]string `json:"extractedValues"`
}

func runFiltersTest(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "filters test", "filters test --pattern P [--output table|json|jsonl] [--format F] [FILE…|-]", filtersExamples)
	pattern := fs.String("pattern", "", "the filter `pattern` (as for aws logs test-metric-filter --filter-pattern)")
	fs.StringVar(pattern, "filter-pattern", "", "the same as --pattern")
	output := fs.String("output", "table", "result format: table, json (TestMetricFilter's response) or jsonl (one match a line)")
	formatText := fs.String("format", "", "flow log `format` of header-less lines, for $name patterns (default: the file's header, else the default format)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !slices.Contains([]string{"table", "json", "jsonl"}, *output) {
		return usageError("unknown --output %q (use table, json or jsonl)", *output)
	}
	p, err := filterpattern.Parse(*pattern)
	if err != nil {
		return patternError(err)
	}
	for _, w := range p.Warnings() {
		fmt.Fprintf(env.Stderr, "flowlens filters test: warning: %s\n", w)
	}
	var format *flowlog.Format
	if *formatText != "" {
		if format, err = flowlog.ParseFormat(*formatText); err != nil {
			return usageError("--format: %v", err)
		}
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	var matches []testMatch
	n := 0
	w := env.Stdout
	emit := func(m testMatch) error {
		if *output != "jsonl" {
			matches = append(matches, m)
			return nil
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	for _, in := range inputs {
		rc, name, err := openEventInput(env, in)
		if err != nil {
			return err
		}
		err = readEvents(ctx, name, rc, func(msg string, f *flowlog.Format) error {
			n++
			if format != nil {
				f = format
			}
			vals, ok := p.ExtractFormat(msg, f)
			if !ok {
				return nil
			}
			return emit(testMatch{EventNumber: n, EventMessage: msg, ExtractedValues: vals})
		})
		rc.Close()
		if err != nil {
			return err
		}
	}
	switch *output {
	case "json":
		if matches == nil {
			matches = []testMatch{}
		}
		b, err := json.MarshalIndent(struct {
			Matches []testMatch `json:"matches"`
		}{matches}, "", "    ")
		if err != nil {
			return err
		}
		if _, err = w.Write(append(b, '\n')); err != nil {
			return err
		}
	case "table":
		res := &store.Result{Columns: []string{"eventNumber", "eventMessage", "extractedValues"}, Types: []string{"BIGINT", "VARCHAR", "VARCHAR"}}
		for _, m := range matches {
			res.Rows = append(res.Rows, []any{int64(m.EventNumber), m.EventMessage, valuesText(p, m.ExtractedValues)})
		}
		if err := writeResult(w, "table", res); err != nil {
			return err
		}
	}
	if *output != "jsonl" {
		fmt.Fprintf(env.Stderr, "%d of %d event%s matched\n", len(matches), n, plural(n))
	}
	return nil
}

// valuesText prints extracted values in field order: $1 … $N with the
// pattern's names in their places.
func valuesText(p *filterpattern.Pattern, vals map[string]string) string {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	order := map[string]int{}
	for i, k := range p.Names() {
		order[k] = i
	}
	slices.SortFunc(keys, func(a, b string) int {
		ai, aok := order[a]
		bi, bok := order[b]
		if aok && bok {
			return ai - bi
		}
		an, aerr := strconv.Atoi(a[1:])
		bn, berr := strconv.Atoi(b[1:])
		if aerr == nil && berr == nil {
			return an - bn
		}
		return strings.Compare(a, b)
	})
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(k + "=" + vals[k])
	}
	return sb.String()
}

// dimensionFlags collects repeated --dimension Name=$field flags.
type dimensionFlags map[string]string

func (d dimensionFlags) String() string { return "" }

func (d dimensionFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("a dimension is Name=$field, not %q", s)
	}
	d[k] = v
	return nil
}

// parseTransformation reads AWS CLI shorthand:
// metricName=string,metricNamespace=string,metricValue=string,defaultValue=double,unit=string
// (dimensions as dimensions={Name=$field,Other=$f}).
func parseTransformation(s string, t *metricfilter.Transformation) error {
	s = strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(s), "]"), "[")
	for s != "" {
		var part string
		if i := strings.Index(s, "={"); i >= 0 && i < strings.IndexByte(s+",", ',') {
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return fmt.Errorf("unclosed { in %q", s)
			}
			part, s = s[:i+j+1], strings.TrimPrefix(s[i+j+1:], ",")
		} else {
			part, s, _ = strings.Cut(s, ",")
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("expected key=value, found %q", part)
		}
		switch strings.TrimSpace(k) {
		case "metricName":
			t.MetricName = v
		case "metricNamespace":
			t.MetricNamespace = v
		case "metricValue":
			t.MetricValue = v
		case "defaultValue":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("defaultValue %q is not a number", v)
			}
			t.DefaultValue = &f
		case "unit":
			t.Unit = v
		case "dimensions":
			t.Dimensions = map[string]string{}
			for _, d := range strings.Split(strings.Trim(v, "{}"), ",") {
				dk, dv, ok := strings.Cut(d, "=")
				if !ok {
					return fmt.Errorf("a dimension is Name=$field, not %q", d)
				}
				t.Dimensions[dk] = dv
			}
		default:
			return fmt.Errorf("unknown key %q (metricName, metricNamespace, metricValue, defaultValue, dimensions, unit)", k)
		}
	}
	return nil
}

func runFiltersAdd(ctx context.Context, env *Env, sub string, args []string) error {
	fs := newFlagSet(env, "filters "+sub, "filters "+sub+" --dataset D --name N --pattern P (--metric-transformations … | --metric-namespace NS --metric-name M [--metric-value V]) [flags]", filtersExamples)
	data := dataFlag(fs, env)
	dataset := fs.String("dataset", "", "the `dataset` (log group) whose records the filter reads")
	fs.StringVar(dataset, "log-group-name", "", "the same as --dataset")
	name := fs.String("name", "", "the filter `name` (unique in the dataset)")
	fs.StringVar(name, "filter-name", "", "the same as --name")
	pattern := fs.String("pattern", "", "the filter `pattern`")
	fs.StringVar(pattern, "filter-pattern", "", "the same as --pattern")
	mt := fs.String("metric-transformations", "", "AWS CLI shorthand: 'metricValue=1,metricNamespace=NS,metricName=M[,defaultValue=0][,unit=Count]'")
	ns := fs.String("metric-namespace", "", "metric `namespace`")
	metric := fs.String("metric-name", "", "metric `name`")
	value := fs.String("metric-value", "1", "published per match: a number or an extracted `value` ($bytes)")
	def := fs.String("default-value", "", "published per non-matching record (a `number`; not with dimensions)")
	unit := fs.String("unit", "", "the metric's `unit` (Count, Bytes, …)")
	dims := dimensionFlags{}
	fs.Var(dims, "dimension", "a dimension `Name=$field` (repeatable, at most 3)")
	output := fs.String("output", "", "print the stored filter as json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("filters %s takes no arguments (the name goes in --name)", sub)
	}
	if *dataset == "" || *name == "" {
		return usageError("--dataset and --name are required")
	}
	f := metricfilter.Filter{Dataset: *dataset, Name: *name, Pattern: *pattern}
	t := &f.Metric
	if *mt != "" {
		if err := parseTransformation(*mt, t); err != nil {
			return usageError("--metric-transformations: %v", err)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["metric-namespace"] || t.MetricNamespace == "" {
		t.MetricNamespace = *ns
	}
	if set["metric-name"] || t.MetricName == "" {
		t.MetricName = *metric
	}
	if set["metric-value"] || t.MetricValue == "" {
		t.MetricValue = *value
	}
	if set["unit"] {
		t.Unit = *unit
	}
	if *def != "" {
		v, err := strconv.ParseFloat(*def, 64)
		if err != nil {
			return usageError("--default-value %q is not a number", *def)
		}
		t.DefaultValue = &v
	}
	if len(dims) > 0 {
		t.Dimensions = dims
	}
	if _, err := filterpattern.Parse(f.Pattern); err != nil {
		return patternError(err)
	}
	st := metricfilter.Open(*data)
	var err error
	if sub == "put" {
		f, err = st.Put(ctx, f)
	} else {
		f, err = st.Add(ctx, f)
	}
	if err != nil {
		if errors.Is(err, metricfilter.ErrInvalid) {
			return usageError("%v", err)
		}
		return err
	}
	if *output == "json" {
		return writeJSON(env.Stdout, f)
	}
	fmt.Fprintf(env.Stderr, "metric filter %s of dataset %s: %s/%s\n", f.Name, f.Dataset, f.Metric.MetricNamespace, f.Metric.MetricName)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func runFiltersList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "filters list", "filters list [--dataset D] [--prefix P] [--output table|csv|json|jsonl]", filtersExamples)
	data := dataFlag(fs, env)
	dataset := fs.String("dataset", "", "only this `dataset`'s filters")
	fs.StringVar(dataset, "log-group-name", "", "the same as --dataset")
	prefix := fs.String("prefix", "", "only filters whose name starts with `P`")
	output := fs.String("output", "table", "result format: table, csv, json (DescribeMetricFilters' shape) or jsonl")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutputFormat(*output); err != nil {
		return err
	}
	list, err := metricfilter.Open(*data).List(ctx, *dataset, *prefix)
	if err != nil {
		return err
	}
	if *output == "json" {
		if list == nil {
			list = []metricfilter.Filter{}
		}
		return writeJSON(env.Stdout, struct {
			MetricFilters []metricfilter.Filter `json:"metricFilters"`
		}{list})
	}
	res := &store.Result{
		Columns: []string{"dataset", "name", "pattern", "namespace", "metric", "value", "default", "dimensions", "unit", "created"},
		Types:   []string{"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"},
	}
	for _, f := range list {
		def := ""
		if f.Metric.DefaultValue != nil {
			def = strconv.FormatFloat(*f.Metric.DefaultValue, 'g', -1, 64)
		}
		var dims []string
		for _, k := range slices.Sorted(mapKeys(f.Metric.Dimensions)) {
			dims = append(dims, k+"="+f.Metric.Dimensions[k])
		}
		res.Rows = append(res.Rows, []any{f.Dataset, f.Name, f.Pattern, f.Metric.MetricNamespace, f.Metric.MetricName,
			f.Metric.MetricValue, def, strings.Join(dims, ","), f.Metric.Unit, f.Created().Format(time.RFC3339)})
	}
	return writeResult(env.Stdout, *output, res)
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func runFiltersDelete(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "filters delete", "filters delete --dataset D NAME…", filtersExamples)
	data := dataFlag(fs, env)
	dataset := fs.String("dataset", "", "the filter's `dataset`")
	fs.StringVar(dataset, "log-group-name", "", "the same as --dataset")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dataset == "" || fs.NArg() == 0 {
		return usageError("name the dataset (--dataset) and the filters to delete")
	}
	st := metricfilter.Open(*data)
	for _, name := range fs.Args() {
		if err := st.Delete(ctx, *dataset, name); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "deleted metric filter %s of dataset %s\n", name, *dataset)
	}
	return nil
}
