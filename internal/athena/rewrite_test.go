package athena

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var testOptions = Options{Tables: []string{"prod-vpc", "nat"}, Databases: []string{"flowdb"}}

func TestRewrite(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", `SELECT 1`, `SELECT 1`},
		// date_format / date_parse
		{"date_format", `SELECT date_format(from_unixtime(start), '%Y-%m-%d %H:%i:%s') FROM flows`,
			`SELECT strftime(CAST(from_unixtime(start) AS TIMESTAMP), '%Y-%m-%d %H:%M:%S') FROM flows`},
		{"date_format case", `select DATE_FORMAT(ts , '%M %e, %Y' ) x`, `select strftime(CAST(ts  AS TIMESTAMP), '%B %-d, %Y' ) x`},
		{"date_parse", `SELECT date_parse('2024/05/31', '%Y/%m/%d')`, `SELECT strptime('2024/05/31', '%Y/%m/%d')`},
		{"date_format nested parens", `SELECT date_format(concat(a, ','), 'it''s %T')`,
			`SELECT strftime(CAST(concat(a, ',') AS TIMESTAMP), 'it''s %H:%M:%S')`},
		{"date_format variable format", `SELECT date_format(ts, fmt)`, `SELECT date_format(ts, fmt)`},
		{"other function", `SELECT my_date_format(ts, '%i')`, `SELECT my_date_format(ts, '%i')`},
		{"unclosed call", `SELECT date_format(ts`, `SELECT date_format(ts`},
		{"format_datetime", `SELECT format_datetime(from_unixtime(start), 'yyyy-MM-dd''T''HH:mm') FROM flows`,
			`SELECT strftime(CAST(from_unixtime(start) AS TIMESTAMP), '%Y-%m-%dT%H:%M') FROM flows`},
		{"date_add", `SELECT date_add('day', -7, current_date), date_add(current_date, INTERVAL 1 DAY)`,
			`SELECT date_add_presto('day', -7, current_date), date_add(current_date, INTERVAL 1 DAY)`},
		{"date_format in string", `SELECT 'date_format(ts, ''%i'')' AS s`, `SELECT 'date_format(ts, ''%i'')' AS s`},
		{"date_format of legacy", `SELECT date_format(from_unixtime(starttime), '%H:%i') AS m FROM vpc_flow_logs`,
			`SELECT strftime(CAST(from_unixtime(starttime) AS TIMESTAMP), '%H:%M') AS m FROM (SELECT *, start AS starttime FROM vpc_flow_logs) AS vpc_flow_logs`},

		// legacy names
		{"legacy where", `SELECT count(*) FROM vpc_flow_logs WHERE sourceaddress = '10.0.0.1' AND numbytes > 100`,
			`SELECT count(*) FROM (SELECT *, srcaddr AS sourceaddress, bytes AS numbytes FROM vpc_flow_logs) AS vpc_flow_logs WHERE sourceaddress = '10.0.0.1' AND numbytes > 100`},
		{"legacy case, quotes, alias", "SELECT SourceAddress FROM \"prod-vpc\" p WHERE \"NumBytes\" > 1 AND `logstatus` = 'OK'",
			`SELECT SourceAddress FROM (SELECT *, srcaddr AS sourceaddress, bytes AS numbytes, log_status AS logstatus FROM "prod-vpc") p WHERE "NumBytes" > 1 AND "logstatus" = 'OK'`},
		{"legacy end, db, AS alias", `SELECT endtime - starttime AS d FROM db.vpc_flow_logs AS v`,
			`SELECT endtime - starttime AS d FROM (SELECT *, start AS starttime, "end" AS endtime FROM vpc_flow_logs) AS v`},
		{"legacy join and CTE", `WITH t AS (SELECT account, sum(numbytes) AS b FROM flows GROUP BY account) SELECT t.account, b FROM t JOIN nat ON nat.account = t.account`,
			`WITH t AS (SELECT account, sum(numbytes) AS b FROM (SELECT *, account_id AS account, bytes AS numbytes FROM flows) AS flows GROUP BY account) SELECT t.account, b FROM t JOIN (SELECT *, account_id AS account, bytes AS numbytes FROM nat) AS nat ON nat.account = t.account`},
		{"legacy defined by AS", `SELECT account_id AS account FROM vpc_flow_logs ORDER BY account`,
			`SELECT account_id AS account FROM vpc_flow_logs ORDER BY account`},
		{"legacy defined by alias", `SELECT x.account FROM (SELECT count(*) account FROM flows) x`,
			`SELECT x.account FROM (SELECT count(*) account FROM flows) x`},
		{"legacy defined as CTE", `WITH numbytes AS (SELECT 1) SELECT * FROM numbytes`, `WITH numbytes AS (SELECT 1) SELECT * FROM numbytes`},
		{"table defined as CTE", `WITH vpc_flow_logs AS (SELECT 1 AS x) SELECT numbytes FROM vpc_flow_logs`,
			`WITH vpc_flow_logs AS (SELECT 1 AS x) SELECT numbytes FROM vpc_flow_logs`},
		{"legacy in string and comment", `SELECT 'sourceaddress' -- numbytes
/* account */ FROM flows`, `SELECT 'sourceaddress' -- numbytes
/* account */ FROM flows`},
		{"legacy function name", `SELECT account(1) FROM flows`, `SELECT account(1) FROM flows`},
		{"legacy other table", `SELECT numbytes FROM information_schema.tables, flows_5m`, `SELECT numbytes FROM information_schema.tables, flows_5m`},
		{"legacy nested parens", `SELECT ((((numbytes)))) FROM flows, "nat"`,
			`SELECT ((((numbytes)))) FROM (SELECT *, bytes AS numbytes FROM flows) AS flows, (SELECT *, bytes AS numbytes FROM "nat") AS "nat"`},

		// address equality: the integer form beside the text
		{"addr eq", `SELECT * FROM vpc_flow_logs WHERE srcaddr = '10.0.0.1' AND action = 'ACCEPT'`,
			`SELECT * FROM vpc_flow_logs WHERE (srcaddr = '10.0.0.1' AND _srcaddr_v4 = 167772161) AND action = 'ACCEPT'`},
		{"addr eq reversed qualified", `SELECT * FROM flows f WHERE '8.8.8.8' = f.dstaddr OR f.srcaddr = '1.2.3.4'`,
			`SELECT * FROM flows f WHERE ('8.8.8.8' = f.dstaddr AND f._dstaddr_v4 = 134744072) OR (f.srcaddr = '1.2.3.4' AND f._srcaddr_v4 = 16909060)`},
		{"addr eq not canonical", `SELECT * FROM flows WHERE srcaddr = '010.0.0.1' OR srcaddr = '2001:db8::1' OR srcaddr = 'x'`,
			`SELECT * FROM flows WHERE srcaddr = '010.0.0.1' OR srcaddr = '2001:db8::1' OR srcaddr = 'x'`},
		{"addr eq other table", `SELECT * FROM other WHERE srcaddr = '10.0.0.1'`, `SELECT * FROM other WHERE srcaddr = '10.0.0.1'`},
		{"addr eq other qualifier", `SELECT * FROM flows f JOIN other o ON true WHERE o.srcaddr = '10.0.0.1'`,
			`SELECT * FROM flows f JOIN other o ON true WHERE o.srcaddr = '10.0.0.1'`},
		{"addr eq two flows unqualified", `SELECT * FROM flows a, flows b WHERE srcaddr = '10.0.0.1'`,
			`SELECT * FROM flows a, flows b WHERE srcaddr = '10.0.0.1'`},
		{"addr eq not a whole operand", `SELECT * FROM flows WHERE srcaddr = '10.0.0.1' || ''`,
			`SELECT * FROM flows WHERE srcaddr = '10.0.0.1' || ''`},
		{"addr eq alias", `SELECT dstaddr AS srcaddr FROM flows WHERE srcaddr = '10.0.0.1'`,
			`SELECT dstaddr AS srcaddr FROM flows WHERE srcaddr = '10.0.0.1'`},

		// day
		{"day eq", `SELECT count(*) FROM vpc_flow_logs WHERE day = '2024/05/31'`,
			`SELECT count(*) FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE (_hour >= 1717113600 AND _hour < 1717200000)`},
		{"day range", `FROM vpc_flow_logs WHERE day >= '2024/05/01' AND day < '2024/06/01'`,
			`FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE (_hour >= 1714521600) AND (_hour < 1717200000)`},
		{"day le gt ne", `FROM vpc_flow_logs WHERE day <= '2024/05/31' OR day > '2024/05/31' OR day <> '2024/05/31'`,
			`FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE (_hour < 1717200000) OR (_hour >= 1717200000) OR (_hour < 1717113600 OR _hour >= 1717200000)`},
		{"day reversed", `FROM vpc_flow_logs WHERE '2024/05/31' <= day`, `FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE (_hour >= 1717113600)`},
		{"day between", `FROM vpc_flow_logs WHERE day BETWEEN '2024/05/30' AND '2024/05/31' AND action = 'ACCEPT'`,
			`FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE (_hour >= 1717027200 AND _hour < 1717200000) AND action = 'ACCEPT'`},
		{"day not between", `FROM vpc_flow_logs WHERE day NOT BETWEEN '2024/05/30' AND '2024/05/31'`,
			`FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE (_hour < 1717027200 OR _hour >= 1717200000)`},
		{"day in", `FROM vpc_flow_logs WHERE day IN ('2024/05/30', '2024/05/31')`,
			`FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE ((_hour >= 1717027200 AND _hour < 1717113600) OR (_hour >= 1717113600 AND _hour < 1717200000))`},
		{"day not in", `FROM vpc_flow_logs WHERE day NOT IN ('2024/05/30')`, `FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE NOT ((_hour >= 1717027200 AND _hour < 1717113600))`},
		{"day qualified quoted", `SELECT 1 FROM vpc_flow_logs v WHERE v."day" = '2024/05/31'`,
			`SELECT 1 FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) v WHERE (v._hour >= 1717113600 AND v._hour < 1717200000)`},
		{"day other qualifier", `SELECT 1 FROM vpc_flow_logs v, t WHERE t.day = '2024/05/31'`,
			`SELECT 1 FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) v, t WHERE t.day = '2024/05/31'`},
		{"day partial literal", `FROM vpc_flow_logs WHERE day >= '2024/05'`, `FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE day >= '2024/05'`},
		{"day like", `SELECT day FROM vpc_flow_logs WHERE day LIKE '2024/05/%'`, `SELECT day FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE day LIKE '2024/05/%'`},
		{"day in mixed", `FROM vpc_flow_logs WHERE day IN ('2024/05/31', '2024/5/1')`, `FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE day IN ('2024/05/31', '2024/5/1')`},
		{"day invalid date", `FROM vpc_flow_logs WHERE day = '2024/02/30'`, `FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE day = '2024/02/30'`},
		{"day outside the block", `SELECT day, n FROM (SELECT day, count(*) AS n FROM vpc_flow_logs_pp GROUP BY day) WHERE day = '2024/05/31'`,
			`SELECT day, n FROM (SELECT day, count(*) AS n FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs_pp GROUP BY day) WHERE day = '2024/05/31'`},
		{"day without a view", `WHERE day = '2024/05/31'`, `WHERE day = '2024/05/31'`},
		{"day hive form", `FROM vpc_flow_logs WHERE year = '2024' AND month = '05' AND day = '31'`,
			`FROM vpc_flow_logs WHERE year = '2024' AND month = '05' AND day = '31'`},
		{"day defined", `SELECT strftime("date", '%Y/%m/%d') AS day FROM flows WHERE day = '2024/05/31'`,
			`SELECT strftime("date", '%Y/%m/%d') AS day FROM flows WHERE day = '2024/05/31'`},
		{"day interval", `SELECT current_date - INTERVAL '7' DAY = '2024/05/31' FROM flows`, `SELECT current_date - INTERVAL '7' DAY = '2024/05/31' FROM flows`},
		{"day in string", `SELECT 'day = ''2024/05/31''' FROM flows`, `SELECT 'day = ''2024/05/31''' FROM flows`},
		{"day tighter operator", `FROM flows WHERE x || day = '2024/05/31'`, `FROM flows WHERE x || day = '2024/05/31'`},
		{"day comment kept", `FROM vpc_flow_logs WHERE day /* d */ = '2024/05/31'`, `FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs WHERE (_hour >= 1717113600 AND _hour < 1717200000) /* d */`},

		// '-'
		{"dash eq", `SELECT * FROM vpc_flow_logs WHERE action = '-'`, `SELECT * FROM vpc_flow_logs WHERE action IS NULL`},
		{"dash ne", `WHERE instance_id <> '-' AND x != '-'`, `WHERE instance_id IS NOT NULL AND x IS NOT NULL`},
		{"dash tight", `WHERE action='-'AND 1=1`, `WHERE action IS NULL AND 1=1`},
		{"dash reversed", `WHERE '-' = logstatus`, `WHERE logstatus IS NULL`},
		{"dash other literal", `WHERE action = '--'`, `WHERE action = '--'`},
		{"dash expression", `WHERE lower(action) = '-' OR a || b = '-'`, `WHERE lower(action) = '-' OR a || b = '-'`},
		{"dash in string", `SELECT 'action = ''-''' AS s`, `SELECT 'action = ''-''' AS s`},

		// tables
		{"db table", `SELECT * FROM mydb.vpc_flow_logs`, `SELECT * FROM vpc_flow_logs`},
		{"quoted db table", `SELECT * FROM "mydb"."vpc_flow_logs" WHERE 1 = 1`, `SELECT * FROM "vpc_flow_logs" WHERE 1 = 1`},
		{"backticked db table", "SELECT * FROM `mydb`.`prod-vpc`", `SELECT * FROM "prod-vpc"`},
		{"catalog db table", `SELECT * FROM awsdatacatalog.mydb.flows`, `SELECT * FROM flows`},
		{"configured database", `SELECT * FROM flowdb.flows_5m JOIN FlowDB.something s ON true`, `SELECT * FROM flows_5m JOIN something s ON true`},
		{"unknown db and table", `SELECT * FROM information_schema.tables`, `SELECT * FROM information_schema.tables`},
		{"qualified column with db", `SELECT mydb.vpc_flow_logs.srcaddr FROM mydb.vpc_flow_logs`, `SELECT vpc_flow_logs.srcaddr FROM vpc_flow_logs`},
		{"projection table", `SELECT count(*) FROM vpc_flow_logs_pp WHERE day >= '2024/05/01'`,
			`SELECT count(*) FROM (SELECT * REPLACE (strftime("date", '%Y/%m/%d') AS day) FROM vpc_flow_logs) AS vpc_flow_logs_pp WHERE (_hour >= 1714521600)`},
		{"projection table quoted", `SELECT count(*) FROM "db"."vpc_flow_logs_pp" p`, `SELECT count(*) FROM vpc_flow_logs p`},
		{"projection table quoted, alias without a space", `SELECT count(*) FROM "vpc_flow_logs_pp"p`, `SELECT count(*) FROM vpc_flow_logs p`},
		{"projection table keeps its name", `SELECT vpc_flow_logs_pp.srcaddr FROM vpc_flow_logs_pp`,
			`SELECT vpc_flow_logs_pp.srcaddr FROM vpc_flow_logs AS vpc_flow_logs_pp`},
		{"dataset named like Athena", `SELECT * FROM vpc_flow_logs_pp`, `SELECT * FROM vpc_flow_logs_pp`},
		{"backtick identifier", "SELECT `end`, `a``b` FROM t", `SELECT "end", "a` + "`" + `b" FROM t`},
		{"backtick with quote", "SELECT `a\"b`", `SELECT "a""b"`},

		// strings and comments that must stay as written
		{"E string", `SELECT E'it\'s day = ''2024/05/31''' AS x`, `SELECT E'it\'s day = ''2024/05/31''' AS x`},
		{"dollar string", `SELECT $$ numbytes = '-' $$ AS x`, `SELECT $$ numbytes = '-' $$ AS x`},
		{"nested comment", `SELECT /* a /* numbytes */ sourceaddress */ 1`, `SELECT /* a /* numbytes */ sourceaddress */ 1`},
		{"statements", "SELECT numbytes FROM flows; SELECT action = '-' FROM flows;",
			`SELECT numbytes FROM (SELECT *, bytes AS numbytes FROM flows) AS flows; SELECT action IS NULL FROM flows;`},
	}
	opt := testOptions
	opt.Tables = append(opt.Tables[:len(opt.Tables):len(opt.Tables)], "vpc_flow_logs_pp")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := testOptions
			if c.name == "dataset named like Athena" {
				o = opt
			}
			got, err := Rewrite(c.in, o)
			if err != nil {
				t.Fatalf("Rewrite(%q): %v", c.in, err)
			}
			if got != c.want {
				t.Errorf("Rewrite(%q)\n got %s\nwant %s", c.in, got, c.want)
			}
			again, err := Rewrite(got, o)
			if err != nil || again != got {
				t.Errorf("Rewrite is not idempotent: %q → %q (%v)", got, again, err)
			}
		})
	}
}

