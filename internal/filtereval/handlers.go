package filtereval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/filterpattern"
	"github.com/flowlens/flowlens/internal/metricfilter"
)

// Handlers returns the REST endpoints (mounted behind the API's token
// check; see docs/API.md):
//
//	GET    /api/v1/metric-filters[?dataset=D&prefix=P]
//	POST   /api/v1/metric-filters                 create (409 if it exists)
//	PUT    /api/v1/metric-filters/{dataset}/{name} create or replace
//	GET    /api/v1/metric-filters/{dataset}/{name}
//	DELETE /api/v1/metric-filters/{dataset}/{name}
//	POST   /api/v1/metric-filters/test            TestMetricFilter
//	POST   /api/v1/metric-filters/{dataset}/{name}/backfill {"start","end"}
//	GET    /api/v1/metrics                        the series
//	GET    /api/v1/metrics/datapoints?namespace=&metric=&period=&start=&end=&statistic=&dim.NAME=V
func (e *Evaluator) Handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/metric-filters":                            http.HandlerFunc(e.listFilters),
		"POST /api/v1/metric-filters":                           http.HandlerFunc(e.createFilter),
		"PUT /api/v1/metric-filters/{dataset}/{name}":           http.HandlerFunc(e.putFilter),
		"GET /api/v1/metric-filters/{dataset}/{name}":           http.HandlerFunc(e.getFilter),
		"DELETE /api/v1/metric-filters/{dataset}/{name}":        http.HandlerFunc(e.deleteFilter),
		"POST /api/v1/metric-filters/test":                      http.HandlerFunc(e.testFilter),
		"POST /api/v1/metric-filters/{dataset}/{name}/backfill": http.HandlerFunc(e.backfill),
		"GET /api/v1/metrics":                                   http.HandlerFunc(e.listMetrics),
		"GET /api/v1/metrics/datapoints":                        http.HandlerFunc(e.datapoints),
	}
}

type apiError struct {
	Type     string       `json:"type"`
	Message  string       `json:"message"`
	Position *apiPosition `json:"position,omitempty"`
}

