package athena

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Options says what the database holds, for Rewrite and Prepare.
type Options struct {
	// Tables are the views with the flows columns besides the built-in
	// ones (flows, vpc_flow_logs, vpc_flow_logs_parquet): the dataset
	// views. Any database name before one of them is dropped, and they
	// provide the legacy column names.
	Tables []string
	// OtherTables are the database's other tables and views: any database
	// name before one of them is dropped.
	OtherTables []string
	// Databases are database names dropped before any table name.
	Databases []string
}

// builtinTables are the views every flowlens database has.
var builtinTables = []string{"flows", "flows_5m", "flows_rejects", "vpc_flow_logs", "vpc_flow_logs_parquet"}

// athenaTablePrefix: other tables of AWS's Athena material (vpc_flow_logs_pp
// for partition projection, …) reach vpc_flow_logs.
const athenaTablePrefix = "vpc_flow_logs"

// rewriter holds the tokens of one SQL text and their replacement text.
type rewriter struct {
	sql  string
	toks []Token
	// out is the text written for each token (its Text unless rewritten).
	out []string
	// sig is the token index of each significant token.
	sig []int
	// closing is, for each significant '(' or '[', the index of the one
	// closing it (-1 when none does).
	closing []int
	// lineStarts are the offsets where lines start, for positions.
	lineStarts []int
	opt        Options
}

func newRewriter(sql string, opt Options) (*rewriter, error) {
	toks, err := Tokenize(sql)
	if err != nil {
		return nil, err
	}
	r := &rewriter{sql: sql, toks: toks, out: make([]string, len(toks)), opt: opt}
	for i, t := range toks {
		r.out[i] = t.Text
		if t.Significant() {
			r.sig = append(r.sig, i)
		}
	}
	r.closing = make([]int, len(r.sig))
	var open []int
	for j := range r.sig {
		r.closing[j] = -1
		switch {
		case r.isOp(j, "(", "["):
			open = append(open, j)
		case r.isOp(j, ")", "]") && len(open) > 0:
			r.closing[open[len(open)-1]] = j
			open = open[:len(open)-1]
		}
	}
	r.lineStarts = []int{0}
	for i := 0; i < len(sql); i++ {
		if sql[i] == '\n' {
			r.lineStarts = append(r.lineStarts, i+1)
		}
	}
	return r, nil
}

// position returns the position of byte offset off.
func (r *rewriter) position(off int) Position {
	line, _ := slices.BinarySearch(r.lineStarts, off+1)
	start := r.lineStarts[line-1]
	return Position{Offset: off, Line: line, Col: utf8.RuneCountInString(r.sql[start:off]) + 1}
}

// Rewrite turns Athena (Presto) SQL into DuckDB SQL over flowlens's views,
// token by token, so that string literals and comments are never touched:
//   - backticked identifiers become double-quoted;
//   - `db.table`, `"db"."table"` and `catalog.db.table` lose the database
//     part when the table is one the database has or the database is one of
//     Options.Databases; other vpc_flow_logs_* tables read vpc_flow_logs
//     under their own name;
//   - the legacy column names of AWS's older DDL (sourceaddress, numbytes,
//     interfaceid, account, starttime, endtime, logstatus, …) become columns
//     of the views the statement reads, unless it defines the name itself;
//   - when `day` is compared with a 'yyyy/MM/dd' string (=, <>, <, BETWEEN,
//     IN, LIKE), the views give day in that form, and the whole-date
//     comparisons of a block reading a view become _hour ranges (pruned);
//   - `col = '-'` and `col <> '-'` become `col IS NULL` / `IS NOT NULL`;
//   - date_format / format_datetime / date_parse with a literal format
//     become strftime / strptime, and Presto's three-argument date_add
//     the date_add_presto macro.
//
// Athena's pseudo-columns ("$path", …) are refused with their position.
func Rewrite(sql string, opt Options) (string, error) {
	r, err := newRewriter(sql, opt)
	if err != nil {
		return "", err
	}
	for _, st := range r.statements() {
		if err := r.rewriteStatement(st); err != nil {
			return "", err
		}
	}
	return r.text(0, len(r.toks)), nil
}

// text returns the output of tokens [from, to).
func (r *rewriter) text(from, to int) string {
	var b strings.Builder
	for _, s := range r.out[from:to] {
		b.WriteString(s)
	}
	return b.String()
}

// span is a statement: significant tokens [lo, hi), without its ';'.
type span struct{ lo, hi int }

// statements splits the significant tokens at the top-level semicolons.
func (r *rewriter) statements() []span {
	var out []span
	lo, depth := 0, 0
	for j := range r.sig {
		switch {
		case r.isOp(j, "("):
			depth++
		case r.isOp(j, ")"):
			if depth > 0 {
				depth--
			}
		case r.isOp(j, ";") && depth == 0:
			out = append(out, span{lo, j})
			lo = j + 1
		}
	}
	if lo < len(r.sig) {
		out = append(out, span{lo, len(r.sig)})
	}
	return out
}