func TestRewriteErrors(t *testing.T) {
	cases := []struct {
		in    string
		class error
		want  string
	}{
		{`SELECT "$path", count(*) FROM vpc_flow_logs GROUP BY 1`, ErrUnsupported, `1:8: the pseudo-column "$path" is not available`},
		{"SELECT 1\nFROM t WHERE `$PATH` LIKE '%x'", ErrUnsupported, `2:14: the pseudo-column "$PATH"`},
		{"SELECT 'abc\nFROM t", ErrSyntax, "1:8: unterminated string"},
		{"SELECT é, \"abc", ErrSyntax, "1:11: unterminated quoted identifier"},
		{"SELECT 1 /* x", ErrSyntax, "1:10: unterminated comment"},
		{"SELECT `x", ErrSyntax, "1:8: unterminated backticked identifier"},
		{"SELECT $a$ x", ErrSyntax, "1:8: unterminated string"},
	}
	for _, c := range cases {
		_, err := Rewrite(c.in, testOptions)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, c.class) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Rewrite(%q): error %v, want %q (%v)", c.in, err, c.want, c.class)
		}
	}
	// "$path" inside a string is only text.
	if _, err := Rewrite(`SELECT '"$path"'`, testOptions); err != nil {
		t.Errorf("string: %v", err)
	}
}

