package athena

import (
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// s3ObjectTable is the table name of S3 Select: the one object queried.
const s3ObjectTable = "s3object"

// rewriteS3Object reads S3 Select's `FROM s3object [s]` over the flows
// view: the object's space-separated fields are the columns _1, _2, … in
// the order of the default format (S3 Select over a flow log file with a
// space as the CSV delimiter; `SELECT _4 FROM s3object s LIMIT 5` lists
// source addresses), each as the text the record writes ('-' when absent),
// since S3 Select reads CSV as text.
func (s *scope) rewriteS3Object() {
	r := s.r
	for j := s.lo; j < s.hi; j++ {
		if s.clause[j-s.lo] != "from" || r.tok(j).Kind != TokIdent || !strings.EqualFold(r.tok(j).Text, s3ObjectTable) ||
			r.isOp(j-1, ".") || r.isOp(j+1, ".", "(") {
			continue
		}
		r.set(j, s3ObjectSQL())
	}
}

// s3ObjectSQL is the relation S3 Select's s3object stands for.
func s3ObjectSQL() string {
	var b strings.Builder
	b.WriteString("(SELECT ")
	for i, f := range flowlog.DefaultFormat().Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("coalesce(CAST(" + quoteIdent(f.Column) + " AS VARCHAR), '-') AS _" + strconv.Itoa(i+1))
	}
	b.WriteString(" FROM vpc_flow_logs)")
	return b.String()
}

// rewriteBareEnd quotes an unquoted `end` that stands where a value is
// expected — after '(', ',', an operator, SELECT, WHERE, BY, AND, OR, …:
// there it is the flow log's end column (AWS's blog on NAT gateway
// traffic writes `from_unixtime(end-MOD("end",300))`), never the END of a
// CASE, which always follows a value.
func (s *scope) rewriteBareEnd() {
	r := s.r
	for j := s.lo + 1; j < s.hi; j++ {
		t := r.tok(j)
		if t.Kind != TokIdent || !strings.EqualFold(t.Text, "end") {
			continue
		}
		p := r.tok(j - 1)
		value := (p.Kind == TokOp && !r.isOp(j-1, ")", "]")) ||
			r.isKw(j-1, "select", "where", "by", "and", "or", "having", "on", "not", "between", "distinct")
		if value {
			r.set(j, `"end"`)
		}
	}
}
