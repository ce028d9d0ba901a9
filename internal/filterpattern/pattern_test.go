package filterpattern

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/decode/record"
	"github.com/flowlens/flowlens/internal/flowlog"
)

// Flow log records of the default format used by the cases.
const (
	recSSH     = "2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.77 10.20.1.15 61001 22 6 2 120 1717171301 1717171331 REJECT OK"
	recRDP     = "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.9 10.20.1.16 50123 3389 6 10 840 1717171301 1717171331 ACCEPT OK"
	recHTTP    = "2 1234567890123 eni-c46ee49c 10.0.1.218 10.0.1.63 80 54033 6 2 112 1441341480 1441341532 ACCEPT OK"
	recBig     = "2 111122223333 eni-0a1b2c3d4e5f60718 10.0.3.4 52.1.2.3 40000 443 6 9000 20000000 1717171301 1717171331 ACCEPT OK"
	recNoData  = "2 111122223333 eni-0a1b2c3d4e5f60718 - - - - - - - 1717171301 1717171331 - NODATA"
	recSkip    = "2 111122223333 eni-0a1b2c3d4e5f60718 - - - - - - - 1717171301 1717171331 - SKIPDATA"
	walkthough = "2 1234567890123 eni-xxxxxxxx xx.x.x.xxx yy.y.y.yyy 49907 80 6 4 216 1441204247 1441204306 ACCEPT OK"
	apache     = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326`
)

type matchCase struct {
	pattern string
	msg     string
	want    bool
}

// TestMatch covers every example of spec/metric-filters.md and AWS's
// filter pattern documentation.
func TestMatch(t *testing.T) {
	cases := []matchCase{
		// §1: the empty pattern and its spellings match everything.
		{``, recSSH, true},
		{`""`, recSSH, true},
		{`" "`, "anything", true},
		{`  `, "", true},
		// §2.1 terms.
		{`ERROR`, "Exiting with ERRORCODE: -1", true},
		{`ERROR`, "all good", false},
		{`ERROR Exception`, "Exception happened: ERROR", true},
		{`ERROR Exception`, "ERROR only", false},
		{`"Failed to process"`, "[WARN] Failed to process the request", true},
		{`"Failed to process"`, "Failed to  process", false},
		{`"ERROR" "Exception"`, "an Exception with ERROR", true},
		{`"ERROR Exception"`, "an Exception with ERROR", false},
		{`"ERROR Exception"`, "ERROR Exception raised", true},
		{`ERROR -Exiting`, "ERROR: Exiting", false},
		{`ERROR -Exiting`, "ERROR: retrying", true},
		{`-"phrase two"`, "phrase one", true},
		{`-"phrase two"`, "a phrase two", false},
		{`?ERROR ?WARN`, "WARN: disk", true},
		{`?ERROR ?WARN`, "INFO: disk", false},
		{`"error"`, "ERROR", false}, // case-sensitive
		{`"say \"hi\""`, `they say "hi" here`, true},
		// Mixed ? with plain: the ? terms are ignored.
		{`?REJECT ?NODATA ACCEPT`, recRDP, true},
		{`?REJECT ?NODATA ACCEPT`, recSSH, false},
		// §2.2 on flow records.
		{`REJECT`, recSSH, true},
		{`REJECT`, recRDP, false},
		{`"eni-0a1b2c3d4e5f60718" REJECT`, recSSH, true},
		{`"eni-0a1b2c3d4e5f60718" REJECT`, recRDP, false},
		{`?NODATA ?SKIPDATA`, recNoData, true},
		{`?NODATA ?SKIPDATA`, recSkip, true},
		{`?NODATA ?SKIPDATA`, recSSH, false},
		{`ACCEPT -NODATA`, recRDP, true},
		{`ACCEPT -NODATA`, recNoData, false},
		{`"ACCEPT OK"`, recRDP, true},
		{`"10.0.1.218"`, recHTTP, true},
		// §2.3 regex.
		{`%AUTHORIZED%`, "AUTHORIZED REQUEST", true},
		{`%AUTHORIZED%`, "UNAUTHORIZED REQUEST", true},
		{`%AUTHORIZED%`, "authorized", false},
		{`%^REJ%`, "REJECT", true},
		{`%^REJ%`, "A REJECT", false},
		{`%time\s?out%`, "timeout", true},
		{`%time\s?out%`, "time out", true},
		{`%eni-[0-9a-f]+ 203\.0%`, recSSH, true},
		{`%\x41B%`, "xAB", true},
		{`%REJECT OK$%`, recSSH, true},
		// §3 space-delimited, the walkthrough.
		{`[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=80,protocol,packets,bytes,start,end,action,log_status]`, walkthough, true},
		{`[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`, walkthough, false},
		{`[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`, recSSH, true},
		{`[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport=22, protocol, packets, bytes, start, end, action, log_status]`, recSSH, true},
		// Field count must agree without ...
		{`[a, b, c]`, recSSH, false},
		{`[a, b, c]`, "x y z", true},
		{`[a, b, c]`, "x  y   z", true},
		// §3.4 examples.
		{`[version, account, eni, src, dst, sport, dport="22", proto="6", pkts, bytes, wstart, wend, action="REJECT", status]`, recSSH, true},
		{`[version, account, eni, src, dst, sport, dport="22", proto="6", pkts, bytes, wstart, wend, action="REJECT", status]`, recRDP, false},
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport = 3389 || dstport = 22, protocol = 6, packets, bytes, start, end, action = ACCEPT, status]`, recRDP, true},
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport = 3389 || dstport = 22, protocol = 6, packets, bytes, start, end, action = ACCEPT, status]`, recSSH, false},
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport = 3389 || dstport = 22, protocol = 6, packets, bytes, start, end, action = ACCEPT, status]`, recHTTP, false},
		{`[..., bytes > 10000000, start, end, action, status = OK]`, recBig, true},
		{`[..., bytes > 10000000, start, end, action, status = OK]`, recSSH, false},
		{`[..., bytes > 10000000, start, end, action, status = OK]`, recNoData, false},
		{`[version, account, eni, srcaddr = 10.0.*, ...]`, recHTTP, true},
		{`[version, account, eni, srcaddr = 10.0.*, ...]`, recSSH, false},
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, status = SKIPDATA]`, recSkip, true},
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, status = SKIPDATA]`, recNoData, false},
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes > 0, start, end, action = ACCEPT, status]`, recBig, true},
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes > 0, start, end, action = ACCEPT, status]`, recNoData, false},
		// Numeric semantics.
		{`[..., dstport = 022, protocol, packets, bytes, start, end, action, status]`, recSSH, true},
		{`[..., dstport = 22.0, protocol, packets, bytes, start, end, action, status]`, recSSH, true},
		{`[..., dstport >= 1024, protocol, packets, bytes, start, end, action, status]`, recHTTP, true},
		{`[..., dstport < 1024, protocol, packets, bytes, start, end, action, status]`, recHTTP, false},
		{`[..., bytes >= 1.2e3, start, end, action, status]`, recRDP, false},
		{`[..., bytes <= 1.2e3, start, end, action, status]`, recRDP, true},
		{`[..., bytes != 5, start, end, action, status]`, recNoData, false}, // "-" fails every numeric test
		{`[..., bytes = -, start, end, action, status]`, recNoData, true},
		{`[..., action != REJECT, status]`, recRDP, true},
		{`[..., action != REJECT, status]`, recSSH, false},
		{`[..., action = "REJECT", status]`, recSSH, true},
		{`[..., action = REJ*, status]`, recSSH, true},
		{`[..., action = *EC*, status]`, recSSH, true},
		{`[..., action = *CEPT, status]`, recSSH, false},
		{`[..., action = %^REJ%, status]`, recSSH, true},
		{`[..., action != %^REJ%, status]`, recSSH, false},
		// && and || on one field, and parentheses.
		{`[w1 != ERROR && w1 != WARN, ...]`, "INFO all good", true},
		{`[w1 != ERROR && w1 != WARN, ...]`, "WARN disk", false},
		{`[..., (dstport = 22 || dstport = 3389), protocol, packets, bytes, start, end, action, status]`, recSSH, true},
		// Cross-field && (project).
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport = 22 && action = REJECT, protocol, packets, bytes, start, end, action, status]`, recSSH, true},
		{`[version, account, eni, srcaddr, dstaddr, srcport, dstport = 3389 && action = REJECT, protocol, packets, bytes, start, end, action, status]`, recRDP, false},
		{`[version, account, eni, srcaddr, dstaddr, srcport, (dstport = 3389 || dstport = 22) && action = ACCEPT, protocol, packets, bytes, start, end, action, status]`, recRDP, true},
		// Several ... with backtracking.
		{`[..., dstport = 22, ..., action = REJECT, ...]`, recSSH, true},
		{`[..., dstport = 22, ..., action = ACCEPT, ...]`, recSSH, false},
		{`[..., x = 6, ..., y = 2, ...]`, recSSH, true},
		{`[…, status = OK]`, recSSH, true},
		{`[..., ..., status = OK]`, recSSH, true},
		// The Apache example: brackets and quotes delimit one field.
		{`[ip, id, user, timestamp, request, status_code = 4*, size]`, apache, true},
		{`[..., request=*.gif*, status_code=4*,]`, apache, true},
		{`[..., request=*.html*, status_code=4*,]`, apache, false},
		{`[ip, id, user, timestamp = 10/Oct*, request, status_code, size > 1000]`, apache, true},
		{`[ip, id, user, timestamp, request, status_code = 403 || status_code = 404, size]`, apache, true},
		{`[ip, id, user, timestamp, request, status_code = 4* && size > 10000, size]`, apache, false},
		// §4 JSON.
		{`{ $.message = "*REJECT OK" }`, `{"message":"` + recSSH + `"}`, true},
		{`{ $.message = "*REJECT OK" }`, `{"message":"` + recRDP + `"}`, false},
		{`{ ($.action = "REJECT") && ($.dstport = 22 || $.dstport = 3389) }`, `{"action":"REJECT","dstport":22}`, true},
		{`{ ($.action = "REJECT") && ($.dstport = 22 || $.dstport = 3389) }`, `{"action":"REJECT","dstport":80}`, false},
		{`{ $.bytes > 1000000 }`, `{"bytes": 20000000}`, true},
		{`{ $.bytes > 1000000 }`, `{"bytes": 2}`, false},
		{`{ $.bytes > 1000000 }`, `{"bytes": "20000000"}`, false}, // a numeric-looking string is a string
		{`{ $.eventType = "UpdateTrail" }`, `{"eventType":"UpdateTrail"}`, true},
		{`{ $.eventType = UpdateTrail }`, `{"eventType":"UpdateTrail"}`, true},
		{`{ $.eventType = *Trail }`, `{"eventType":"UpdateTrail"}`, true},
		{`{ $.eventType = Update* }`, `{"eventType":"UpdateTrail"}`, true},
		{`{ $.eventType = "Up*Trail" }`, `{"eventType":"UpdateTrail"}`, false}, // inner * is literal
		{`{ $.eventType != "UpdateTrail" }`, `{"eventType":"DeleteTrail"}`, true},
		{`{ $.missing != "x" }`, `{"eventType":"DeleteTrail"}`, false},
		{`{ $.sourceIPAddress != 123.123.* }`, `{"sourceIPAddress":"10.0.0.1"}`, true},
		{`{ $.arrayKey[0] = "value" }`, `{"arrayKey":["value","other"]}`, true},
		{`{ $.arrayKey[1] = "value" }`, `{"arrayKey":["value","other"]}`, false},
		{`{ $.objectList[1].id = 2 }`, `{"objectList":[{"id":1},{"id":2}]}`, true},
		{`{ $.user.id = 1 && $.users[0].email = "John.Doe@example.com" }`, `{"user":{"id":1},"users":[{"email":"John.Doe@example.com"}]}`, true},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nonmatch }`, `{"user":{"email":"John.Stiles@example.com"}}`, true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nonmatch }`, `{"user":{"email":"John.Stiles@example.com"},"actions":[1,2,3]}`, false},
		{`{ $.code = 10e3 }`, `{"code": 10000}`, true},
		{`{ $.code = +1000 }`, `{"code": 1000}`, true},
		{`{ $.code >= 10e-3 }`, `{"code": 0.01}`, true},
		{`{ $.latency = * }`, `{"latency": 12}`, true},
		{`{ $.latency = * }`, `{"other": 12}`, false},
		{`{ $.latency = * }`, `{"latency": {"a":1}}`, false},
		{`{ $.user = "x" }`, `{"user": {"a":1}}`, false},
		{`{ $.user != "x" }`, `{"user": {"a":1}}`, false},
		{`{ $.key IS NULL }`, `{"key": null}`, true},
		{`{ $.key IS NULL }`, `{"key": 1}`, false},
		{`{ $.key IS TRUE }`, `{"key": true}`, true},
		{`{ $.key IS FALSE }`, `{"key": true}`, false},
		{`{ $.key NOT EXISTS }`, `{"other": true}`, true},
		{`{ $.key NOT EXISTS }`, `{"key": null}`, false},
		{`{ $.msg = %time\s?out% }`, `{"msg":"connection timeout"}`, true},
		{`{ $.action = %REJ.*% }`, `{"action":"REJECT"}`, true},
		{`{ $.['cluster.name'] = "prod" }`, `{"cluster.name":"prod"}`, true},
		{`{ $.tags[*] = "pci" }`, `{"tags":["web","pci"]}`, true},
		{`{ $.tags[*] = "hipaa" }`, `{"tags":["web","pci"]}`, false},
		{`{ $.*.id = 7 }`, `{"a":{"id":1},"b":{"id":7}}`, true},
		{`{ $.action = "REJECT" }`, recSSH, false}, // not JSON
		{`{ $.action = "REJECT" }`, `["REJECT"]`, false},
		// Extension: $names of the default format.
		{`[$dstport = 22, $action = REJECT]`, recSSH, true},
		{`[$action = REJECT, $dstport = 22]`, recSSH, true},
		{`[$dstport = 22, $action = ACCEPT]`, recSSH, false},
		{`[$log-status = NODATA]`, recNoData, true},
		{`[$srcAddr = 10.0.*]`, recHTTP, true},
		{`[$dstport = 22]`, "a b c", false},
	}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.pattern, err)
			continue
		}
		if got := p.Match(c.msg); got != c.want {
			t.Errorf("%q on %q: match = %v, want %v", c.pattern, c.msg, got, c.want)
		}
		vals, got := p.Extract(c.msg)
		if got != c.want || got && vals == nil {
			t.Errorf("%q on %q: Extract = %v %v, want %v", c.pattern, c.msg, vals, got, c.want)
		}
	}
}

func TestExtract(t *testing.T) {
	cases := []struct {
		pattern, msg string
		want         map[string]string
	}{
		{
			// The walkthrough's aws logs test-metric-filter output.
			`[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=80,protocol,packets,bytes,start,end,action,log_status]`,
			walkthough,
			map[string]string{
				"$dstaddr": "yy.y.y.yyy", "$dstport": "80", "$start": "1441204247", "$account_id": "1234567890123",
				"$action": "ACCEPT", "$packets": "4", "$protocol": "6", "$interface_id": "eni-xxxxxxxx",
				"$bytes": "216", "$version": "2", "$srcaddr": "xx.x.x.xxx", "$log_status": "OK",
				"$srcport": "49907", "$end": "1441204306",
			},
		},
		{
			// §6's TestMetricFilter response.
			`[version, account, eni, src, dst, sport, dport="22", proto="6", pkts, bytes, wstart, wend, action="REJECT", status]`,
			recSSH,
			map[string]string{
				"$version": "2", "$account": "111122223333", "$eni": "eni-0a1b2c3d4e5f60718",
				"$src": "203.0.113.77", "$dst": "10.20.1.15", "$sport": "61001",
				"$dport": "22", "$proto": "6", "$pkts": "2", "$bytes": "120",
				"$wstart": "1717171301", "$wend": "1717171331",
				"$action": "REJECT", "$status": "OK",
			},
		},
		{
			// §3.3: $1…$4, $request, $status_code, $7.
			`[..., request=*.gif*, status_code=4*,]`,
			apache,
			map[string]string{
				"$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700",
				"$request": "GET /apache_pb.gif HTTP/1.0", "$status_code": "404", "$7": "2326",
			},
		},
		{`REJECT`, recSSH, map[string]string{}},
		{`{ $.a = 1 }`, `{"a":1}`, map[string]string{}},
		{
			`[$dstport = 22]`, recSSH,
			map[string]string{"$1": "2", "$2": "111122223333", "$3": "eni-0a1b2c3d4e5f60718", "$4": "203.0.113.77", "$5": "10.20.1.15", "$6": "61001",
				"$dstport": "22", "$8": "6", "$9": "2", "$10": "120", "$11": "1717171301", "$12": "1717171331", "$13": "REJECT", "$14": "OK"},
		},
	}
	for _, c := range cases {
		p := MustParse(c.pattern)
		got, ok := p.Extract(c.msg)
		if !ok {
			t.Errorf("%q on %q: no match", c.pattern, c.msg)
			continue
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("%q on %q:\n got  %v\n want %v", c.pattern, c.msg, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		pattern string
		col     int
		msg     string
	}{
		{`"unterminated`, 1, "unterminated quoted string"},
		{`ERROR eni-0a1b`, 10, `"-" cannot appear in an unquoted term`},
		{`ERROR - x`, 7, "must be followed by a term"},
		{`"a"b`, 4, "expected a space after the quoted phrase"},
		{`%(a|b)%`, 2, "no parentheses"},
		{`%a!b%`, 3, `'!' is not allowed`},
		{`%\q%`, 2, `unsupported escape \q`},
		{`%\x4%`, 2, `\x must be followed by two hexadecimal digits`},
		{`[a, b`, 5, "ends with ]"},
		{`[]`, 1, "an empty [ ] pattern"},
		{`[a b]`, 4, "expected , or an operator"},
		{`[a, b == 3]`, 7, `unknown operator "=="`},
		{`[a, b = ]`, 9, "expected a value after ="},
		{`[a, b > x]`, 9, `> compares numbers: "x" is not a number`},
		{`[a, b =~ x]`, 7, "a regex is written"},
		{`[a, a]`, 5, `"a" appears twice`},
		{`[a = 1 && zz = 2, b]`, 11, `"zz" names no field`},
		{`[a = %x%, b = %y%, c = %z%]`, 24, "at most 2 regular expressions"},
		{`[a = (1, b]`, 6, "expected a value"},
		{`[a = "x, b]`, 6, "unterminated quoted string"},
		{`[..., a = 1 && b = 2, ..., b]`, 1, "at most one ..."},
		{`[$dstprt = 22]`, 3, "did you mean $dstport?"},
		{`[$dstport = 22, ...]`, 17, "... has no place"},
		{`[$dstport = 22, action]`, 17, "every item of a pattern of $names"},
		{`{ $.a = 1`, 9, "ends with }"},
		{`{ }`, 1, "an empty { } pattern"},
		{`{ a = 1 }`, 3, "expected a selector"},
		{`{ $.a IS NOT NULL }`, 10, "IS NOT is not supported"},
		{`{ $.a EXISTS }`, 7, "EXISTS alone"},
		{`{ $.a > "x" }`, 9, "> compares numbers"},
		{`{ $.a = 1 $.b = 2 }`, 11, "expected && or ||"},
		{`{ ($.a = 1 }`, 3, "this ( is never closed"},
		{`{ $.a = x,y }`, 10, "cannot appear in an unquoted value"},
		{`{ $.*.b[*] = 1 }`, 3, "at most one wildcard"},
		{`{ $. = 1 }`, 4, "expected a key after ."},
		{strings.Repeat("a", MaxLen+1), MaxLen + 1, "at most 1024 characters"},
	}
	for _, c := range cases {
		_, err := Parse(c.pattern)
		var pe *Error
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want an *Error", c.pattern, err)
			continue
		}
		if pe.Column() != c.col || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("Parse(%q) = %q at %d, want %q at %d\n%s", c.pattern, pe.Msg, pe.Column(), c.msg, c.col, pe.Caret())
		}
	}
}