func TestTokenizeRoundTrip(t *testing.T) {
	in := "SELECT a.\"b\"\"c\", `d`, 'e''f', E'g\\'', $$h$$, $t$i$t$, 1.5e3, .5, 1_000, $1, ?, x::int, y->>'k' -- c\n/* d /* e */ */ <> != ;"
	toks, err := Tokenize(in)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var kinds []string
	for _, tk := range toks {
		b.WriteString(tk.Text)
		if tk.Significant() {
			kinds = append(kinds, tk.Kind.String()+":"+tk.Text)
		}
	}
	if b.String() != in {
		t.Errorf("tokens do not give back the text:\n%s", b.String())
	}
	want := []string{"identifier:SELECT", "identifier:a", "operator:.", `quoted identifier:"b""c"`, "operator:,",
		"backticked identifier:`d`", "operator:,", "string:'e''f'", "operator:,", `string:E'g\''`, "operator:,",
		"string:$$h$$", "operator:,", "string:$t$i$t$", "operator:,", "number:1.5e3", "operator:,", "number:.5",
		"operator:,", "number:1_000", "operator:,", "parameter:$1", "operator:,", "parameter:?", "operator:,",
		"identifier:x", "operator:::", "identifier:int", "operator:,", "identifier:y", "operator:->>", "string:'k'",
		"operator:<>", "operator:!=", "operator:;"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Errorf("tokens\n got %v\nwant %v", kinds, want)
	}
}

