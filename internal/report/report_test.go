package report

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		window, at string
		loc        *time.Location
		start, end string
		label      string
	}{
		{"1d", "2026-12-06T02:00:00Z", time.UTC, "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-05"},
		{"7d", "2026-12-06T02:00:00Z", time.UTC, "2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z", "2026-11-29"},
		{"6h", "2026-12-06T14:30:00Z", time.UTC, "2026-12-06T08:00:00Z", "2026-12-06T14:00:00Z", "2026-12-06T08"},
		// Paris days: midnight local is 23:00 UTC the evening before.
		{"1d", "2026-12-06T01:00:00Z", paris, "2026-12-04T23:00:00Z", "2026-12-05T23:00:00Z", "2026-12-05"},
		// The day clocks go forward has 23 hours.
		{"1d", "2026-03-30T00:00:00Z", paris, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", "2026-03-29"},
		// Month and year ends.
		{"1d", "2027-01-01T02:00:00Z", time.UTC, "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z", "2026-12-31"},
		{"1d", "2028-03-01T02:00:00Z", time.UTC, "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z", "2028-02-29"},
	}
	for _, c := range cases {
		at, _ := time.Parse(time.RFC3339, c.at)
		s, e, err := Window(c.window, at, c.loc)
		if err != nil {
			t.Fatal(err)
		}
		if s.UTC().Format(time.RFC3339) != c.start || e.UTC().Format(time.RFC3339) != c.end || Label(c.window, s) != c.label {
			t.Errorf("Window(%s, %s, %s) = %s .. %s (%s), want %s .. %s (%s)", c.window, c.at, c.loc, s.UTC(), e.UTC(), Label(c.window, s), c.start, c.end, c.label)
		}
		// --for the label gives the same window.
		fs, fe, err := WindowFrom(c.window, c.label, c.loc)
		if err != nil || !fs.Equal(s) || !fe.Equal(e) {
			t.Errorf("WindowFrom(%s, %s) = %s .. %s, %v", c.window, c.label, fs, fe, err)
		}
	}
	for _, w := range []string{"", "d", "0d", "-1d", "1w", "1.5d", "99999d"} {
		if _, _, err := ParseWindow(w); err == nil {
			t.Errorf("window %q accepted", w)
		}
	}
	if _, _, err := WindowFrom("1d", "2026-13-01", time.UTC); err == nil {
		t.Error("bad --for accepted")
	}
}

func TestDefinitionsFile(t *testing.T) {
	dir := t.TempDir()
	if defs, err := Load(dir); err != nil || len(defs) != 0 {
		t.Fatalf("empty folder: %v %v", defs, err)
	}
	d := Definition{Name: "b", Dataset: "x", Language: SQL, Query: "select 1", Schedule: "@daily", Window: "1d", Format: "csv", Out: "/o"}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	a := d
	a.Name = "a"
	if err := Save(dir, []Definition{d, a}); err != nil {
		t.Fatal(err)
	}
	defs, err := Load(dir)
	if err != nil || len(defs) != 2 || defs[0].Name != "a" {
		t.Fatalf("load: %v %v", defs, err)
	}
	if _, err := Find(defs, "zz"); err == nil {
		t.Error("Find of a missing report")
	}
	for _, bad := range []func(*Definition){
		func(d *Definition) { d.Name = "1x" },
		func(d *Definition) { d.Dataset = "" },
		func(d *Definition) { d.Language = "pql" },
		func(d *Definition) { d.Query = " " },
		func(d *Definition) { d.Format = "xml" },
		func(d *Definition) { d.Out = "" },
	} {
		x := d
		bad(&x)
		if x.Check() == nil {
			t.Errorf("%+v accepted", x)
		}
	}
}
