package userdocs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/internal/cli"
)

// run runs the flowlens command line in-process.
func run(t testing.TB, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(&errb, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	code := cli.Main(t.Context(), args, env)
	return code, out.String(), errb.String()
}

// must runs flowlens and fails the test on a non-zero exit.
func must(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	code, out, errs := run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("flowlens %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, clip(out), clip(errs))
	}
	return out
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// table is a result: its column names and rows of text ("" for absent).
type table struct {
	cols []string
	rows [][]string
}

func parseCSV(t testing.TB, out string) table {
	t.Helper()
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, clip(out))
	}
	if len(all) == 0 {
		return table{}
	}
	return table{cols: all[0], rows: all[1:]}
}

// rec is one generated record: its fields as the line writes them, by
// underscore name, and the time it was delivered (epoch seconds).
type rec struct {
	f    map[string]string
	line string
	at   int64
}

// formatNames are the underscore names of a ${field} format.
func formatNames(format string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\$\{([a-z0-9-]+)\}`).FindAllStringSubmatch(format, -1) {
		out = append(out, strings.ReplaceAll(m[1], "-", "_"))
	}
	return out
}

func newRec(t testing.TB, names []string, line string, at int64) rec {
	t.Helper()
	toks := strings.Split(line, " ")
	if len(toks) != len(names) {
		t.Fatalf("generated line of %d fields for a format of %d: %q", len(toks), len(names), line)
	}
	r := rec{f: map[string]string{}, line: line, at: at}
	for i, n := range names {
		r.f[n] = toks[i]
	}
	return r
}

// readCloudWatch reads the events of a --layout cloudwatch output.
func readCloudWatch(t testing.TB, dir string, names []string) []rec {
	t.Helper()
	var out []rec
	walk(t, dir, ".json", func(b []byte) {
		var doc struct {
			Events []struct {
				Timestamp int64  `json:"timestamp"`
				Message   string `json:"message"`
			} `json:"events"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, e := range doc.Events {
			out = append(out, newRec(t, names, e.Message, e.Timestamp/1000))
		}
	})
	return out
}

// readS3 reads the .log.gz files of a --layout s3 output (header line first).
func readS3(t testing.TB, dir string) []rec {
	t.Helper()
	var out []rec
	walk(t, dir, ".log.gz", func(b []byte) {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		var names []string
		for sc.Scan() {
			if names == nil {
				for _, n := range strings.Fields(sc.Text()) {
					names = append(names, strings.ReplaceAll(n, "-", "_"))
				}
				continue
			}
			r := newRec(t, names, sc.Text(), 0)
			r.at, _ = strconv.ParseInt(r.f["start"], 10, 64)
			out = append(out, r)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	})
	return out
}

func walk(t testing.TB, dir, suffix string, f func([]byte)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, suffix) || strings.HasSuffix(p, "inventory.json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// val is a field as stored: "" for "-" (absent).
func (r rec) val(name string) string {
	if v := r.f[name]; v != "-" {
		return v
	}
	return ""
}

func (r rec) num(name string) (int64, bool) {
	v, err := strconv.ParseInt(r.f[name], 10, 64)
	return v, err == nil
}

func where(rs []rec, keep func(rec) bool) []rec {
	var out []rec
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// groupBy returns one row per distinct key: the key's values then the
// aggregates.
func groupBy(rs []rec, key func(rec) []string, aggs ...func([]rec) string) [][]string {
	idx := map[string]int{}
	var keys [][]string
	var groups [][]rec
	for _, r := range rs {
		k := key(r)
		ks := strings.Join(k, "\x00")
		i, ok := idx[ks]
		if !ok {
			i = len(keys)
			idx[ks] = i
			keys = append(keys, k)
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	out := make([][]string, len(keys))
	for i, k := range keys {
		row := append([]string(nil), k...)
		for _, a := range aggs {
			row = append(row, a(groups[i]))
		}
		out[i] = row
	}
	return out
}

func fields(names ...string) func(rec) []string {
	return func(r rec) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = r.f[n]
		}
		return out
	}
}

// stored is fields with "-" as absent (what a stored column holds).
func stored(names ...string) func(rec) []string {
	return func(r rec) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = r.val(n)
		}
		return out
	}
}

// sumOf sums the numeric values of a field; "" when there are none.
func sumOf(name string) func([]rec) string {
	return func(rs []rec) string {
		var s int64
		n := 0
		for _, r := range rs {
			if v, ok := r.num(name); ok {
				s += v
				n++
			}
		}
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(s, 10)
	}
}

func count(rs []rec) string { return strconv.Itoa(len(rs)) }

// countOf counts the records where the field is present.
func countOf(name string) func([]rec) string {
	return func(rs []rec) string {
		n := 0
		for _, r := range rs {
			if r.val(name) != "" {
				n++
			}
		}
		return strconv.Itoa(n)
	}
}

// sortRows orders rows by column by (descending when desc) with absent
// values last in both directions, then by the tie columns ascending, all
// in the natural order of the spec (§5.5).
func sortRows(rows [][]string, by int, desc bool, ties ...int) {
	slices.SortStableFunc(rows, func(a, b []string) int {
		c := natural(a[by], b[by])
		if desc && a[by] != "" && b[by] != "" {
			c = -c
		}
		if c != 0 {
			return c
		}
		for _, i := range ties {
			if c := natural(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
}

func head(rows [][]string, n int) [][]string {
	if len(rows) > n {
		return rows[:n]
	}
	return rows
}

// natural compares in the spec's natural order: absent last, non-numbers
// before numbers, numbers by value, text by chunks of digits (by length,
// then value) and non-digits (by code point).
func natural(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	switch {
	case ea == nil && eb == nil:
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	case ea == nil:
		return 1
	case eb == nil:
		return -1
	}
	ca, cb := chunks(a), chunks(b)
	for i := 0; i < len(ca) && i < len(cb); i++ {
		x, y := ca[i], cb[i]
		if x == y {
			continue
		}
		if digit(x) && digit(y) {
			if len(x) != len(y) {
				return len(x) - len(y)
			}
		}
		return strings.Compare(x, y)
	}
	return len(ca) - len(cb)
}

func digit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func chunks(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && digit(s[j:j+1]) == digit(s[i:i+1]) {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}

// equalRows fails the test when got differs from want.
func equalRows(t testing.TB, what string, got table, cols []string, want [][]string) {
	t.Helper()
	if !slices.Equal(got.cols, cols) {
		t.Errorf("%s: columns %q, want %q", what, got.cols, cols)
	}
	if len(got.rows) != len(want) {
		t.Errorf("%s: %d rows, want %d\ngot:  %q\nwant: %q", what, len(got.rows), len(want), head(got.rows, 5), head(want, 5))
		return
	}
	for i := range want {
		if !slices.Equal(got.rows[i], want[i]) {
			t.Errorf("%s: row %d is %q, want %q", what, i, got.rows[i], want[i])
			return
		}
	}
}

// ms renders epoch seconds as Logs Insights prints a timestamp.
func ms(sec int64) string { return time.Unix(sec, 0).UTC().Format("2006-01-02 15:04:05.000") }
