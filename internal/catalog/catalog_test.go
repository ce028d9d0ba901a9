package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestSavedQueriesAndDashboardsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.PutSavedQuery(ctx, SavedQuery{Name: " rejects ", Query: "filter action = 'REJECT'", Range: Range{Since: "1h"}})
	if err != nil {
		t.Fatal(err)
	}
	if q.ID == "" || q.Name != "rejects" || q.Language != "insights" || q.Chart != "auto" {
		t.Fatalf("stored %+v", q)
	}
	d, err := c.PutDashboard(ctx, Dashboard{Name: "ops", Panels: []Panel{{SavedQueryID: q.ID, W: 6, H: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteSavedQuery(ctx, q.ID); !errors.Is(err, ErrInvalid) {
		t.Fatalf("deleting a query a dashboard shows: %v", err)
	}
	c2, err := Open(ctx, dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c2.Dashboard(d.ID)
	if err != nil || got.Panels[0].SavedQueryID != q.ID {
		t.Fatalf("reopened: %+v %v", got, err)
	}
	if _, err := c2.SavedQuery("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := c2.DeleteDashboard(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := c2.DeleteSavedQuery(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	if len(c2.SavedQueries()) != 0 || len(c2.Dashboards()) != 0 {
		t.Fatal("not deleted")
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, t.TempDir(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []SavedQuery{
		{Query: "x"},
		{Name: "a"},
		{Name: "a", Query: "x", Language: "promql"},
		{Name: "a", Query: "x", Chart: "pie"},
		{Name: "a", Query: "x", Range: Range{Since: "1h", Start: "2024-05-31T00:00:00Z"}},
		{Name: "a", Query: "x", Range: Range{Start: "yesterday"}},
	} {
		if _, err := c.PutSavedQuery(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", q, err)
		}
	}
	if _, err := c.PutSavedQuery(ctx, SavedQuery{ID: "sq-missing", Name: "a", Query: "x"}); !errors.Is(err, ErrNotFound) {
		t.Error(err)
	}
	if _, err := c.PutDashboard(ctx, Dashboard{Name: "d", Panels: []Panel{{SavedQueryID: "sq-x", W: 1, H: 1}}}); !errors.Is(err, ErrInvalid) {
		t.Error(err)
	}
}

func TestHistoryBoundedAndTornLine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := c.AddHistory(ctx, HistoryEntry{ID: fmt.Sprint(i), Query: "q", Status: "Complete"}); err != nil {
			t.Fatal(err)
		}
	}
	h := c.History(0)
	if len(h) != 3 || h[0].ID != "9" || h[2].ID != "7" {
		t.Fatalf("history %+v", h)
	}
	path := filepath.Join(dir, "catalog", "history.jsonl")
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"torn","que`)
	f.Close()
	c2, err := Open(ctx, dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	if h := c2.History(2); len(h) != 2 || h[0].ID != "9" {
		t.Fatalf("after torn line %+v", h)
	}
	if err := c2.AddHistory(ctx, HistoryEntry{ID: "10"}); err != nil {
		t.Fatal(err)
	}
	c3, _ := Open(ctx, dir, 3)
	if h := c3.History(0); len(h) != 3 || h[0].ID != "10" || h[1].ID != "9" {
		t.Fatalf("after add past a torn line %+v", h)
	}
}
