package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowlens/flowlens/internal/store"
)

// outputFormats are the values --output accepts.
var outputFormats = []string{"table", "csv", "json", "jsonl"}

// checkOutputFormat returns a usage error for an unknown --output value.
func checkOutputFormat(f string) error {
	for _, o := range outputFormats {
		if f == o {
			return nil
		}
	}
	return usageError("unknown --output %q (use %s)", f, strings.Join(outputFormats, ", "))
}

// writeResult renders a query result as an aligned text table, CSV (with a
// header row), a JSON array of objects or JSON lines (one object per row).
// Object keys follow the column order; NULL is empty in table and CSV
// output and null in JSON; timestamps print as Athena does
// (2024-05-31 14:05:00.000).
func writeResult(w io.Writer, format string, res *store.Result) error {
	datesAsText(res)
	switch format {
	case "", "table":
		return writeTable(w, res)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(res.Columns); err != nil {
			return err
		}
		rec := make([]string, len(res.Columns))
		for _, row := range res.Rows {
			for i, v := range row {
				rec[i] = textValue(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "json", "jsonl":
		var b []byte
		if format == "json" {
			b = append(b, '[')
		}
		for r, row := range res.Rows {
			if format == "json" {
				if r > 0 {
					b = append(b, ',')
				}
				b = append(b, "\n  "...)
			}
			b = append(b, '{')
			for i, v := range row {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSON(b, res.Columns[i])
				b = append(b, ':')
				b = appendJSON(b, jsonValue(v))
			}
			b = append(b, '}')
			if format == "jsonl" {
				b = append(b, '\n')
			}
			if len(b) > 64<<10 {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		if format == "json" {
			if len(res.Rows) > 0 {
				b = append(b, '\n')
			}
			b = append(b, "]\n"...)
		}
		_, err := w.Write(b)
		return err
	}
	return fmt.Errorf("unknown output format %q", format)
}

func appendJSON(b []byte, v any) []byte {
	enc, err := json.Marshal(v)
	if err != nil {
		enc, _ = json.Marshal(fmt.Sprint(v))
	}
	return append(b, enc...)
}

// datesAsText renders the values of DATE columns as 'YYYY-MM-DD' (the
// driver hands them over as midnight timestamps).
func datesAsText(res *store.Result) {
	for i, t := range res.Types {
		if !strings.EqualFold(t, "DATE") {
			continue
		}
		for _, row := range res.Rows {
			if i < len(row) {
				if d, ok := row[i].(time.Time); ok {
					row[i] = d.UTC().Format("2006-01-02")
				}
			}
		}
	}
}

// jsonValue maps a result value onto what JSON can carry: non-finite
// floats and times become strings.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case time.Time:
		return textValue(x)
	case []byte:
		return string(x)
	}
	return v
}

// textValue renders one value for table and CSV output.
func textValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.000")
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// writeTable writes an aligned table; numbers are right-aligned.
func writeTable(w io.Writer, res *store.Result) error {
	n := len(res.Columns)
	width := make([]int, n)
	numeric := make([]bool, n)
	for i, c := range res.Columns {
		width[i] = utf8.RuneCountInString(c)
		numeric[i] = len(res.Rows) > 0
	}
	cells := make([][]string, len(res.Rows))
	for r, row := range res.Rows {
		cells[r] = make([]string, n)
		for i, v := range row {
			s := textValue(v)
			cells[r][i] = s
			width[i] = max(width[i], utf8.RuneCountInString(s))
			switch v.(type) {
			case int64, float64, nil:
			default:
				numeric[i] = false
			}
		}
	}
	var b strings.Builder
	var l strings.Builder
	line := func(vals []string) {
		l.Reset()
		for i, s := range vals {
			if i > 0 {
				l.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			if numeric[i] {
				l.WriteString(pad + s)
			} else {
				l.WriteString(s + pad)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteString("\n")
	}
	line(res.Columns)
	sep := make([]string, n)
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, row := range cells {
		line(row)
		if b.Len() > 64<<10 {
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	fmt.Fprintf(&b, "(%d row%s)\n", len(res.Rows), plural(len(res.Rows)))
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
