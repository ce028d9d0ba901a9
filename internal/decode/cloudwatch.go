package decode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/decode/record"
)

// cwEvent is one CloudWatch Logs event as the AWS CLI prints it
// (get-log-events, filter-log-events) or as a subscription payload carries
// it: the message, and the timestamp that places the records of a format
// without start (any JSON; only a whole number of milliseconds is used).
type cwEvent struct {
	Message   *string         `json:"message"`
	Timestamp json.RawMessage `json:"timestamp"`
}

// millis returns the event's timestamp, 0 when it is not a whole number.
func (ev *cwEvent) millis() int64 {
	v, err := strconv.ParseInt(string(ev.Timestamp), 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// Subscription payload message types.
const (
	dataMessage    = "DATA_MESSAGE"
	controlMessage = "CONTROL_MESSAGE"
)

// readJSON decodes a stream of JSON values, each of which is
//   - a get-log-events or filter-log-events response ({"events": […]}),
//   - a subscription payload ({"messageType", "logEvents": […]}),
//   - a Lambda subscription wrapper ({"awslogs": {"data": base64 gzip}}),
//   - one event ({"message": …}, also what Firehose delivers per record),
//   - or an array of events;
//
// one document or JSON lines. Events are streamed: a large response is never
// held in memory whole. Line numbers in errors are the 1-based positions of
// the events.
func readJSON(ctx context.Context, r io.Reader, s *sink) error {
	return (&lineState{s: s}).jsonStream(ctx, json.NewDecoder(&squeezeReader{r: r}))
}

// squeezeReader shortens every run of whitespace outside JSON strings to
// one byte. encoding/json's Decoder rescans a whitespace run from its start
// each time it refills its buffer (quadratic: 60 MB of blanks, 64 KB
// gzipped, took seconds); squeezed, no run is longer than one byte.
type squeezeReader struct {
	r                 io.Reader
	inString, escaped bool
	afterSpace        bool
}

func (z *squeezeReader) Read(p []byte) (int, error) {
	for {
		n, err := z.r.Read(p)
		w := 0
		for _, c := range p[:n] {
			if z.inString {
				switch {
				case z.escaped:
					z.escaped = false
				case c == '\\':
					z.escaped = true
				case c == '"':
					z.inString = false
				}
				p[w] = c
				w++
				continue
			}
			switch c {
			case ' ', '\t', '\r', '\n':
				if z.afterSpace {
					continue
				}
				z.afterSpace = true
			case '"':
				z.inString, z.afterSpace = true, false
			default:
				z.afterSpace = false
			}
			p[w] = c
			w++
		}
		if w > 0 || err != nil || n == 0 {
			return w, err
		}
	}
}

func (ls *lineState) jsonStream(ctx context.Context, dec *json.Decoder) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return ls.jsonError(err)
		}
		switch tok {
		case json.Delim('['):
			if err := ls.eventArray(ctx, dec); err != nil {
				return err
			}
		case json.Delim('{'):
			if err := ls.object(ctx, dec); err != nil {
				return err
			}
		default:
			ls.rejectJSON(fmt.Sprintf("JSON value %v is not a CloudWatch Logs event", tok))
		}
	}
}

func (ls *lineState) jsonError(err error) error {
	return fmt.Errorf("JSON after event %d: %w", ls.lineNo, err)
}

// rejectJSON rejects a JSON value that holds no event, counting it as a line.
func (ls *lineState) rejectJSON(reason string) {
	ls.lineNo++
	ls.s.stats.Lines++
	ls.s.reject(record.Reject(ls.lineNo, "", record.Problem{Kind: record.KindNotRecord, Reason: reason}, ""))
}

// eventArray streams the events of an array whose '[' has been read, up to
// and including its ']'. With keep set it collects them instead.
func (ls *lineState) eventArray(ctx context.Context, dec *json.Decoder) error {
	_, err := ls.eventArrayKeep(ctx, dec, false)
	return err
}

func (ls *lineState) eventArrayKeep(ctx context.Context, dec *json.Decoder, keep bool) ([]cwEvent, error) {
	var kept []cwEvent
	for n := 0; dec.More(); n++ {
		if n%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var ev cwEvent
		var bad string
		if err := decodeMember(dec, "event", &ev, &bad); err != nil {
			return nil, ls.jsonError(err)
		}
		if bad != "" {
			ev = cwEvent{} // not an object with a string message
		}
		if keep {
			kept = append(kept, ev)
			continue
		}
		if err := ls.event(ev); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, ls.jsonError(err)
	}
	return kept, nil
}

