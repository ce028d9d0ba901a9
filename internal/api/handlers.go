package api

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/catalog"
	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/plan"
	"github.com/flowlens/flowlens/internal/insights/syntax"
	"github.com/flowlens/flowlens/internal/store"
)

func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	p, err := s.parseQueryRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if p.Language == "sql" {
		if s.deps.SQL == nil {
			writeError(w, errorf(TypeBadRequest, "this server does not run SQL"))
			return
		}
		text, err := s.deps.SQL.ExplainSQL(r.Context(), p.Query)
		if err != nil {
			writeError(w, err)
			return
		}
		writeOK(w, map[string]string{"plan": "", "sql": text})
		return
	}
	c, err := s.deps.Engine.Compile(r.Context(), p.engineRequest())
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, map[string]any{"plan": c.Plan.String(), "sql": c.Statement.SQL, "args": c.Statement.Args, "text": c.Explain()})
}

// ValidationError is one problem the editor underlines.
type ValidationError struct {
	Message string `json:"message"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Offset  int    `json:"offset"`
	End     int    `json:"end"`
}

func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	p, err := s.parseQueryRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if p.Language == "sql" {
		writeOK(w, map[string]any{"valid": true})
		return
	}
	_, err = s.deps.Engine.Compile(r.Context(), p.engineRequest())
	if err == nil {
		writeOK(w, map[string]any{"valid": true})
		return
	}
	e := classify(err)
	if e.Type != TypeBadQuery && e.Type != TypeNotFound {
		writeError(w, err)
		return
	}
	ve := ValidationError{Message: e.Message, Line: 1, Column: 1}
	if e.Position != nil {
		ve = ValidationError{Message: e.Message, Line: e.Position.Line, Column: e.Position.Column, Offset: e.Position.Offset, End: e.Position.End}
	}
	writeOK(w, map[string]any{"valid": false, "errors": []ValidationError{ve}})
}

type languageFunc struct {
	Name      string `json:"name"`
	Signature string `json:"signature"`
	Kind      string `json:"kind"`
}

func (s *Server) language(w http.ResponseWriter, _ *http.Request) {
	fns := []languageFunc{}
	for _, f := range plan.Functions() {
		kind := "function"
		if f.Aggregate {
			kind = "aggregate"
		}
		fns = append(fns, languageFunc{Name: f.Name, Signature: signature(f), Kind: kind})
	}
	writeOK(w, map[string]any{"commands": syntax.Commands(), "functions": fns, "keywords": syntax.Keywords()})
}

func signature(f plan.FunctionInfo) string {
	var args []string
	for i := range max(f.MinArgs, min(f.MaxArgs, 3)) {
		a := "arg" + strconv.Itoa(i+1)
		if i >= f.MinArgs {
			a = "[" + a + "]"
		}
		args = append(args, a)
	}
	if f.MaxArgs < 0 {
		args = append(args, "…")
	}
	return f.Name + "(" + strings.Join(args, ", ") + ")"
}

// DatasetInfo is a dataset as the API lists it.
type DatasetInfo struct {
	Name             string            `json:"name"`
	Records          int64             `json:"records"`
	Bytes            int64             `json:"bytes"`
	MinTime          *time.Time        `json:"minTime"`
	MaxTime          *time.Time        `json:"maxTime"`
	Formats          map[string]string `json:"formats"`
	LastIngest       *time.Time        `json:"lastIngest"`
	Files            int64             `json:"files"`
	RetentionSeconds int64             `json:"retentionSeconds"`
	DeclaredFormat   string            `json:"declaredFormat,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func datasetInfo(d store.Dataset) DatasetInfo {
	fm := map[string]string{}
	for id, f := range d.Formats {
		fm[strconv.Itoa(id)] = f
	}
	return DatasetInfo{Name: d.Name, Records: d.Records, Bytes: d.Bytes, MinTime: timePtr(d.MinTime), MaxTime: timePtr(d.MaxTime),
		Formats: fm, LastIngest: timePtr(d.LastIngest), Files: d.Files, RetentionSeconds: int64(d.Retention / time.Second),
		DeclaredFormat: d.DeclaredFormat}
}

func (s *Server) listDatasets(r *http.Request) ([]store.Dataset, error) {
	if s.deps.Datasets == nil {
		return nil, nil
	}
	ds, err := s.deps.Datasets.Datasets(r.Context())
	sort.Slice(ds, func(i, j int) bool { return ds[i].Name < ds[j].Name })
	return ds, err
}

func (s *Server) datasets(w http.ResponseWriter, r *http.Request) {
	ds, err := s.listDatasets(r)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]DatasetInfo, 0, len(ds))
	for _, d := range ds {
		out = append(out, datasetInfo(d))
	}
	writeOK(w, out)
}

func (s *Server) findDataset(r *http.Request, name string) (store.Dataset, error) {
	ds, err := s.listDatasets(r)
	if err != nil {
		return store.Dataset{}, err
	}
	for _, d := range ds {
		if d.Name == name {
			return d, nil
		}
	}
	return store.Dataset{}, errorf(TypeNotFound, "no dataset %q", name)
}

