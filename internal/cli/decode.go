package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/flowlog"
)

const decodeExamples = `  flowlens decode 111122223333_vpcflowlogs_eu-west-1_fl-0f1e2d3c4b5a69788_20240531T1405Z_5d41ab12.log.gz
  aws logs get-log-events --log-group-name vpc --log-stream-name eni-0a1b2c3d4e5f60718-all | flowlens decode
  flowlens decode --format '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action}' records.txt
  flowlens decode flows.parquet 2>rejected.txt | jq -c 'select(.action == "REJECT")'
  flowlens decode --summary AWSLogs/*/vpcflowlogs/*/2024/05/31/*.log.gz >/dev/null

Each record is printed as one JSON object per line, keyed by canonical column
names (log_status, pkt_srcaddr, …) in format order; numbers are JSON numbers,
'-' is null. Rejected lines go to stderr as FILE:LINE: reason; the exit status
is 1 when any line was rejected. A record kept although something in it was
unusual (a version, port or protocol outside its documented range, stored as
written; fields separated by runs of spaces, read as one separator) is printed
and reported to stderr as FILE:LINE: warning: reason. Containers are detected from the content:
text with or without the S3 header line, gzip, Parquet, CloudWatch Logs JSON
(get-log-events, filter-log-events, JSON lines) and subscription payloads.
`

// decodeBatchSize keeps output streaming and memory small.
const decodeBatchSize = 4096

func runDecode(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "decode", "decode [--format F] [FILE...|-]", decodeExamples)
	formatFlag := fs.String("format", "", "format of header-less input: a '${field} ${field} …' string, S3 header field names, 'default' or 'tgw-default' (a file's header line or Parquet schema wins)")
	summary := fs.Bool("summary", false, "after each file, print to stderr what it was: container, formats, records, rejected lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	format, err := parseFormatFlag(*formatFlag)
	if err != nil {
		return usageError("--format: %v", err)
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	out := bufio.NewWriterSize(env.Stdout, 256<<10)
	jw := &jsonWriter{}
	rejected, failed := int64(0), 0
	opts := decode.Options{
		Format:    format,
		BatchSize: decodeBatchSize,
		Unplaced:  true, // print the records as written
		OnReject: func(e *decode.LineError) {
			// Records decoded before the rejected line come first.
			fmt.Fprintln(env.Stderr, e.Error())
		},
		OnWarning: func(e *decode.LineError) {
			fmt.Fprintln(env.Stderr, e.Error())
		},
	}
	emit := func(b *flowlog.Batch) error {
		return jw.write(out, b)
	}
	for _, name := range files {
		var st decode.Stats
		var err error
		if name == "-" {
			opts.Name = "<stdin>"
			st, err = decode.Read(ctx, env.Stdin, opts, emit)
		} else {
			opts.Name = name
			st, err = decode.ReadFile(ctx, name, opts, emit)
		}
		rejected += st.Rejected
		if *summary {
			printDecodeSummary(env, opts.Name, st)
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				out.Flush()
				return err
			}
			failed++
			fmt.Fprintf(env.Stderr, "flowlens decode: %v\n", err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if rejected > 0 || failed > 0 {
		return &ExitError{Code: 1}
	}
	return nil
}

func printDecodeSummary(env *Env, name string, st decode.Stats) {
	fmt.Fprintf(env.Stderr, "%s: %s, %d lines, %d records, %d rejected, %d warnings, %d input bytes\n",
		name, st.Container, st.Lines, st.Records, st.Rejected, st.Warnings, st.InputBytes)
	for _, f := range st.Formats {
		fmt.Fprintf(env.Stderr, "%s: format %s\n", name, f)
	}
}

// parseFormatFlag turns --format into a format (nil when not given).
func parseFormatFlag(s string) (*flowlog.Format, error) {
	switch strings.TrimSpace(s) {
	case "":
		return nil, nil
	case "default":
		return flowlog.DefaultFormat(), nil
	case "tgw-default":
		return flowlog.ParseFormat(flowlog.TGWDefaultFormatString)
	}
	if !strings.Contains(s, "${") {
		// An S3 header line's names are accepted too.
		return flowlog.ParseHeader(s)
	}
	return flowlog.ParseFormat(s)
}

// jsonWriter renders batches as JSON lines.
type jsonWriter struct {
	format *flowlog.Format
	keys   [][]byte // `{"version":` / `,"account_id":` per column
	buf    []byte
}

func (w *jsonWriter) write(out *bufio.Writer, b *flowlog.Batch) error {
	if w.format != b.Format {
		w.format = b.Format
		w.keys = w.keys[:0]
		for i, c := range b.Cols {
			k := []byte(",")
			if i == 0 {
				k = []byte("{")
			}
			k = appendJSONString(k, c.Field.Column)
			w.keys = append(w.keys, append(k, ':'))
		}
	}
	for r := 0; r < b.N; r++ {
		buf := w.buf[:0]
		for i := range b.Cols {
			c := &b.Cols[i]
			buf = append(buf, w.keys[i]...)
			switch {
			case !c.Valid[r]:
				buf = append(buf, "null"...)
			case c.Field.Kind.Numeric():
				buf = strconv.AppendInt(buf, c.Ints[r], 10)
			default:
				buf = appendJSONBytes(buf, c.Data[c.Offsets[r]:c.Offsets[r+1]])
			}
		}
		if len(b.Cols) == 0 {
			buf = append(buf, '{')
		}
		buf = append(buf, "}\n"...)
		w.buf = buf
		if _, err := out.Write(buf); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}

func appendJSONString(dst []byte, s string) []byte { return appendJSONBytes(dst, []byte(s)) }

// appendJSONBytes appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONBytes(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				switch c {
				case '\n':
					dst = append(dst, '\\', 'n')
				case '\r':
					dst = append(dst, '\\', 'r')
				case '\t':
					dst = append(dst, '\\', 't')
				default:
					dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
				}
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
