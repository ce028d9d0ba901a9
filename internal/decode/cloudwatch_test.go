package decode

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func event(msg string, i int) map[string]any {
	return map[string]any{"timestamp": 1717171205000 + i, "message": msg, "ingestionTime": 1717171544012 + i}
}

func jsonOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCloudWatchGetLogEvents(t *testing.T) {
	var evs []any
	for i, l := range goodLines {
		evs = append(evs, event(l, i))
	}
	doc := map[string]any{"events": evs, "nextForwardToken": "f/3842", "nextBackwardToken": "b/3841"}
	r := read(t, jsonOf(t, doc), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, goodLines)
	if r.stats.Container != ContainerCloudWatch || r.stats.Lines != int64(len(goodLines)) {
		t.Errorf("stats %+v", r.stats)
	}
	// The end of a stream: no events.
	r = read(t, []byte(`{"events": [], "nextForwardToken": "f/1", "nextBackwardToken": "b/1"}`), Options{})
	if r.err != nil || len(r.lines) != 0 || len(r.rejects) != 0 {
		t.Errorf("empty page: %v %v", r.err, r.rejectText())
	}
}

func TestCloudWatchFilterLogEventsPagesAndRejects(t *testing.T) {
	bad := "2 111122223333 eni-0a1b2c3d4e5f60718 10.20.1.15 198.51.100.23 49812 443 6 31 7420 1717171205 1717171262 ACCEPT"
	page := func(msgs ...string) map[string]any {
		var evs []any
		for i, m := range msgs {
			e := event(m, i)
			e["logStreamName"] = "eni-0a1b2c3d4e5f60718-all"
			e["eventId"] = fmt.Sprintf("3827563462829103654981673820176491827364550192837465%04d", i)
			evs = append(evs, e)
		}
		return map[string]any{"events": evs, "searchedLogStreams": []any{}, "nextToken": "x"}
	}
	// Two pages printed one after the other (as a shell loop over
	// --starting-token would).
	in := append(jsonOf(t, page(goodLines[0], bad)), jsonOf(t, page(goodLines[1]))...)
	r := read(t, in, Options{Name: "events.json"})
	if r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, r.lines, goodLines[:2])
	equalLines(t, r.rejectText(), []string{"events.json:2: 13 fields, the format has 14"})
}

