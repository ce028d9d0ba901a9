package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/flowlog"
)

// maxEventLine bounds one event line read by filters test (CloudWatch Logs
// events are at most 256 KiB).
const maxEventLine = 1 << 20

// eventSource calls fn with every event message of one input, in order,
// and the format the input declares (its S3 header line or Parquet schema;
// nil when it has none). Containers: plain or gzipped text (the S3 header
// line is not an event, blank lines are skipped), CloudWatch Logs JSON
// (get-log-events, filter-log-events, subscription payloads, Firehose
// {"message": …} documents) and Parquet (each row rendered as the line AWS
// would have written).
func readEvents(ctx context.Context, name string, r io.Reader, fn func(msg string, f *flowlog.Format) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		return readEvents(ctx, name, zr, fn)
	case bytes.Equal(head, []byte("PAR1")):
		return readParquetEvents(ctx, name, br, fn)
	}
	if isJSONStart(br) {
		return readJSONEvents(ctx, name, br, fn)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	var format *flowlog.Format
	first := true
	n := 0
	for sc.Scan() {
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if first {
			first = false
			if f, err := flowlog.ParseHeader(string(line)); err == nil {
				format = f
				continue
			}
		}
		if err := fn(string(line), format); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: line %d: %w", name, n+1, err)
	}
	return nil
}

func isJSONStart(br *bufio.Reader) bool {
	for i := 1; i <= 512; i++ {
		b, err := br.Peek(i)
		if err != nil || len(b) < i {
			return false
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// readJSONEvents reads one or more JSON documents and passes on every
// event message they hold.
func readJSONEvents(ctx context.Context, name string, r io.Reader, fn func(string, *flowlog.Format) error) error {
	dec := json.NewDecoder(r)
	for {
		var doc any
		if err := dec.Decode(&doc); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: not CloudWatch Logs JSON: %w", name, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := jsonMessages(doc, fn); err != nil {
			return err
		}
	}
}

func jsonMessages(doc any, fn func(string, *flowlog.Format) error) error {
	switch d := doc.(type) {
	case []any:
		for _, e := range d {
			if err := jsonMessages(e, fn); err != nil {
				return err
			}
		}
	case map[string]any:
		if m, ok := d["message"].(string); ok {
			return fn(m, nil)
		}
		for _, key := range []string{"events", "logEvents"} {
			if evs, ok := d[key].([]any); ok {
				return jsonMessages(evs, fn)
			}
		}
	}
	return nil
}

// readParquetEvents renders the rows of a Parquet file as flow log lines.
func readParquetEvents(ctx context.Context, name string, r io.Reader, fn func(string, *flowlog.Format) error) error {
	var line []byte
	_, err := decode.Read(ctx, r, decode.Options{Name: name, OnReject: func(*decode.LineError) {}}, func(b *flowlog.Batch) error {
		for i := 0; i < b.N; i++ {
			line = b.AppendLine(line[:0], i)
			if err := fn(string(line), b.Format); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// openEventInput opens a FILE argument ("-" is stdin).
func openEventInput(env *Env, arg string) (io.ReadCloser, string, error) {
	if arg == "-" {
		return io.NopCloser(env.Stdin), "<stdin>", nil
	}
	f, err := os.Open(env.abs(arg))
	if err != nil {
		return nil, arg, err
	}
	return f, arg, nil
}
