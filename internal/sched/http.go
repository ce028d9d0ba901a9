package sched

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Handlers returns the API's job endpoints, keyed by ServeMux pattern:
//
//	GET  /api/v1/jobs                  every job: schedule, last and next run
//	GET  /api/v1/jobs/history          the history, newest first (?job=NAME&limit=N)
//	POST /api/v1/jobs/{name}/run       run a job now (409 while it runs)
//
// They answer with the API's envelope ({"status":"ok","data":…}).
func (s *Scheduler) Handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/jobs": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			jobs, err := s.Jobs(r.Context())
			if err != nil {
				writeErr(w, http.StatusInternalServerError, "internal", err)
				return
			}
			writeData(w, http.StatusOK, map[string]any{"jobs": jobs})
		}),
		"GET /api/v1/jobs/history": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := 100
			if l := r.URL.Query().Get("limit"); l != "" {
				n, err := strconv.Atoi(l)
				if err != nil || n < 0 {
					writeErr(w, http.StatusBadRequest, "bad_request", errors.New("limit must be a number of entries (0: all)"))
					return
				}
				limit = n
			}
			writeData(w, http.StatusOK, map[string]any{"runs": s.History(r.URL.Query().Get("job"), limit)})
		}),
		"POST /api/v1/jobs/{name}/run": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			run, err := s.RunNow(r.Context(), r.PathValue("name"), s.cfg.Now())
			switch {
			case errors.Is(err, ErrUnknownJob):
				writeErr(w, http.StatusNotFound, "not_found", err)
			case errors.Is(err, ErrRunning):
				writeErr(w, http.StatusConflict, "conflict", err)
			default:
				// A failed run is still a run: its entry says why.
				writeData(w, http.StatusOK, map[string]any{"run": run})
			}
		}),
	}
}

func writeData(w http.ResponseWriter, status int, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"status": "ok", "data": data})
}

func writeErr(w http.ResponseWriter, status int, typ string, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "error": map[string]string{"type": typ, "message": err.Error()}})
}