func TestCloudWatchJSONLinesAndArrays(t *testing.T) {
	var jl []string
	for i, l := range goodLines {
		b, _ := json.Marshal(event(l, i))
		jl = append(jl, string(b))
	}
	r := read(t, lines(jl...), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, goodLines)

	arr := "[" + strings.Join(jl, ",\n") + "]"
	r = read(t, []byte("  \n"+arr), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, goodLines)

	// Firehose-style records: {"message": …} with no timestamp.
	r = read(t, []byte(`{"message":"`+goodLines[0]+`"}`+"\n"+`{"nothing":1}`+"\n"+`{"events":[{"timestamp":1},{"message":5}]}`+
		"\n"+`{"message":5}`+"\n"+`{"events":{"a":[1,{}]}}`+"\n"+`7`+"\n"+`{"awslogs":{"data":"not base64"}}`+"\n"+`{"message":"`+goodLines[1]+`"}`), Options{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	equalLines(t, r.lines, goodLines[:2])
	equalLines(t, r.rejectText(), []string{
		"in:2: JSON object has no events, logEvents or message",
		"in:3: event has no message",
		"in:4: event has no message",
		"in:5: message has an unexpected JSON number",
		"in:6: events is not an array",
		"in:7: JSON value 7 is not a CloudWatch Logs event",
		"in:8: awslogs: illegal base64 data at input byte 3",
	})
	for _, e := range r.rejects {
		if e.Kind != KindNotRecord {
			t.Errorf("%v: kind %q", e, e.Kind)
		}
	}
}

func TestCloudWatchBrokenJSON(t *testing.T) {
	r := read(t, []byte(`{"events":[{"message":"`+goodLines[0]+`"},`), Options{})
	if r.err == nil {
		t.Error("truncated JSON: no error")
	}
}

func subscription(msgType string, msgs ...string) map[string]any {
	var evs []any
	for i, m := range msgs {
		evs = append(evs, map[string]any{"id": fmt.Sprintf("%056d", i), "timestamp": 1717171205000, "message": m})
	}
	owner, group, stream, filters := "111122223333", "/flowlogs/prod", "eni-0a1b2c3d4e5f60718-all", []any{"to-flowlens"}
	if msgType == controlMessage {
		owner, group, stream, filters = "CloudwatchLogs", "", "", []any{}
	}
	return map[string]any{"messageType": msgType, "owner": owner, "logGroup": group, "logStream": stream,
		"subscriptionFilters": filters, "logEvents": evs}
}

func TestSubscriptionPayloads(t *testing.T) {
	data := jsonOf(t, subscription(dataMessage, goodLines...))
	r := read(t, gz(t, data), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, goodLines)
	if r.stats.Container != ContainerSubscription {
		t.Errorf("container %q", r.stats.Container)
	}

	ctl := jsonOf(t, subscription(controlMessage, "CWL CONTROL MESSAGE: Checking health of destination Firehose."))
	r = read(t, gz(t, ctl), Options{})
	if r.err != nil || len(r.lines) != 0 || len(r.rejects) != 0 || r.stats.Container != ContainerSubscription {
		t.Errorf("control message: %v %v %+v", r.err, r.rejectText(), r.stats)
	}

	// Several payloads in one record (concatenated gzip members), one of
	// them a control message.
	r = read(t, gz(t, data, ctl, jsonOf(t, subscription(dataMessage, goodLines[0]))), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, append(append([]string{}, goodLines...), goodLines[0]))

	// The Lambda wrapper.
	wrapped := map[string]any{"awslogs": map[string]any{"data": base64.StdEncoding.EncodeToString(gz(t, data))}}
	r = read(t, jsonOf(t, wrapped), Options{})
	if r.err != nil || len(r.rejects) != 0 {
		t.Fatal(r.err, r.rejectText())
	}
	equalLines(t, r.lines, goodLines)

	r = read(t, gz(t, jsonOf(t, subscription("SURPRISE", goodLines[0]))), Options{})
	if len(r.rejects) != 1 || !strings.Contains(r.rejects[0].Reason, "SURPRISE") {
		t.Errorf("unknown message type: %v", r.rejectText())
	}
}

// TestFirehoseRecordBodies covers what one Firehose record's data can be
// (spec 11.5): a JSON {"message"} document, raw text lines, or a gzip
// CloudWatch Logs subscription payload. Read takes each as it is.
func TestFirehoseRecordBodies(t *testing.T) {
	bodies := map[string][]byte{
		"json message": []byte(`{"message":"` + goodLines[0] + `"}`),
		"raw text":     []byte(goodLines[0] + "\n" + goodLines[1]),
		"subscription": gz(t, jsonOf(t, subscription(dataMessage, goodLines[0], goodLines[1]))),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			r := read(t, body, Options{})
			if r.err != nil || len(r.rejects) != 0 || len(r.lines) == 0 || r.lines[0] != goodLines[0] {
				t.Errorf("%v %v %v", r.err, r.rejectText(), r.lines)
			}
		})
	}
}

func TestSqueezeReader(t *testing.T) {
	cases := map[string]string{
		"{  \"events\" :\n\n\t[ ]   }": `{ "events" :
[ ]` + " }",
		`{"message":"a  b\t\tc\"  d\\"}   `: `{"message":"a  b\t\tc\"  d\\"} `,
		"\"a \t  b\"   x":                   "\"a \t  b\" x",
		"1    2\n\n\n3":                     "1 2\n3",
		`"\\"    "x  y"`:                    `"\\" "x  y"`,
	}
	for in, want := range cases {
		for _, chunk := range []int{1, 3, 1024} {
			got, err := io.ReadAll(&squeezeReader{r: iotest.HalfReader(&chunkReader{s: in, n: chunk})})
			if err != nil || string(got) != want {
				t.Errorf("squeeze(%q) chunk %d = %q, %v; want %q", in, chunk, got, err, want)
			}
		}
	}
	// A long run of blanks (what made encoding/json rescan its buffer
	// quadratically) decodes like a short one.
	in := `{"events":[` + strings.Repeat(" \n", 5<<20) + `{"message":"` + goodLines[0] + `"}]}`
	r := read(t, gz(t, []byte(in)), Options{})
	if r.err != nil || len(r.lines) != 1 {
		t.Errorf("%v %v", r.err, r.lines)
	}
}

// chunkReader returns s in reads of at most n bytes.
type chunkReader struct {
	s string
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.s)
	c.s = c.s[k:]
	return k, nil
}

// A JSON document that is not CloudWatch Logs output (an interface inventory
// beside the logs, say) is not a flow log file: an error, not a rejected line.
func TestCloudWatchNotFlowLogJSON(t *testing.T) {
	r := read(t, []byte(`{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-0a1b2c3d4e5f60718"}]}`), Options{Name: "inventory.json"})
	if !errors.Is(r.err, ErrNotFlowLog) || len(r.rejects) != 0 {
		t.Fatalf("err %v, rejects %v", r.err, r.rejectText())
	}
}