func (s *Server) dataset(w http.ResponseWriter, r *http.Request) {
	d, err := s.findDataset(r, r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, datasetInfo(d))
}

// FieldInfo is a field a query can name.
type FieldInfo struct {
	Name    string   `json:"name"`
	Column  string   `json:"column"`
	Type    string   `json:"type"`
	Aliases []string `json:"aliases"`
}

func (s *Server) datasetFields(w http.ResponseWriter, r *http.Request) {
	d, err := s.findDataset(r, r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, fieldsOf([]store.Dataset{d}))
}

func (s *Server) fields(w http.ResponseWriter, r *http.Request) {
	ds, err := s.listDatasets(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var names []string
	for _, n := range strings.Split(r.URL.Query().Get("datasets"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	var sel []store.Dataset
	for _, n := range names {
		found := false
		for _, d := range ds {
			if d.Name == n {
				sel, found = append(sel, d), true
			}
		}
		if !found {
			writeError(w, errorf(TypeNotFound, "no dataset %q", n))
			return
		}
	}
	if len(names) == 0 {
		sel = ds
	}
	writeOK(w, fieldsOf(sel))
}

// fieldsOf lists the system fields, then the flow log fields of the
// datasets' formats in catalog order.
func fieldsOf(ds []store.Dataset) []FieldInfo {
	out := []FieldInfo{
		{Name: "@timestamp", Column: "@timestamp", Type: "time", Aliases: []string{}},
		{Name: "@message", Column: "@message", Type: "string", Aliases: []string{}},
		{Name: "@logStream", Column: "@logStream", Type: "string", Aliases: []string{}},
		{Name: "@log", Column: "@log", Type: "string", Aliases: []string{}},
		{Name: "@ingestionTime", Column: "@ingestionTime", Type: "time", Aliases: []string{}},
	}
	present := map[flowlog.FieldID]bool{}
	for _, d := range ds {
		for _, s := range d.Formats {
			f, err := flowlog.ParseFormat(s)
			if err != nil {
				continue
			}
			for i, fld := range f.Fields {
				if !f.Extra[i] {
					present[fld.ID] = true
				}
			}
		}
	}
	for _, f := range flowlog.Fields() {
		if !present[f.ID] {
			continue
		}
		typ := "string"
		switch f.Kind {
		case flowlog.KindInt:
			typ = "number"
		case flowlog.KindTime:
			typ = "time"
		}
		aliases := []string{}
		for _, a := range []string{f.Column, f.Name} {
			if a != f.Insights && !contains(aliases, a) {
				aliases = append(aliases, a)
			}
		}
		out = append(out, FieldInfo{Name: f.Insights, Column: f.Column, Type: typ, Aliases: aliases})
	}
	return out
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	n := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		x, err := strconv.Atoi(v)
		if err != nil || x <= 0 || x > 1000 {
			writeError(w, errorf(TypeBadRequest, "limit is a number from 1 to 1000"))
			return
		}
		n = x
	}
	writeOK(w, s.deps.Catalog.History(n))
}

func (s *Server) savedList(w http.ResponseWriter, _ *http.Request) {
	writeOK(w, s.deps.Catalog.SavedQueries())
}

func (s *Server) savedGet(w http.ResponseWriter, r *http.Request) {
	q, err := s.deps.Catalog.SavedQuery(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, q)
}

func (s *Server) savedCreate(w http.ResponseWriter, r *http.Request) { s.savedWrite(w, r, "") }

func (s *Server) savedPut(w http.ResponseWriter, r *http.Request) {
	s.savedWrite(w, r, r.PathValue("id"))
}

func (s *Server) savedWrite(w http.ResponseWriter, r *http.Request, id string) {
	var q catalog.SavedQuery
	if err := decodeBody(r, &q); err != nil {
		writeError(w, err)
		return
	}
	q.ID = id
	out, err := s.deps.Catalog.PutSavedQuery(r.Context(), q)
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, out)
}

func (s *Server) savedDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Catalog.DeleteSavedQuery(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, map[string]bool{"deleted": true})
}

func (s *Server) dashList(w http.ResponseWriter, _ *http.Request) {
	writeOK(w, s.deps.Catalog.Dashboards())
}

func (s *Server) dashGet(w http.ResponseWriter, r *http.Request) {
	d, err := s.deps.Catalog.Dashboard(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, d)
}

func (s *Server) dashCreate(w http.ResponseWriter, r *http.Request) { s.dashWrite(w, r, "") }

func (s *Server) dashPut(w http.ResponseWriter, r *http.Request) {
	s.dashWrite(w, r, r.PathValue("id"))
}

func (s *Server) dashWrite(w http.ResponseWriter, r *http.Request, id string) {
	var d catalog.Dashboard
	if err := decodeBody(r, &d); err != nil {
		writeError(w, err)
		return
	}
	d.ID = id
	out, err := s.deps.Catalog.PutDashboard(r.Context(), d)
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, out)
}

func (s *Server) dashDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Catalog.DeleteDashboard(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, map[string]bool{"deleted": true})
}
