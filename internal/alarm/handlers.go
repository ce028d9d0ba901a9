package alarm

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// Handlers returns the REST endpoints (behind the API's token check):
//
//	GET    /api/v1/alarms[?prefix=P]
//	PUT    /api/v1/alarms/{name}          create or replace
//	GET    /api/v1/alarms/{name}
//	DELETE /api/v1/alarms/{name}
//	GET    /api/v1/alarms/{name}/history
func (e *Evaluator) Handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/alarms":                http.HandlerFunc(e.list),
		"PUT /api/v1/alarms/{name}":         http.HandlerFunc(e.put),
		"GET /api/v1/alarms/{name}":         http.HandlerFunc(e.get),
		"DELETE /api/v1/alarms/{name}":      http.HandlerFunc(e.delete),
		"GET /api/v1/alarms/{name}/history": http.HandlerFunc(e.history),
	}
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

func writeError(w http.ResponseWriter, err error) {
	typ, status := "internal", http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		typ, status = "bad_request", http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		typ, status = "not_found", http.StatusNotFound
	}
	writeJSON(w, status, map[string]any{"status": "error", "error": map[string]string{"type": typ, "message": err.Error()}})
}

func (e *Evaluator) list(w http.ResponseWriter, r *http.Request) {
	items, err := e.deps.Alarms.List(r.Context(), r.URL.Query().Get("prefix"))
	if err != nil {
		writeError(w, err)
		return
	}
	if items == nil {
		items = []Item{}
	}
	writeOK(w, map[string]any{"metricAlarms": items})
}

func (e *Evaluator) put(w http.ResponseWriter, r *http.Request) {
	var d Definition
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		writeError(w, invalid("request body: %v", err))
		return
	}
	if d.Name != "" && d.Name != r.PathValue("name") {
		writeError(w, invalid("the body names alarm %q, the path %q", d.Name, r.PathValue("name")))
		return
	}
	d.Name = r.PathValue("name")
	it, err := e.deps.Alarms.Put(r.Context(), d)
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, it)
}

func (e *Evaluator) get(w http.ResponseWriter, r *http.Request) {
	it, err := e.deps.Alarms.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, it)
}

func (e *Evaluator) delete(w http.ResponseWriter, r *http.Request) {
	if err := e.deps.Alarms.Delete(r.Context(), r.PathValue("name")); err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, map[string]any{"deleted": r.PathValue("name")})
}

func (e *Evaluator) history(w http.ResponseWriter, r *http.Request) {
	if _, err := e.deps.Alarms.Get(r.Context(), r.PathValue("name")); err != nil {
		writeError(w, err)
		return
	}
	h, err := e.deps.Alarms.History(r.Context(), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	if h == nil {
		h = []HistoryItem{}
	}
	writeOK(w, map[string]any{"alarmHistoryItems": h})
}
