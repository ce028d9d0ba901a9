// Package alarm is CloudWatch's metric alarm model over the metrics of
// metric filters (spec/metric-filters.md §7): definitions and their state
// in DIR/alarms/alarms.json (shared by the CLI and the server like the
// metric filters), the evaluation of §7.3 (M out of N periods, the four
// ways to treat missing data, states OK, ALARM and INSUFFICIENT_DATA with
// history), and notifications of state changes to webhooks, Slack,
// Alertmanager's v2 API and e-mail (SMTP), kept in an outbox in the same
// file and retried with backoff until delivered, across restarts.
package alarm

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// States.
const (
	OK               = "OK"
	Alarm            = "ALARM"
	InsufficientData = "INSUFFICIENT_DATA"
)

// Comparison operators.
var Comparisons = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}

// TreatMissing values.
var TreatMissing = []string{"missing", "notBreaching", "breaching", "ignore"}

// Statistics an alarm may use.
var Statistics = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

var (
	// ErrInvalid marks a definition that breaks a rule.
	ErrInvalid = errors.New("invalid alarm")
	// ErrNotFound: no alarm of that name.
	ErrNotFound = errors.New("alarm not found")
)

// Definition is a metric alarm (AWS's PutMetricAlarm fields).
type Definition struct {
	Name               string            `json:"alarmName"`
	Description        string            `json:"alarmDescription,omitempty"`
	Namespace          string            `json:"namespace"`
	MetricName         string            `json:"metricName"`
	Dimensions         map[string]string `json:"dimensions,omitempty"`
	Statistic          string            `json:"statistic"`
	Period             int64             `json:"period"`
	EvaluationPeriods  int               `json:"evaluationPeriods"`
	DatapointsToAlarm  int               `json:"datapointsToAlarm,omitempty"`
	Threshold          float64           `json:"threshold"`
	ComparisonOperator string            `json:"comparisonOperator"`
	TreatMissingData   string            `json:"treatMissingData,omitempty"`
	// ActionsDisabled turns notifications off (AWS's ActionsEnabled=false).
	ActionsDisabled bool `json:"actionsDisabled,omitempty"`
	// Actions are notification targets: an http(s) URL (a JSON webhook),
	// slack+https://… (a Slack incoming webhook), alertmanager+http://host:9093
	// (Alertmanager's v2 API) or mailto:ops@example.com[,…] (e-mail through
	// the server's SMTP configuration).
	AlarmActions            []string `json:"alarmActions,omitempty"`
	OKActions               []string `json:"okActions,omitempty"`
	InsufficientDataActions []string `json:"insufficientDataActions,omitempty"`
}

// M returns DatapointsToAlarm, defaulting to EvaluationPeriods.
func (d *Definition) M() int {
	if d.DatapointsToAlarm > 0 {
		return d.DatapointsToAlarm
	}
	return d.EvaluationPeriods
}

// Treat returns TreatMissingData with its default.
func (d *Definition) Treat() string {
	if d.TreatMissingData == "" {
		return "missing"
	}
	return d.TreatMissingData
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks the definition.
func (d *Definition) Validate() error {
	switch {
	case d.Name == "" || len(d.Name) > 255:
		return invalid("an alarm name has 1 to 255 characters")
	case d.Namespace == "" || d.MetricName == "":
		return invalid("name the metric: namespace and metric name")
	case !slices.Contains(Statistics, d.Statistic):
		return invalid("unknown statistic %q (%s)", d.Statistic, strings.Join(Statistics, ", "))
	case d.Period < 60 || d.Period%60 != 0:
		return invalid("the period is 60 seconds or a multiple of 60 (metric filter metrics have 1-minute resolution), not %d", d.Period)
	case d.EvaluationPeriods < 1:
		return invalid("evaluation periods must be at least 1")
	case int64(d.EvaluationPeriods)*d.Period > 86400:
		return invalid("evaluation periods × period is at most one day (%d × %ds)", d.EvaluationPeriods, d.Period)
	case d.DatapointsToAlarm < 0 || d.DatapointsToAlarm > d.EvaluationPeriods:
		return invalid("datapoints to alarm is between 1 and the evaluation periods (%d)", d.EvaluationPeriods)
	case !slices.Contains(Comparisons, d.ComparisonOperator):
		return invalid("unknown comparison operator %q (%s)", d.ComparisonOperator, strings.Join(Comparisons, ", "))
	case d.TreatMissingData != "" && !slices.Contains(TreatMissing, d.TreatMissingData):
		return invalid("unknown treat-missing-data %q (%s)", d.TreatMissingData, strings.Join(TreatMissing, ", "))
	}
	for _, a := range slices.Concat(d.AlarmActions, d.OKActions, d.InsufficientDataActions) {
		if _, _, err := parseTarget(a); err != nil {
			return invalid("action %q: %v", a, err)
		}
	}
	return nil
}

// breaches applies the comparison.
func (d *Definition) breaches(v float64) bool {
	switch d.ComparisonOperator {
	case "GreaterThanOrEqualToThreshold":
		return v >= d.Threshold
	case "GreaterThanThreshold":
		return v > d.Threshold
	case "LessThanThreshold":
		return v < d.Threshold
	case "LessThanOrEqualToThreshold":
		return v <= d.Threshold
	}
	return false
}

// State is an alarm's current state.
type State struct {
	Value   string    `json:"stateValue"`
	Reason  string    `json:"stateReason"`
	Data    string    `json:"stateReasonData,omitempty"`
	Updated time.Time `json:"stateUpdatedTimestamp"`
	// Evaluated is the end of the newest period last evaluated.
	Evaluated time.Time `json:"lastEvaluated,omitzero"`
}

// Item is a stored alarm: its definition and state.
type Item struct {
	Definition
	State State `json:"state"`
}

// HistoryItem is one state change.
type HistoryItem struct {
	Alarm     string    `json:"alarmName"`
	Timestamp time.Time `json:"timestamp"`
	Old       string    `json:"oldState"`
	New       string    `json:"newState"`
	Reason    string    `json:"reason"`
	Data      string    `json:"data,omitempty"`
	// Kind is "StateUpdate" or "Action" (a notification's outcome).
	Kind string `json:"historyItemType"`
}