func (r *rewriter) rewriteStatement(st span) error {
	s := newScope(r, st)
	for j := st.lo; j < st.hi; j++ {
		t := r.tok(j)
		if t.Kind == TokBIdent {
			name, _ := t.Name()
			r.set(j, quoteIdent(name))
		}
		if t.Kind == TokQIdent || t.Kind == TokBIdent {
			if name, _ := t.Name(); pseudoColumns[strings.ToLower(name)] {
				return errorAt(r.sql, t.Pos, ErrUnsupported, "the pseudo-column "+quoteIdent(name)+
					" is not available: flowlens keeps records, not S3 objects (the files ingested are listed in the"+
					" ingest_registry table)")
			}
		}
	}
	s.rewriteBareEnd()
	s.rewriteS3Object()
	s.rewriteTables()
	s.findDay()
	s.rewriteViews()
	s.applyDay()
	s.rewriteAddrEq()
	s.rewriteDash()
	s.rewriteDateFormat()
	return nil
}

// pseudoColumns are Athena's hidden columns of a table's S3 objects.
var pseudoColumns = map[string]bool{"$path": true, "$bucket": true, "$file_size": true, "$file_modified_time": true}

// tok returns the significant token j (a zero Token outside the text).
func (r *rewriter) tok(j int) Token {
	if j < 0 || j >= len(r.sig) {
		return Token{}
	}
	return r.toks[r.sig[j]]
}

// name returns the identifier significant token j names.
func (r *rewriter) name(j int) (string, bool) {
	if j < 0 || j >= len(r.sig) {
		return "", false
	}
	n, ok := r.tok(j).Name()
	return strings.ToLower(n), ok
}

// isOp reports whether significant token j is one of the operators.
func (r *rewriter) isOp(j int, ops ...string) bool {
	t := r.tok(j)
	return j >= 0 && j < len(r.sig) && t.Kind == TokOp && slices.Contains(ops, t.Text)
}

// isKw reports whether significant token j is one of the (lower-case)
// unquoted keywords.
func (r *rewriter) isKw(j int, kws ...string) bool {
	t := r.tok(j)
	return j >= 0 && j < len(r.sig) && t.Kind == TokIdent && slices.Contains(kws, strings.ToLower(t.Text))
}

// keyword reports whether significant token j is an unquoted SQL keyword.
func (r *rewriter) keyword(j int) bool {
	t := r.tok(j)
	return j >= 0 && j < len(r.sig) && t.Kind == TokIdent && keywords[strings.ToLower(t.Text)]
}

// set replaces the text of significant token j.
func (r *rewriter) set(j int, text string) { r.out[r.sig[j]] = text }

// replace replaces significant tokens [from, to] (and the space between
// them) with text; comments inside the range are kept after it.
func (r *rewriter) replace(from, to int, text string) {
	r.out[r.sig[from]] = text
	for i := r.sig[from] + 1; i <= r.sig[to]; i++ {
		t := r.toks[i]
		switch {
		case t.Kind == TokComment && strings.HasPrefix(t.Text, "--"):
			r.out[i] = " " + t.Text + "\n"
		case t.Kind == TokComment:
			r.out[i] = " " + t.Text
		default:
			r.out[i] = ""
		}
	}
}

// scope is one statement being rewritten, with what the rewrites need to
// know of its structure.
type scope struct {
	r      *rewriter
	lo, hi int
	// clause is, for each significant token, the clause it belongs to at
	// its parenthesis depth: "select", "from", "where", "group", …
	clause []string
	// defines marks tokens in a defining position (an alias, a CTE name).
	defines []bool
	// defined are the names the statement defines.
	defined map[string]bool
	// block is, for each significant token, the index of the parenthesis
	// it is inside (-1 at the top level): tokens of one query block share it.
	block []int
	// days are the comparisons of day with 'yyyy/MM/dd' strings.
	days []dayMatch
	// flowsAliases are, per block, the names under which it reads views
	// with the flows columns.
	flowsAliases map[int][]string
}

// clauseKeywords start a clause; JOIN continues the FROM clause.
var clauseKeywords = map[string]string{
	"select": "select", "from": "from", "join": "from", "where": "where", "group": "group", "having": "having",
	"order": "order", "limit": "limit", "offset": "limit", "qualify": "qualify", "window": "window", "on": "on",
	"using": "using", "union": "", "intersect": "", "except": "", "values": "values", "set": "set", "returning": "select",
	"into": "into", "table": "table",
}

