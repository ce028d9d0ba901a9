package syntax

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePrint(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		q, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if got := q.String(); got != want {
			t.Fatalf("Parse(%q).String()\n got %q\nwant %q", in, got, want)
		}
		q2, err := Parse(q.String())
		if err != nil {
			t.Fatalf("reparse %q: %v", q.String(), err)
		}
		if q2.String() != q.String() {
			t.Fatalf("print→parse unstable: %q → %q", q.String(), q2.String())
		}
	}
	f(`fields @timestamp, @message`, `fields @timestamp, @message`)
	f("stats sum(bytes) as Data_Transferred by srcaddr | sort by Data_Transferred desc | limit 2", `stats sum(bytes) as Data_Transferred by srcaddr | sort Data_Transferred desc | limit 2`)
	f("parse @message \"* * *\"\n| as region, vpc_id,\n| az_id\n| sort start desc", `parse @message "* * *" as region, vpc_id, az_id | sort start desc`)
	f("sort BY start desc, `by` asc", "sort start desc, `by` asc")
	f("sort by (bytes + 1) desc", "sort (bytes + 1) desc")
	f(`| FIELDS srcAddr AS s`, `fields srcAddr as s`)
	f("stats sum(packets) as pkts by srcAddr, dstAddr\n| sort pkts desc\n| limit 15", `stats sum(packets) as pkts by srcAddr, dstAddr | sort pkts desc | limit 15`)
	f(`filter isIpv4InSubnet(srcAddr, "192.0.2.0/24")`, `filter isIpv4InSubnet(srcAddr, "192.0.2.0/24")`)
	f(`filter logStatus = "SKIPDATA" | stats count(*) as skipped by bin(1h) as hour | sort hour`, `filter logStatus = "SKIPDATA" | stats count(*) as skipped by bin(1h) as hour | sort hour`)
	f(`parse @message /(?<eni>eni-[0-9a-f]+) / | display eni, @message`, `parse @message /(?<eni>eni-[0-9a-f]+) / | display eni, @message`)
	f(`filter dstPort in [22, 3389] and action = "ACCEPT"`, `filter dstPort in [22, 3389] and action = "ACCEPT"`)
	f(`stats sum(bytes)/1024/1024 as MiB by bin(5m)`, `stats sum(bytes) / 1024 / 1024 as MiB by bin(5m)`)
	f("filter `flow-direction` = 'egress' and `traffic-path` = 8 | stats sum(bytes) by `pkt-dst-aws-service`", "filter `flow-direction` = \"egress\" and `traffic-path` = 8 | stats sum(bytes) by `pkt-dst-aws-service`")
	f(`filter action like /^REJ/ or action not like "ACC" | filter x =~ /a\/b/`, `filter action like /^REJ/ or action not like "ACC" | filter x =~ /a\/b/`)
	f(`filter not (a = 1 or b == 2) and c not in ["x"]`, `filter not (a = 1 or b = 2) and c not in ["x"]`)
	f(`fields bytes / packets as avg, -2 ^ 3 as p, 10 % 3 as m # comment | filter x`, `fields bytes / packets as avg, -2 ^ 3 as p, 10 % 3 as m`)
	f(`parse "user=*, id=*" as user, id | dedup user, id | limit any 5`, `parse "user=*, id=*" as user, id | dedup user, id | limit any 5`)
	f(`SOURCE 'prod' START=-1h END=0s | stats count() by bin(300s) offset 1h`, `source "prod" start=-1h end=0s | stats count() by bin(300s) offset 1h`)
	f(`SOURCE logGroups(namePrefix: ["prod", "nat"]) | unmask @message`, `source logGroups(namePrefix: ["prod", "nat"]) | unmask @message`)
	f(`countFrequent srcAddr | accum _approxcount as run`, `countFrequent srcAddr | accum _approxcount as run`)
	f(`pattern @message | diff previousDay`, `pattern @message | diff previousDay`)
	f(`lookup owners addr as srcAddr, port as dstPort OUTPUT team, app as application`, `lookup owners addr as srcAddr, port as dstPort OUTPUT team, app as application`)
	f("join type=left left=f right=t where f.srcAddr = t.addr (SOURCE 'threats' | fields addr, score) | fields t.score", `join type=left left=f right=t where f.srcAddr = t.addr (source "threats" | fields addr, score) | fields t.score`)
	f(`stats count(*) as n by bin(1h) | appendcols max=24 (stats sum(bytes) as b by bin(1h))`, `stats count(*) as n by bin(1h) | appendcols max=24 (stats sum(bytes) as b by bin(1h))`)
	f(`parse interfaceId csv as a, b | parse csv as c`, `parse interfaceId csv as a, b | parse csv as c`)
	f(`cidrlookup nets srcAddr as cidr outputnew owner`, `cidrlookup nets srcAddr as cidr OUTPUTNEW owner`)
	f(`fields concat(srcAddr, ":", srcPort) as src, a[0] as first, "q\"\\x" as s`, `fields concat(srcAddr, ":", srcPort) as src, a[0] as first, "q\"\\x" as s`)
	f(`where x > 1.5e3 and y <= .5`, `where x > 1.5e3 and y <= .5`)
	f("filter srcAddr in (SOURCE 'threats' | filter score > 5 | fields addr) | stats count(*)", `filter srcAddr in (source "threats" | filter score > 5 | fields addr) | stats count(*)`)
	f(`filter srcAddr not in (filter action = "REJECT" | dedup srcAddr | fields srcAddr)`, `filter srcAddr not in (filter action = "REJECT" | dedup srcAddr | fields srcAddr)`)
	f("fields jsonParse(@message) as j | fields j.a as a, j.`odd.key` as o, j.list[0].b as b, j.`x`.`y`[1] as y, j.l[0].a.`b.c` as c",
		"fields jsonParse(@message) as j | fields j.a as a, j.`odd.key` as o, j.list[0].b as b, j.`x`.`y`[1] as y, j.l[0].a.`b.c` as c")
	f("parse @message logfmt as m | parse LOGFMT as n | parse multi @message \"x=*,\" as x | parse MULTI /(?<d>[0-9]+)/", `parse @message logfmt as m | parse logfmt as n | parse multi @message "x=*," as x | parse multi /(?<d>[0-9]+)/`)
	f("parse `multi` \"a*\" as a | parse multi multi /(?<d>x)/ | parse j.`k` csv as a, b", "parse `multi` \"a*\" as a | parse multi multi /(?<d>x)/ | parse j.`k` csv as a, b")
}