func TestWarnings(t *testing.T) {
	p := MustParse(`?REJECT ?NODATA ACCEPT`)
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0], "?REJECT ?NODATA") {
		t.Fatalf("warnings = %q", w)
	}
	if w := MustParse(`?REJECT ?NODATA`).Warnings(); len(w) != 0 {
		t.Fatalf("warnings = %q", w)
	}
}

// decodeBatch decodes default-format lines into one batch.
func decodeBatch(t testing.TB, f *flowlog.Format, lines ...string) *flowlog.Batch {
	d := record.NewDecoder(f)
	b := flowlog.NewBatch(f, len(lines))
	for i, l := range lines {
		if e := d.DecodeLine(b, []byte(l), int64(i+1)); e != nil {
			t.Fatalf("decode %q: %v", l, e)
		}
	}
	return b
}

// TestBatchAgreesWithMessages runs every flow record case over a decoded
// batch and checks that the batch matcher agrees with the text matcher,
// extracted values included.
func TestBatchAgreesWithMessages(t *testing.T) {
	f := flowlog.DefaultFormat()
	recs := []string{recSSH, recRDP, recHTTP, recBig, recNoData, recSkip}
	b := decodeBatch(t, f, recs...)
	patterns := []string{
		``, `REJECT`, `"ACCEPT OK"`, `?NODATA ?SKIPDATA`, `ACCEPT -NODATA`, `%^2 1234%`, `{ $.a = 1 }`,
		`[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]`,
		`[version, account, eni, srcaddr, dstaddr, srcport, dstport = 3389 || dstport = 22, protocol = 6, packets, bytes, start, end, action = ACCEPT, status]`,
		`[..., bytes > 10000000, start, end, action, status = OK]`,
		`[version, account, eni, srcaddr = 10.0.*, ...]`,
		`[..., bytes != 5, start, end, action, status]`,
		`[..., dstport = 2*, ...]`,
		`[..., dstport = 22, ..., action = REJECT, ...]`,
		`[..., x = 6, ..., y = 2, ...]`,
		`[a, b, c]`,
		`[version, account, eni, srcaddr, dstaddr, srcport, dstport = 22 && action = REJECT, protocol, packets, bytes, start, end, action, status]`,
		`[$dstport = 22, $action = REJECT]`,
		`[$log_status = NODATA || $log_status = SKIPDATA]`,
	}
	for _, pt := range patterns {
		p := MustParse(pt)
		m := p.Compile(f)
		sel, n := m.Select(b, nil)
		want := 0
		for i, r := range recs {
			wv, w := p.Extract(r)
			if w {
				want++
			}
			if sel[i] != w {
				t.Errorf("%q record %d: batch %v, text %v", pt, i, sel[i], w)
				continue
			}
			if w {
				if gv := m.Extract(b, i); !maps.Equal(gv, wv) {
					t.Errorf("%q record %d: batch values %v, text %v", pt, i, gv, wv)
				}
			}
		}
		if n != want {
			t.Errorf("%q: %d matches, want %d", pt, n, want)
		}
	}
}