type apiPosition struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Offset int `json:"offset"`
	End    int `json:"end"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "data": data})
}

// writeError maps errors to the API's envelope and status codes.
func writeError(w http.ResponseWriter, err error) {
	e := apiError{Type: "internal", Message: err.Error()}
	status := http.StatusInternalServerError
	var pe *filterpattern.Error
	switch {
	case errors.As(err, &pe):
		e.Type, status = "bad_query", http.StatusBadRequest
		e.Position = &apiPosition{Line: 1, Column: pe.Column(), Offset: pe.Offset, End: pe.Offset}
	case errors.Is(err, metricfilter.ErrInvalid), errors.Is(err, errBadRequest), errors.Is(err, ErrBackfillRange):
		e.Type, status = "bad_request", http.StatusBadRequest
	case errors.Is(err, metricfilter.ErrNotFound):
		e.Type, status = "not_found", http.StatusNotFound
	case errors.Is(err, metricfilter.ErrExists):
		e.Type, status = "conflict", http.StatusConflict
	case errors.Is(err, metricfilter.ErrLimit):
		e.Type, status = "limit_exceeded", http.StatusBadRequest
	}
	writeJSON(w, status, map[string]any{"status": "error", "error": e})
}

var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("request body: %v", err)
	}
	return nil
}

func (e *Evaluator) listFilters(w http.ResponseWriter, r *http.Request) {
	fs, err := e.deps.Filters.List(r.Context(), r.URL.Query().Get("dataset"), r.URL.Query().Get("prefix"))
	if err != nil {
		writeError(w, err)
		return
	}
	if fs == nil {
		fs = []metricfilter.Filter{}
	}
	writeOK(w, map[string]any{"metricFilters": fs})
}

func (e *Evaluator) createFilter(w http.ResponseWriter, r *http.Request) {
	var f metricfilter.Filter
	if err := decodeBody(r, &f); err != nil {
		writeError(w, err)
		return
	}
	f.CreationTime = 0
	f, err := e.deps.Filters.Add(r.Context(), f)
	if err != nil {
		writeError(w, err)
		return
	}
	_ = e.Reload(r.Context())
	writeJSON(w, http.StatusCreated, map[string]any{"status": "ok", "data": f})
}

func (e *Evaluator) putFilter(w http.ResponseWriter, r *http.Request) {
	var f metricfilter.Filter
	if err := decodeBody(r, &f); err != nil {
		writeError(w, err)
		return
	}
	ds, name := r.PathValue("dataset"), r.PathValue("name")
	if f.Dataset != "" && f.Dataset != ds || f.Name != "" && f.Name != name {
		writeError(w, badRequest("the body names filter %q of dataset %q, the path %q of %q", f.Name, f.Dataset, name, ds))
		return
	}
	f.Dataset, f.Name, f.CreationTime = ds, name, 0
	f, err := e.deps.Filters.Put(r.Context(), f)
	if err != nil {
		writeError(w, err)
		return
	}
	_ = e.Reload(r.Context())
	writeOK(w, f)
}

func (e *Evaluator) getFilter(w http.ResponseWriter, r *http.Request) {
	f, err := e.deps.Filters.Get(r.Context(), r.PathValue("dataset"), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, f)
}

func (e *Evaluator) deleteFilter(w http.ResponseWriter, r *http.Request) {
	if err := e.deps.Filters.Delete(r.Context(), r.PathValue("dataset"), r.PathValue("name")); err != nil {
		writeError(w, err)
		return
	}
	_ = e.Reload(r.Context())
	writeOK(w, map[string]any{"deleted": r.PathValue("name")})
}

// testFilter is TestMetricFilter: {"filterPattern", "logEventMessages"}.
func (e *Evaluator) testFilter(w http.ResponseWriter, r *http.Request) {
	var req struct {
		FilterPattern    string   `json:"filterPattern"`
		LogEventMessages []string `json:"logEventMessages"`
	}
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.LogEventMessages) == 0 || len(req.LogEventMessages) > 50 {
		writeError(w, badRequest("logEventMessages holds 1 to 50 messages (%d given)", len(req.LogEventMessages)))
		return
	}
	p, err := filterpattern.Parse(req.FilterPattern)
	if err != nil {
		writeError(w, err)
		return
	}
	type match struct {
		EventNumber     int               `json:"eventNumber"`
		EventMessage    string            `json:"eventMessage"`
		ExtractedValues map[string]string `json:"extractedValues"`
	}
	matches := []match{}
	for i, m := range req.LogEventMessages {
		if vals, ok := p.Extract(m); ok {
			matches = append(matches, match{i + 1, m, vals})
		}
	}
	writeOK(w, map[string]any{"matches": matches, "warnings": p.Warnings()})
}

func (e *Evaluator) listMetrics(w http.ResponseWriter, r *http.Request) {
	ns, metric := r.URL.Query().Get("namespace"), r.URL.Query().Get("metric")
	out := []SeriesInfo{}
	for _, s := range e.Series() {
		if (ns == "" || s.Namespace == ns) && (metric == "" || s.Metric == metric) {
			out = append(out, s)
		}
	}
	writeOK(w, map[string]any{"metrics": out})
}

func parseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e11 {
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, badRequest("time %q: RFC 3339 or Unix seconds", s)
	}
	return t, nil
}

func (e *Evaluator) datapoints(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := e.deps.Now()
	end, err := parseTime(q.Get("end"), now)
	if err != nil {
		writeError(w, err)
		return
	}
	start, err := parseTime(q.Get("start"), end.Add(-3*time.Hour))
	if err != nil {
		writeError(w, err)
		return
	}
	period := int64(60)
	if p := q.Get("period"); p != "" {
		if period, err = strconv.ParseInt(p, 10, 64); err != nil {
			writeError(w, badRequest("period %q is not a number of seconds", p))
			return
		}
	}
	dimMode := q.Get("dimensions")
	if dimMode != "" && dimMode != "any" && dimMode != "each" {
		writeError(w, badRequest("dimensions=%q: any or each (or dim.NAME=VALUE for one dimension set)", dimMode))
		return
	}
	mq := Query{Namespace: q.Get("namespace"), Metric: q.Get("metric"), Start: start, End: end, Period: period, AnyDimensions: dimMode == "any"}
	for k, v := range q {
		if name, ok := strings.CutPrefix(k, "dim."); ok && len(v) > 0 {
			if mq.Dimensions == nil {
				mq.Dimensions = map[string]string{}
			}
			mq.Dimensions[name] = v[0]
		}
	}
	if mq.Namespace == "" || mq.Metric == "" {
		writeError(w, badRequest("namespace and metric are required"))
		return
	}
	stat := q.Get("statistic")
	if stat != "" && !slices.Contains(Statistics, stat) {
		writeError(w, badRequest("unknown statistic %q (%s)", stat, strings.Join(Statistics, ", ")))
		return
	}
	type point struct {
		Timestamp time.Time `json:"timestamp"`
		Value     *float64  `json:"value,omitempty"`
		Stat
	}
	points := func(dps []Datapoint) []point {
		out := make([]point, 0, len(dps))
		for _, d := range dps {
			p := point{Timestamp: d.Timestamp, Stat: d.Stat}
			if stat != "" {
				if v, ok := d.Value(stat); ok {
					p.Value = &v
				}
			}
			out = append(out, p)
		}
		return out
	}
	if err := mq.check(); err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	if err := mq.checkSize(); err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	resp := map[string]any{"namespace": mq.Namespace, "metric": mq.Metric, "period": period,
		"start": start.UTC(), "end": end.UTC(), "statistic": stat}
	if dimMode == "each" {
		each, err := e.EachSeries(mq)
		if err != nil {
			writeError(w, badRequest("%v", err))
			return
		}
		type seriesOut struct {
			Dimensions map[string]string `json:"dimensions"`
			Datapoints []point           `json:"datapoints"`
		}
		out := make([]seriesOut, 0, len(each))
		for _, s := range each {
			out = append(out, seriesOut{s.Dimensions, points(s.Datapoints)})
		}
		resp["series"] = out
		writeOK(w, resp)
		return
	}
	dps, err := e.Datapoints(mq)
	if err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	resp["datapoints"] = points(dps)
	writeOK(w, resp)
}

// backfill is POST /api/v1/metric-filters/{dataset}/{name}/backfill with
// {"start", "end"} (RFC 3339 or Unix seconds): Backfill under the write
// lock.
func (e *Evaluator) backfill(w http.ResponseWriter, r *http.Request) {
	if e.deps.History == nil {
		writeError(w, badRequest("this server has no store to backfill from"))
		return
	}
	var req struct {
		Start json.RawMessage `json:"start"`
		End   json.RawMessage `json:"end"`
	}
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.Start) == 0 || len(req.End) == 0 {
		writeError(w, badRequest("start and end are required"))
		return
	}
	start, err := parseTime(strings.Trim(string(req.Start), `"`), time.Time{})
	if err != nil {
		writeError(w, err)
		return
	}
	end, err := parseTime(strings.Trim(string(req.End), `"`), time.Time{})
	if err != nil {
		writeError(w, err)
		return
	}
	if e.deps.WriteLock != nil {
		e.deps.WriteLock.Lock()
		defer e.deps.WriteLock.Unlock()
	}
	res, err := e.Backfill(r.Context(), e.deps.History, r.PathValue("dataset"), r.PathValue("name"), start, end)
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, res)
}