func TestConvertJodaFormat(t *testing.T) {
	cases := map[string]string{
		"yyyy-MM-dd HH:mm:ss.SSS": "%Y-%m-%d %H:%M:%S.%g",
		"EEEE d MMMM yy, h a":     "%A %-d %B %y, %-I %p",
		"yyyy-MM-dd'T'HH":         "%Y-%m-%dT%H",
		"'100%' 'it''s'":          "100%% it's",
		"HH'h":                    "%Hh",
		"qq":                      "qq",
	}
	for in, want := range cases {
		if got := ConvertJodaFormat(in); got != want {
			t.Errorf("ConvertJodaFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConvertFormat(t *testing.T) {
	cases := map[string]string{
		"%Y-%m-%d %H:%i:%s": "%Y-%m-%d %H:%M:%S",
		"%W %M %e %c %k %l": "%A %B %-d %-m %-H %-I",
		"100%":              "100%",
		"%%":                "%%",
		"%r":                "%I:%M:%S %p",
	}
	for in, want := range cases {
		if got := ConvertFormat(in); got != want {
			t.Errorf("ConvertFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRewrite checks the invariants of Rewrite on any text: it never
// panics; what tokenizes still tokenizes after it; rewriting twice changes
// nothing more; comments come back as written and string literals that no
// rewrite concerns ('/' dates, '-', date formats) come back in order; a text
// without any rewritten construct comes back unchanged. Prepare and
// Classify never panic either.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		`SELECT date_format(from_unixtime(start), '%Y-%m-%d %H:%i') FROM flows`,
		`SELECT sourceaddress, sum(numbytes) FROM "db"."vpc_flow_logs" WHERE day = '2024/05/31' GROUP BY 1`,
		`SELECT * FROM vpc_flow_logs_pp WHERE day BETWEEN '2024/05/01' AND '2024/05/31' AND action = '-'`,
		"SELECT `end` FROM `db`.`prod-vpc` WHERE day IN ('2024/05/01', '2024/5') -- numbytes\n",
		`WITH account AS (SELECT 1 account) SELECT account FROM account; SELECT '-' <> logstatus`,
		`date_parse('x', '%Y')`, `date_format(a, 'b'`, `date_format((((, ''')`, `SELECT 'date_format(' FROM t`,
		`SELECT E'\'' , $$x$$, /* /* */ */ 1`, `CREATE EXTERNAL TABLE t (a int) PARTITIONED BY (dt string)`,
		`ALTER TABLE t ADD PARTITION (dt='x')`, `MSCK REPAIR TABLE t`, `SELECT "$path" FROM t`,
	} {
		f.Add(s)
	}
	triggers := []string{"day", "-'", "`", ".", "date_", "vpc_flow_logs", "end", "s3object"}
	for name := range LegacyColumns() {
		triggers = append(triggers, name)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		_, _ = Prepare(s, testOptions)
		_, _, _ = Classify(s)
		out, err := Rewrite(s, testOptions)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Rewrite(%q): error %v is not an *Error", s, err)
			}
			return
		}
		in, err := Tokenize(s)
		if err != nil {
			t.Fatalf("Rewrite accepted %q that does not tokenize: %v", s, err)
		}
		outToks, err := Tokenize(out)
		if err != nil {
			t.Fatalf("Rewrite(%q) = %q does not tokenize: %v", s, out, err)
		}
		again, err := Rewrite(out, testOptions)
		if err != nil || again != out {
			t.Fatalf("Rewrite is not idempotent on %q:\n once  %q\n twice %q (%v)", s, out, again, err)
		}
		if a, b := texts(in, TokComment), texts(outToks, TokComment); !slices.Equal(a, b) {
			t.Fatalf("Rewrite(%q) changed comments %q into %q", s, a, b)
		}
		outStrings := texts(outToks, TokString)
		// format_datetime's Joda pattern is converted.
		joda := strings.Contains(strings.ToLower(s), "format_datetime")
		for _, lit := range texts(in, TokString) {
			if joda {
				break
			}
			if strings.ContainsAny(lit, "/%") || lit == "'-'" {
				continue
			}
			i := slices.Index(outStrings, lit)
			if i < 0 {
				t.Fatalf("Rewrite(%q) = %q lost or changed the string %s", s, out, lit)
			}
			outStrings = outStrings[i+1:]
		}
		low := strings.ToLower(s)
		for _, w := range triggers {
			if strings.Contains(low, w) {
				return
			}
		}
		if out != s {
			t.Fatalf("Rewrite changed %q into %q", s, out)
		}
	})
}

func texts(toks []Token, kind TokenKind) []string {
	var out []string
	for _, t := range toks {
		if t.Kind == kind {
			out = append(out, t.Text)
		}
	}
	return out
}
