package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/insights/syntax"
)

// TestNameResolution: every spelling of §4.3 reaches the same column.
func TestNameResolution(t *testing.T) {
	f := func(name, column string) {
		t.Helper()
		p, err := Compile("fields "+name, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		col, ok := p.Stages[0].Cols[0].X.(*Column)
		if !ok || col.Field.Column != column {
			t.Fatalf("%s resolved to %v, want column %s", name, p.Stages[0].Cols[0].X, column)
		}
	}
	for _, fl := range flowlog.Fields() {
		f(fl.Column, fl.Column)
		f(fl.Insights, fl.Column)
		f("`"+fl.Name+"`", fl.Column)
	}
	f("srcAddr", "srcaddr")
	f("startTime", "start")
	f("`end`", "end")
	f("endTime", "end")
	f("logStatus", "log_status")
	f("pktDstAwsService", "pkt_dst_aws_service")
}

func TestTypes(t *testing.T) {
	f := func(q string, want ...Type) {
		t.Helper()
		p, err := Compile(q, Options{})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(p.Output) != len(want) {
			t.Fatalf("%s: %d columns, want %d", q, len(p.Output), len(want))
		}
		for i, c := range p.Output {
			if c.Type != want[i] {
				t.Fatalf("%s: column %s is %s, want %s", q, c.Name, c.Type, want[i])
			}
		}
	}
	f("fields @timestamp, bytes, srcAddr, startTime, @ingestionTime", TypeTime, TypeNumber, TypeString, TypeNumber, TypeTime)
	f("stats count(*), max(@timestamp) as t, min(srcAddr) as s by bin(5m)", TypeTime, TypeNumber, TypeTime, TypeString)
	f(`fields isempty(action) as e, ispresent(action) as p, strlen(action) as l, concat(bytes, "x") as c`, TypeFlag, TypeBool, TypeNumber, TypeString)
	f(`fields coalesce(vpcId, bytes) as c, if(bytes > 1, 1, 2) as i`, TypeString, TypeNumber)
	f("fields jsonParse(@message) as j | fields j, j.a, j.`b.c`[0], jsonStringify(j) as s, jsonArraySize(j.l) as n, jsonArrayContains(j.l, \"x\") as c, j.a = \"x\" as eq",
		TypeJSON, TypeJSON, TypeJSON, TypeString, TypeNumber, TypeFlag, TypeBool)
	f(`parse multi @message "x=*," as x | parse logfmt as m | parse m.k csv as a | fields x, m, a`, TypeList, TypeJSON, TypeString)
	f(`stats histogram(bytes, 10) as h, countOverTime(bytes) as c, sumOverTime(bytes) as s by bin(5m)`, TypeTime, TypeJSON, TypeNumber, TypeNumber)
}

// TestCoercion: §6.2 — numeric text compares as a number, non-numeric text
// never equals a number.
func TestCoercion(t *testing.T) {
	f := func(q, want string) {
		t.Helper()
		p, err := Compile(q, Options{})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for _, x := range p.Stages[0].Filters {
			got = append(got, x.String())
		}
		if g := strings.Join(got, " AND "); g != want {
			t.Fatalf("%s:\n got %s\nwant %s", q, g, want)
		}
	}
	f(`filter dstPort = "443"`, `=(dstport, 443)`)
	f(`filter srcAddr = 5`, `=(tonumber(srcaddr), 5)`)
	f(`filter srcAddr = "10.0.0.1"`, `ipv4_range(srcaddr, 167772161, 167772161)`)
	f(`filter srcAddr = "2001:db8::1"`, `=(srcaddr, "2001:db8::1")`)
	f(`filter action like /^REJ/ and action like /ECT$/ and action like /JE/ and action like /R.J/`,
		`starts_with(action, "REJ") AND ends_with(action, "ECT") AND contains(action, "JE") AND regexp(action, "(?-s:R.J)")`)
	f(`filter isIpv4InSubnet(srcAddr, "10.1.2.3/16")`, `ipv4_range(srcaddr, 167837696, 167903231)`)
	f(`filter bytes > 1 and (packets < 2 or not protocol = 6)`, `>(bytes, 1) AND or(<(packets, 2), not(=(protocol, 6)))`)
}

func TestAlwaysFalse(t *testing.T) {
	p, err := Compile(`filter dstPort = "https"`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Stages[0].Filters) != 1 || p.Stages[0].Filters[0].String() != "false" {
		t.Fatalf("filters %v, want [false]", p.Stages[0].Filters)
	}
}

func TestCheckErrors(t *testing.T) {
	f := func(q, want string) {
		t.Helper()
		_, err := Compile(q, Options{})
		if err == nil {
			t.Fatalf("%s: no error, want %q", q, want)
		}
		if !errors.Is(err, syntax.ErrQuery) || !IsQueryError(err) {
			t.Fatalf("%s: %v is not a query error", q, err)
		}
		if err.Error() != want {
			t.Fatalf("%s:\n got %q\nwant %q", q, err.Error(), want)
		}
	}
	f(`filter srcadr = "x"`, `1:8: unknown field "srcadr" (did you mean "srcAddr"?)`)
	f(`fields log-status`, "1:8: log-status reads as a subtraction: quote the field name in backticks, `log-status`, or write logStatus")
	f(`fields packets-lost-no-route`, "1:8: packets-lost-no-route reads as a subtraction: quote the field name in backticks, `packets-lost-no-route`, or write packetsLostNoRoute")
	f(`fields bytes as b | filter bb > 1`, `1:28: unknown field "bb" (did you mean "b"?)`)
	f(`fields @timstamp`, `1:8: unknown field "@timstamp" (did you mean "@timestamp"?)`)
	f(`stats count(*) as n by srcAddr | sort n | stats sum(n)`, `1:34: sort must come after the last stats (stats at 1:43)`)
	f(`stats count(*) as n, sum(bytes) as n`, `1:22: duplicate output name "n" in stats; add "as name"`)
	f(`stats sum(count(*))`, `1:11: aggregate functions cannot be nested`)
	f(`stats count(*) by sum(bytes)`, `1:19: sum() is an aggregate function: it can only be used in stats`)
	f(`stats pct(bytes, 101)`, `1:18: pct() needs a percentile between 0 and 100 as a number`)
	f(`filter isIpv6InSubnet(srcAddr, "10.0.0.0/8")`, `1:32: "10.0.0.0/8" is an IPv4 block: use isIpv4InSubnet()`)
	f(`filter isIpv4InSubnet(srcAddr, dstAddr)`, `1:32: isIpv4InSubnet() needs a literal CIDR block such as "10.0.0.0/16"`)
	// JSON functions, access and histogram(): misuse is caught here, with a position
	f(`fields jsonParse(@message, 1) as j`, `1:8: jsonParse() takes 1 argument(s), got 2`)
	f(`fields jsonArrayContains(action) as c`, `1:8: jsonArrayContains() takes 2 argument(s), got 1`)
	f(`fields jsonStringify(action) as s`, `1:22: jsonStringify() takes a map or a list (from jsonParse(), parse … logfmt or split()), not string`)
	f(`fields srcAddr.a as x`, `1:8: srcAddr is not a map: only values from jsonParse() or parse … logfmt have keys`)
	f(`fields split(action, "C") as l | fields l.a as x`, `1:41: l is a list from split() or parse multi: index it (l[0]) instead of reading a key`)
	f("fields action as a | fields a.`k` as x", "1:29: a is not a map: only values from jsonParse() or parse … logfmt have keys")
	f(`fields bytes as b | fields b[0] as x`, `1:28: b is not a list: only lists from split(), parse multi and jsonParse() can be indexed`)
	f(`fields jsonParse(@message) as j | filter j.a`, `1:42: j.a is not a condition: compare it (= != < > like in) or test it with a function such as ispresent()`)
	f(`fields jsonParse(@message) as j | fields j.a.b..c as x`, `1:42: unknown field "j.a.b..c"`)
	f(`fields jsonParse(@message) as j | fields j. as x`, `1:42: unknown field "j." (did you mean "j"?)`)
	f(`stats histogram(bytes) as h`, `1:7: histogram() takes 2 argument(s), got 1`)
	f(`stats histogram(bytes, 0) as h`, `1:24: histogram() needs a whole number of buckets between 1 and 100 as its second argument`)
	f(`stats histogram(bytes, 2.5) as h`, `1:24: histogram() needs a whole number of buckets between 1 and 100 as its second argument`)
	f(`fields histogram(bytes, 5) as h`, `1:8: histogram() is an aggregate function: it can only be used in stats`)
	f(`fields action as a | unnest a into x`, `1:29: a is not a list: unnest takes a list from split(), parse multi or jsonParse()`)
	f(`parse multi @message "x=*" as x | parse x "a*" as y`, `1:41: x is a list: index it (x[0]) or unnest it before parse`)
	f(`fields count(*)`, `1:8: count() is an aggregate function: it can only be used in stats`)
	f(`fields sum(*)`, `1:8: sum(*) is not allowed: only count(*) takes *`)
	f(`parse @message /(eni-[0-9a-f]+)/`, `1:16: the regex has no named group: write (?<name>…) for each field to extract`)
	f(`fields datefloor(@timestamp, 5)`, `1:30: datefloor() needs a time period such as 5m as its second argument`)
	f(`estimate | limit 5`, `1:12: estimate must be the last command`)
	f(`fields formatDate(@timestamp, "") as d`, `1:31: formatDate() needs a literal format string such as "%Y-%m-%d"`)
	f(`fields formatDate(@timestamp, "%Y %Q") as d`, `1:31: format directive "%Q" is not supported (%Y %m %d %H %M %S %f %j %a %A %b %B %p %z %Z %c %x %X %% are)`)
	f(`fields formatDate(@timestamp, "100%") as d`, `1:31: the format "100%" ends with %: write %% for a percent sign`)
	f(`fields @ptr`, `1:8: @ptr is not available: flowlens has no per-event pointers`)
	f(`fields srcAddr | source 'x'`, `1:18: SOURCE must be the first command`)
}

func TestJavaDatePatterns(t *testing.T) {
	for in, want := range map[string]string{
		"yyyy-MM-dd HH:mm:ss":      "%Y-%m-%d %H:%M:%S",
		"dd/MMM/yyyy:HH:mm:ss.SSS": "%d/%b/%Y:%H:%M:%S.%g",
		"yyyy-MM-dd'T'HH:mmXXX":    "%Y-%m-%dT%H:%M%z",
		"yy%":                      "%y%%",
	} {
		got, err := javaToStrftime(in)
		if err != nil || got != want {
			t.Errorf("javaToStrftime(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := javaToStrftime("EEE yyyy"); err == nil {
		t.Error("javaToStrftime accepted EEE")
	}
}

func TestStatsOutputByExpression(t *testing.T) {
	p, err := Compile(`stats count(*), sum(bytes) by bin(5m) | sort bin(5m) desc, count(*)`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sortList(p.Stages[0].Order); got != "bin(@timestamp, 5m) desc, count_star()" {
		t.Fatalf("order %s", got)
	}
}

func TestBinClampWarns(t *testing.T) {
	p, err := Compile(`stats count(*) by bin(300s)`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "300s is clamped to 60s") {
		t.Fatalf("warnings %v", p.Warnings)
	}
	if got := p.Stages[0].Keys[0].X.String(); got != "bin(@timestamp, 60s)" {
		t.Fatalf("key %s", got)
	}
}

func TestParseMapsOntoColumns(t *testing.T) {
	custom, err := flowlog.ParseFormat("${version} ${srcaddr} ${dstaddr} ${action}")
	if err != nil {
		t.Fatal(err)
	}
	q := `parse @message "* * * *" as v, s, d, a | fields s, a`
	p, err := Compile(q, Options{Formats: map[int]*flowlog.Format{3: custom}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Stages[0].Cols[0].X.String() + "," + p.Stages[0].Cols[1].X.String(); got != "written(srcaddr),written(action)" {
		t.Fatalf("parse mapped to %s", got)
	}
	// Numeric use reads the stored column; = with text other than "-" too.
	p, err = Compile(`parse @message "* * * *" as v, s, d, a | filter a = "ACCEPT" and v > 2 | stats count(*) by s`, Options{Formats: map[int]*flowlog.Format{3: custom}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Stages[0].Filters[0].String() + " " + p.Stages[0].Filters[1].String(); got != `=(action, "ACCEPT") >(version, 2)` {
		t.Fatalf("filters on parsed fields: %s", got)
	}
	// Two formats that disagree fall back to a regex over @message.
	p, err = Compile(q, Options{Formats: map[int]*flowlog.Format{3: custom, 4: flowlog.DefaultFormat()}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Stages[0].Cols[0].X.String(); !strings.HasPrefix(got, "regexp_extract(@message") {
		t.Fatalf("parse over mixed formats: %s", got)
	}
	// Formats are loaded only when the query needs them.
	loaded := false
	if _, err := Compile(`stats count(*) by srcAddr`, Options{LoadFormats: func() map[int]*flowlog.Format { loaded = true; return nil }}); err != nil || loaded {
		t.Fatalf("formats loaded for a query without @message (err %v)", err)
	}
}

func TestCIDRIntervals(t *testing.T) {
	tab := &Table{Columns: []string{"cidr", "owner"}, Rows: [][]string{
		{"10.0.0.0/8", "corp"},
		{"10.1.0.0/16", "vpc1"},
		{"10.1.2.0/24", "subnet"},
		{"10.1.0.0/16", "dup"},
		{"2001:db8::/32", "v6"},
		{"bad", "x"},
		{"192.168.0.0/16", "home"},
	}}
	got := fmt.Sprint(cidrIntervals(tab, 0, []int{1}))
	want := "[[167772160 167837695 corp] [167837696 167838207 vpc1] [167838208 167838463 subnet] [167838464 167903231 vpc1] [167903232 184549375 corp] [3232235520 3232301055 home]]"
	if got != want {
		t.Fatalf("intervals\n got %s\nwant %s", got, want)
	}
}

// TestJSONAccess: every spelling of an access folds into one json_get path,
// keys as strings and indexes as numbers (0-based, written as is).
func TestJSONAccess(t *testing.T) {
	f := func(q, want string) {
		t.Helper()
		p, err := Compile(q, Options{})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		last := p.Stages[len(p.Stages)-1]
		if got := last.Cols[len(last.Cols)-1].X.String(); got != want {
			t.Fatalf("%s:\n got %s\nwant %s", q, got, want)
		}
	}
	j := `json_parse(tostring(bytes))`
	f("fields jsonParse(bytes) as j | fields j.a.b[2].`c.d` as x", `json_get(`+j+`, "a", "b", 2, "c.d")`)
	f("fields jsonParse(bytes) as j | fields j.`a`.b.c[0][1] as x", `json_get(`+j+`, "a", "b", "c", 0, 1)`)
	f("fields jsonParse(bytes) as j | fields j.a as a | fields a.b as x", `json_get(`+j+`, "a", "b")`)
	f("fields jsonParse(bytes) as j, packets as i | fields j[i - 1] as x", `json_get(`+j+`, -(packets, 1))`)
	f("fields jsonParse(bytes) as j | fields j.n + 1 as x", `+(tonumber(json_text(json_get(`+j+`, "n"))), 1)`)
	f("fields jsonParse(bytes) as j | stats count(*) by j.k", `count_star()`)
	f("parse action logfmt as m | fields m.`user id` as x", `json_get(logfmt(action), "user id")`)
}