func TestParseErrors(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := Parse(in)
		if err == nil {
			t.Fatalf("Parse(%q): no error, want %q", in, want)
		}
		if !errors.Is(err, ErrQuery) {
			t.Fatalf("Parse(%q): %v does not match ErrQuery", in, err)
		}
		if err.Error() != want {
			t.Fatalf("Parse(%q)\n got %q\nwant %q", in, err.Error(), want)
		}
	}
	f(``, `1:1: empty query: expected a command such as fields, filter or stats`)
	f(`filtr x = 1`, `1:1: unknown command "filtr" (did you mean "filter"?)`)
	f(`filter x = `, `1:12: unexpected end of query, expected an expression`)
	f(`stats count(*) by`, `1:18: unexpected end of query, expected an expression`)
	f(`fields a |`, `1:11: expected a command after "|"`)
	f(`filter a = "x`, `1:12: unterminated string: a closing " is missing`)
	f(`filter a like 5`, `1:15: unexpected "5", expected a "string" or /regex/ after "like"`)
	f(`limit 0`, `1:7: limit must be a whole number of rows, at least 1 (got 0)`)
	f(`stats count(*) by bin(5x)`, `1:23: invalid number or time period "5x" (units: ms, s, m, h, d, w, mo, q, y)`)
	f(`filter a <> 1`, `1:10: "<>" is not an operator: write "!="`)
	f("fields a\n| filter b = (1", `2:16: unexpected end of query, expected ")"`)
	f(`fields a b`, `1:10: unexpected "b", expected "|" or end of query`)
	f(`parse logfmt as m, n`, `1:20: logfmt puts every key=value pair into one map: write parse … logfmt as m, then m.key`)
	f(`parse multi csv as a`, `1:13: multi extracts every match of a glob or regex pattern; csv takes no multi`)
	f(`fields a[0].(b)`, `1:12: expected a key name right after "." (quote odd keys in backticks: x.`+"`odd.key`"+`)`)
	f(`parse @message 5`, `1:16: unexpected "5", expected a "glob * pattern", a /regex/, csv or logfmt`)
	f(`filter a in (fields b c)`, `1:23: unexpected "c", expected "|" or ")"`)
	f(`filter a in (fields b`, `1:22: unexpected end of query, expected ")" after the subquery`)
	f(`filter `+strings.Repeat("(", 300)+"1"+strings.Repeat(")", 300), `1:208: expression nested too deeply (more than 200 levels)`)
}

func TestErrorDetail(t *testing.T) {
	_, err := Parse("fields a\n| filter b = (1")
	want := "2:16: unexpected end of query, expected \")\"\n  | filter b = (1\n                 ^"
	if got := Detail(err); got != want {
		t.Fatalf("Detail:\n%s\nwant:\n%s", got, want)
	}
}

func TestPositions(t *testing.T) {
	src := `filter srcAddr = "10.0.0.1" | stats count(*) as n by dstPort`
	q, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Inspect(q, func(n Node) bool {
		if f, ok := n.(*Field); ok {
			got = append(got, src[f.Pos():f.EndPos()])
		}
		return true
	})
	want := []string{"srcAddr", "n", "dstPort"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("fields by position: %v, want %v", got, want)
	}
}

// The articles' shorthand: a command on its own line without "|", and "..."
// for the lines above; both refused where they stand, saying what to write.
func TestArticleShorthandErrors(t *testing.T) {
	for q, want := range map[string]string{
		"parse @message \"* *\" as a, b\nfilter a=\"REJECT\"": `2:1: unexpected "filter", expected "|" or end of query: commands are separated by "|" (write | filter …)`,
		"...\n| filter action=\"REJECT\"":                     `1:1: unexpected "...": it stands for the lines written before it in the text (such as the parse command): write them out`,
	} {
		_, err := Parse(q)
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", q, err, want)
		}
	}
}