func newScope(r *rewriter, st span) *scope {
	s := &scope{r: r, lo: st.lo, hi: st.hi, defined: map[string]bool{}}
	n := st.hi - st.lo
	s.clause = make([]string, n)
	s.defines = make([]bool, n)
	s.block = make([]int, n)
	s.flowsAliases = map[int][]string{}
	stack := []string{""}
	blocks := []int{-1}
	for j := st.lo; j < st.hi; j++ {
		s.block[j-s.lo] = blocks[len(blocks)-1]
		switch {
		case r.isOp(j, "("):
			s.clause[j-s.lo] = stack[len(stack)-1]
			stack = append(stack, "")
			blocks = append(blocks, j)
			continue
		case r.isOp(j, ")"):
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
				blocks = blocks[:len(blocks)-1]
			}
		case r.tok(j).Kind == TokIdent:
			kw := strings.ToLower(r.tok(j).Text)
			if c, ok := clauseKeywords[kw]; ok && !(kw == "from" && r.isKw(j-1, "distinct")) {
				stack[len(stack)-1] = c
			}
		}
		s.clause[j-s.lo] = stack[len(stack)-1]
	}
	for j := st.lo; j < st.hi; j++ {
		name, ok := r.name(j)
		if !ok || !s.definingPosition(j) {
			continue
		}
		s.defines[j-s.lo] = true
		// `sourceaddress AS sourceaddress` names the legacy column's
		// result as Athena did: the reference is still rewritten.
		if prev, _ := r.name(j - 2); r.isKw(j-1, "as") && prev == name && !r.isOp(j-3, ".") {
			continue
		}
		s.defined[name] = true
	}
	return s
}

// definingPosition reports whether significant token j (an identifier)
// defines a name: after AS, a CTE's name, or an alias without AS.
func (s *scope) definingPosition(j int) bool {
	r := s.r
	if r.isOp(j+1, ".", "(") {
		return false
	}
	if r.isKw(j-1, "as") {
		return true
	}
	if r.isKw(j+1, "as") && r.isOp(j+2, "(") {
		return true // WITH name AS (…)
	}
	if r.keyword(j) || j-1 < s.lo {
		return false
	}
	if c := s.clause[j-s.lo]; c != "select" && c != "from" {
		return false
	}
	if r.isKw(j-2, "interval") {
		return false // INTERVAL '7' DAY
	}
	p := r.tok(j - 1)
	switch {
	case p.Kind == TokIdent:
		return !r.keyword(j-1) || r.isKw(j-1, "end")
	case p.Kind == TokQIdent, p.Kind == TokBIdent, p.Kind == TokString, p.Kind == TokNumber:
		return true
	case r.isOp(j-1, ")"):
		return true
	}
	return false
}

// isTable reports whether name (lower-case) is a flowlens table or view.
func (r *rewriter) isTable(name string) bool {
	if slices.Contains(builtinTables, name) || strings.HasPrefix(name, athenaTablePrefix) {
		return true
	}
	return r.knownTable(name)
}

func (r *rewriter) isDatabase(name string) bool {
	for _, d := range r.opt.Databases {
		if strings.EqualFold(d, name) {
			return true
		}
	}
	return false
}

// rewriteTables drops the database (and catalog) part of a qualified name
// whose table is a flowlens view or whose database is configured.
func (s *scope) rewriteTables() {
	r := s.r
	for j := s.lo; j < s.hi; j++ {
		if _, ok := r.name(j); !ok || r.isOp(j-1, ".") {
			continue
		}
		chain := []int{j}
		for k := j; k+2 < s.hi && r.isOp(k+1, ".") && isNameTok(r.tok(k+2)); k += 2 {
			chain = append(chain, k+2)
		}
		last := chain[len(chain)-1]
		// the rightmost table of the chain: in
		// "AwsDataCatalog"."default"."nat" the database default may
		// also be a dataset's view
		drop := -1
		for k := len(chain) - 1; k >= 1; k-- {
			if n, _ := r.name(chain[k]); r.isTable(n) {
				drop = k
				break
			}
		}
		if first, _ := r.name(j); drop < 0 && len(chain) > 1 && r.isDatabase(first) {
			drop = 1
		}
		if drop > 0 {
			r.replace(j, chain[drop]-1, "")
		}
		j = last
	}
}

// knownTable reports whether name is a view the database has.
func (r *rewriter) knownTable(name string) bool {
	if slices.Contains(builtinTables, name) {
		return true
	}
	for _, t := range slices.Concat(r.opt.Tables, r.opt.OtherTables) {
		if strings.EqualFold(t, name) {
			return true
		}
	}
	return false
}

func isNameTok(t Token) bool {
	return t.Kind == TokIdent || t.Kind == TokQIdent || t.Kind == TokBIdent
}