func TestBatchKeys(t *testing.T) {
	f := flowlog.DefaultFormat()
	b := decodeBatch(t, f, recSSH, recNoData)
	m := MustParse(`[version, account, eni, src, dst, sport, dport, proto, pkts, bytes, wstart, wend, action, status]`).Compile(f)
	kb, err := m.Key("$bytes")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Number(b, 0, kb); !ok || v != 120 {
		t.Errorf("$bytes = %v %v", v, ok)
	}
	if _, ok := m.Number(b, 1, kb); ok {
		t.Errorf("$bytes of a NODATA record is a number")
	}
	ks, _ := m.Key("$4")
	if v, ok := m.Text(nil, b, 0, ks); !ok || string(v) != "203.0.113.77" {
		t.Errorf("$4 = %q %v", v, ok)
	}
	if _, err := m.Key("$nope"); err == nil {
		t.Errorf("Key($nope) succeeded")
	}
	m2 := MustParse(`[..., x = 6, ..., bytes, wstart, wend, action, status]`).Compile(f)
	kx, _ := m2.Key("$x")
	if !m2.Match(b, 0) {
		t.Fatal("no match")
	}
	if v, ok := m2.Text(nil, b, 0, kx); !ok || string(v) != "6" {
		t.Errorf("$x = %q %v", v, ok)
	}
}
