package alarm

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Point is one period's datapoint: Missing when the period had no samples.
type Point struct {
	Start   time.Time
	Value   float64
	Missing bool
}

// Decide applies §7.3 to the datapoints of the evaluation range (oldest
// first; the newest N are the evaluation window) and returns the new state
// and a reason; keep is true when the state is to stay as it is.
func Decide(d *Definition, points []Point) (state, reason string, keep bool) {
	n, m := d.EvaluationPeriods, d.M()
	treat := d.Treat()
	cmp := comparisonText(d)
	switch treat {
	case "breaching", "notBreaching":
		window := points[max(0, len(points)-n):]
		breach := 0
		for _, p := range window {
			if p.Missing && treat == "breaching" || !p.Missing && d.breaches(p.Value) {
				breach++
			}
		}
		if breach >= m {
			return Alarm, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints %s were %s the threshold (%s) (missing data treated as %s).", breach, n, list(window), cmp, num(d.Threshold), treat), false
		}
		return OK, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints %s were %s the threshold (%s), fewer than %d (missing data treated as %s).", breach, n, list(window), cmp, num(d.Threshold), m, treat), false
	}
	// missing / ignore: the newest N existing datapoints of the range.
	var exist []Point
	for i := len(points) - 1; i >= 0 && len(exist) < n; i-- {
		if !points[i].Missing {
			exist = append([]Point{points[i]}, exist...)
		}
	}
	if len(exist) == 0 {
		if treat == "ignore" {
			return "", "", true
		}
		return InsufficientData, fmt.Sprintf("Insufficient Data: %d datapoints were unknown.", len(points)), false
	}
	breach := 0
	for _, p := range exist {
		if d.breaches(p.Value) {
			breach++
		}
	}
	if len(exist) >= m {
		if breach >= m {
			return Alarm, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints %s were %s the threshold (%s).", breach, len(exist), list(exist), cmp, num(d.Threshold)), false
		}
		return OK, fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints %s were %s the threshold (%s), fewer than %d.", breach, len(exist), list(exist), cmp, num(d.Threshold), m), false
	}
	// Fewer than M datapoints exist.
	if breach == len(exist) {
		if treat == "ignore" {
			return "", "", true
		}
		return Alarm, fmt.Sprintf("Threshold Crossed: all %d existing datapoints %s were %s the threshold (%s); the other periods had no data.", len(exist), list(exist), cmp, num(d.Threshold)), false
	}
	return OK, fmt.Sprintf("Threshold Crossed: %d of the %d existing datapoints %s were %s the threshold (%s); the other periods had no data.", breach, len(exist), list(exist), cmp, num(d.Threshold)), false
}

func comparisonText(d *Definition) string {
	switch d.ComparisonOperator {
	case "GreaterThanOrEqualToThreshold":
		return "greater than or equal to"
	case "GreaterThanThreshold":
		return "greater than"
	case "LessThanThreshold":
		return "less than"
	}
	return "less than or equal to"
}

func num(v float64) string { return fmt.Sprintf("%g", v) }

func list(ps []Point) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		if p.Missing {
			parts[i] = "-"
		} else {
			parts[i] = fmt.Sprintf("%g (%s)", p.Value, p.Start.UTC().Format("02/01/06 15:04:05"))
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// reasonData is the JSON of StateReasonData.
func reasonData(d *Definition, points []Point, evaluated time.Time) string {
	type dp struct {
		Timestamp time.Time `json:"timestamp"`
		Value     *float64  `json:"value"`
	}
	var dps []dp
	for _, p := range points {
		var v *float64
		if !p.Missing {
			x := p.Value
			v = &x
		}
		dps = append(dps, dp{p.Start.UTC(), v})
	}
	b, _ := json.Marshal(map[string]any{
		"version": "1.0", "queryDate": evaluated.UTC(), "statistic": d.Statistic, "period": d.Period,
		"threshold": d.Threshold, "evaluatedDatapoints": dps,
	})
	return string(b)
}
