package decode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowlens/flowlens/internal/decode/record"
)

// cwEvent is one CloudWatch Logs event as the AWS CLI prints it
// (get-log-events, filter-log-events) or as a subscription payload carries
// it; only the message matters to decoding.
type cwEvent struct {
	Message *string `json:"message"`
}

// cwDoc is any JSON object flowlens accepts: a get-log-events or
// filter-log-events response (events), a subscription payload (messageType,
// logEvents), a Lambda subscription wrapper (awslogs.data), or one event
// ({"message": …}, also what Firehose delivers per record).
type cwDoc struct {
	Events      []cwEvent `json:"events"`
	LogEvents   []cwEvent `json:"logEvents"`
	MessageType string    `json:"messageType"`
	Message     *string   `json:"message"`
	AWSLogs     *struct {
		Data []byte `json:"data"` // base64 of a gzip subscription payload
	} `json:"awslogs"`
}

// Subscription payload message types.
const (
	dataMessage    = "DATA_MESSAGE"
	controlMessage = "CONTROL_MESSAGE"
)

// readJSON decodes a stream of JSON values: objects (one document or JSON
// lines) and arrays of events. Line numbers in errors are the 1-based
// positions of the events.
func readJSON(ctx context.Context, r io.Reader, s *sink) error {
	ls := &lineState{s: s}
	dec := json.NewDecoder(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("JSON after event %d: %w", ls.lineNo, err)
		}
		raw = bytes.TrimLeft(raw, " \t\r\n")
		if len(raw) > 0 && raw[0] == '[' {
			var evs []cwEvent
			if err := json.Unmarshal(raw, &evs); err != nil {
				return fmt.Errorf("JSON array after event %d: %w", ls.lineNo, err)
			}
			if err := ls.events(evs); err != nil {
				return err
			}
			continue
		}
		var doc cwDoc
		if err := json.Unmarshal(raw, &doc); err != nil {
			ls.lineNo++
			s.stats.Lines++
			s.reject(record.Reject(ls.lineNo, "", "JSON value is not a CloudWatch Logs event: "+err.Error(), string(raw)))
			continue
		}
		if err := ls.doc(ctx, &doc, raw); err != nil {
			return err
		}
	}
}

func (ls *lineState) doc(ctx context.Context, doc *cwDoc, raw []byte) error {
	s := ls.s
	switch {
	case doc.MessageType == controlMessage:
		s.stats.Container = ContainerSubscription
		return nil
	case doc.MessageType != "":
		if doc.MessageType != dataMessage {
			ls.lineNo++
			s.stats.Lines++
			s.reject(record.Reject(ls.lineNo, "", fmt.Sprintf("unknown subscription messageType %q", doc.MessageType), string(raw)))
			return nil
		}
		if strings.HasPrefix(s.stats.Container, "gzip+") {
			s.stats.Container = ContainerSubscription
		}
		return ls.events(doc.LogEvents)
	case doc.Events != nil:
		return ls.events(doc.Events)
	case doc.Message != nil:
		return ls.message(*doc.Message)
	case doc.AWSLogs != nil:
		zr, err := newInflater(ctx, bytes.NewReader(doc.AWSLogs.Data))
		if err != nil {
			return fmt.Errorf("awslogs.data: %w", err)
		}
		defer zr.Close()
		dec := json.NewDecoder(zr)
		for {
			var inner cwDoc
			if err := dec.Decode(&inner); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("awslogs.data: %w", err)
			}
			if err := ls.doc(ctx, &inner, nil); err != nil {
				return err
			}
		}
	}
	ls.lineNo++
	s.stats.Lines++
	s.reject(record.Reject(ls.lineNo, "", "JSON object has no events, logEvents or message", string(raw)))
	return nil
}

func (ls *lineState) events(evs []cwEvent) error {
	for i := range evs {
		if evs[i].Message == nil {
			ls.lineNo++
			ls.s.stats.Lines++
			ls.s.reject(record.Reject(ls.lineNo, "", "event has no message", ""))
			continue
		}
		if err := ls.message(*evs[i].Message); err != nil {
			return err
		}
	}
	return nil
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
