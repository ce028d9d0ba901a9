package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/alarm"
	"github.com/flowlens/flowlens/internal/store"
)

const alarmsExamples = `  # the SSH brute-force alarm on the walkthrough's SSHAccess metric filter
  flowlens alarms add --name ssh-brute-force --namespace LogMetrics --metric SSHAccess \
    --statistic Sum --period 300 --evaluation-periods 1 --threshold 10 \
    --comparison GreaterThanOrEqualToThreshold --treat-missing-data notBreaching \
    --action alertmanager+http://127.0.0.1:9093 --ok-action alertmanager+http://127.0.0.1:9093 \
    --action slack+https://hooks.slack.com/services/T000/B000/XXXX --action https://example.com/hook \
    --action mailto:oncall@example.com,secops@example.com
  flowlens alarms list
  flowlens alarms history ssh-brute-force
  flowlens alarms delete ssh-brute-force

A running 'flowlens serve' evaluates every alarm every 20 seconds
(serve --alarm-interval) over the metrics of the metric filters ('flowlens
filters'): the newest --evaluation-periods complete periods, looking back
up to twice as far for missing data (a period is complete once serve
--alarm-grace has passed after its end; 0 by default), M out of N with
--datapoints-to-alarm. A state change is recorded in the history and sent
to the actions of the new state: an http(s) URL gets a JSON document,
slack+URL a Slack message, alertmanager+URL an alert through
Alertmanager's v2 API, mailto:ADDR[,ADDR] an e-mail through the server's
SMTP server ('flowlens serve --smtp-server HOST:PORT --smtp-from ADDR',
STARTTLS when offered, AUTH PLAIN with --smtp-user and
$FLOWLENS_SMTP_PASSWORD). Failed deliveries are retried with backoff (up
to 10 attempts), also after a restart. Definitions and states live in
DIR/alarms/alarms.json.
`

// runAlarms is 'flowlens alarms add|list|delete|history'.
func runAlarms(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || wantsHelp(args[:1]) {
		fs := newFlagSet(env, "alarms", "alarms add … | list | delete NAME… | history NAME  [--data DIR]", alarmsExamples)
		fs.Usage()
		if len(args) == 0 {
			return usageError("name a subcommand: add, list, delete or history")
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet(env, "alarms "+sub, "alarms "+sub+" [flags]", alarmsExamples)
	data := dataFlag(fs, env)
	var d alarm.Definition
	var dims dimensionFlags
	var actions, okActions, insActions stringList
	var output *string
	switch sub {
	case "add", "put":
		fs.StringVar(&d.Name, "name", "", "the alarm `name`")
		fs.StringVar(&d.Description, "description", "", "a `text` describing the alarm")
		fs.StringVar(&d.Namespace, "namespace", "", "the metric's `namespace` (the metric filter's metricNamespace)")
		fs.StringVar(&d.MetricName, "metric", "", "the metric's `name` (the metric filter's metricName)")
		dims = dimensionFlags{}
		fs.Var(dims, "dimension", "a dimension `Name=value` of the series (repeatable; the full set must match)")
		fs.StringVar(&d.Statistic, "statistic", "Sum", "SampleCount, Average, Sum, Minimum or Maximum")
		fs.Int64Var(&d.Period, "period", 300, "period in `seconds` (a multiple of 60)")
		fs.IntVar(&d.EvaluationPeriods, "evaluation-periods", 1, "N: the periods evaluated")
		fs.IntVar(&d.DatapointsToAlarm, "datapoints-to-alarm", 0, "M: breaching periods of the N that set ALARM (default N)")
		fs.Float64Var(&d.Threshold, "threshold", 0, "the threshold")
		fs.StringVar(&d.ComparisonOperator, "comparison", "GreaterThanOrEqualToThreshold", "GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold")
		fs.StringVar(&d.TreatMissingData, "treat-missing-data", "missing", "missing, notBreaching, breaching or ignore")
		fs.BoolVar(&d.ActionsDisabled, "actions-disabled", false, "record state changes without notifying")
		fs.Var(&actions, "action", "notify this `target` on ALARM (repeatable)")
		fs.Var(&okActions, "ok-action", "notify this `target` on OK (repeatable)")
		fs.Var(&insActions, "insufficient-data-action", "notify this `target` on INSUFFICIENT_DATA (repeatable)")
	case "list", "history":
		output = fs.String("output", "table", "result format: table, csv, json or jsonl")
	case "delete":
	default:
		return usageError("unknown subcommand %q: add, list, delete or history", sub)
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	st := alarm.Open(*data)
	switch sub {
	case "add", "put":
		if fs.NArg() > 0 {
			return usageError("alarms add takes no arguments (the name goes in --name)")
		}
		if len(dims) > 0 {
			d.Dimensions = dims
		}
		d.AlarmActions, d.OKActions, d.InsufficientDataActions = actions, okActions, insActions
		it, err := st.Put(ctx, d)
		if errors.Is(err, alarm.ErrInvalid) {
			return usageError("%v", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "alarm %s on %s/%s: %s\n", it.Name, it.Namespace, it.MetricName, it.State.Value)
		return nil
	case "delete":
		if fs.NArg() == 0 {
			return usageError("name the alarms to delete")
		}
		for _, n := range fs.Args() {
			if err := st.Delete(ctx, n); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "deleted alarm %s\n", n)
		}
		return nil
	case "list":
		if err := checkOutputFormat(*output); err != nil {
			return err
		}
		items, err := st.List(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		if *output == "json" {
			if items == nil {
				items = []alarm.Item{}
			}
			return writeJSON(env.Stdout, struct {
				MetricAlarms []alarm.Item `json:"metricAlarms"`
			}{items})
		}
		res := &store.Result{Columns: []string{"name", "state", "metric", "condition", "since", "reason"}, Types: make([]string, 6)}
		for _, a := range items {
			cond := fmt.Sprintf("%s %s %g, %d of %d × %ds, missing: %s", a.Statistic, a.ComparisonOperator, a.Threshold, a.M(), a.EvaluationPeriods, a.Period, a.Treat())
			res.Rows = append(res.Rows, []any{a.Name, a.State.Value, a.Namespace + "/" + a.MetricName + dimText(a.Dimensions), cond,
				a.State.Updated.UTC().Format(time.RFC3339), a.State.Reason})
		}
		return writeResult(env.Stdout, *output, res)
	default:
		if err := checkOutputFormat(*output); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageError("name the alarm")
		}
		if _, err := st.Get(ctx, fs.Arg(0)); err != nil {
			return err
		}
		h, err := st.History(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		res := &store.Result{Columns: []string{"timestamp", "type", "old", "new", "reason"}, Types: make([]string, 5)}
		for _, x := range h {
			res.Rows = append(res.Rows, []any{x.Timestamp.UTC().Format(time.RFC3339), x.Kind, x.Old, x.New, x.Reason})
		}
		return writeResult(env.Stdout, *output, res)
	}
}

func dimText(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range mapKeys(m) {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