// object reads the members of an object whose '{' has been read, up to and
// including its '}', and decodes the events it holds.
func (ls *lineState) object(ctx context.Context, dec *json.Decoder) error {
	var (
		msgType   string
		message   *string
		awslogs   []byte
		logEvents []cwEvent
		events    bool // an events or logEvents array was seen
		bad       string
	)
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return ls.jsonError(err)
		}
		key, _ := kt.(string)
		switch key {
		case "events", "logEvents":
			t, err := dec.Token()
			if err != nil {
				return ls.jsonError(err)
			}
			if t != json.Delim('[') {
				if err := skipValue(dec, t); err != nil {
					return ls.jsonError(err)
				}
				bad = key + " is not an array"
				continue
			}
			events = true
			switch {
			case key == "events" || msgType == dataMessage:
				err = ls.eventArray(ctx, dec)
			default:
				// A subscription payload's events wait for its
				// messageType when it comes later (control messages
				// hold no records).
				var kept []cwEvent
				kept, err = ls.eventArrayKeep(ctx, dec, true)
				logEvents = append(logEvents, kept...)
			}
			if err != nil {
				return err
			}
		case "messageType":
			if err := decodeMember(dec, key, &msgType, &bad); err != nil {
				return ls.jsonError(err)
			}
			if bad == "" && msgType != dataMessage && msgType != controlMessage {
				bad = fmt.Sprintf("unknown subscription messageType %q", msgType)
			}
		case "message":
			var m string
			if err := decodeMember(dec, key, &m, &bad); err != nil {
				return ls.jsonError(err)
			}
			message = &m
		case "awslogs":
			var w struct {
				Data []byte `json:"data"` // base64
			}
			if err := decodeMember(dec, key, &w, &bad); err != nil {
				return ls.jsonError(err)
			}
			awslogs = w.Data
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return ls.jsonError(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return ls.jsonError(err)
	}
	s := ls.s
	switch {
	case bad != "":
		ls.rejectJSON(bad)
	case msgType == controlMessage:
		s.stats.Container = ContainerSubscription
	case msgType == dataMessage:
		if s.stats.Container == ContainerGzipJSON {
			s.stats.Container = ContainerSubscription
		}
		for _, ev := range logEvents {
			if err := ls.event(ev); err != nil {
				return err
			}
		}
	case events:
	case message != nil:
		return ls.message(*message)
	case awslogs != nil:
		zr, err := newInflater(ctx, bytes.NewReader(awslogs))
		if err != nil {
			return fmt.Errorf("awslogs.data: %w", err)
		}
		defer zr.Close()
		return ls.jsonStream(ctx, json.NewDecoder(&squeezeReader{r: zr}))
	default:
		if ls.lineNo == 0 {
			// The first JSON value of the input is not CloudWatch Logs
			// output at all (an inventory, a config file): the file is
			// not a flow log, rather than one bad line of one.
			return fmt.Errorf("%w: JSON without events, logEvents or message (not CloudWatch Logs output)", ErrNotFlowLog)
		}
		ls.rejectJSON("JSON object has no events, logEvents or message")
	}
	return nil
}

// decodeMember decodes the next value, the member key, into v. A value of
// another type is not an error of the stream (the value is consumed): it
// sets *bad instead.
func decodeMember(dec *json.Decoder, key string, v any, bad *string) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err // syntax or input
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			*bad = fmt.Sprintf("%s has an unexpected JSON %s", key, te.Value)
		} else {
			*bad = fmt.Sprintf("%s: %v", key, err)
		}
	}
	return nil
}

// skipValue consumes the rest of a value whose first token was t.
func skipValue(dec *json.Decoder, t json.Token) error {
	if t != json.Delim('{') && t != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// event decodes one event.
func (ls *lineState) event(ev cwEvent) error {
	if ev.Message == nil {
		ls.rejectJSON("event has no message")
		return nil
	}
	ls.evTime = ev.millis()
	defer func() { ls.evTime = 0 }()
	return ls.message(*ev.Message)
}

// message decodes one event's message: normally one record without a
// newline; several newline-separated records are accepted too.
func (ls *lineState) message(m string) error {
	m = strings.TrimRight(m, "\r\n")
	for {
		i := strings.IndexByte(m, '\n')
		if i < 0 {
			return ls.line([]byte(m))
		}
		if err := ls.line([]byte(m[:i])); err != nil {
			return err
		}
		m = m[i+1:]
	}
}
