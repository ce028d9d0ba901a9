package syntax

import (
	"math"
	"strconv"
	"strings"
)

// reserved words cannot start an operand.
func reserved(t token) bool {
	if t.kind != tIdent {
		return false
	}
	switch strings.ToLower(t.text) {
	case "and", "or", "like", "in", "by", "as", "asc", "desc":
		return true
	}
	return false
}

// expr   = orExpr ;
// orExpr = andExpr { "or" andExpr } ;
func (p *parser) parseExpr() Expr {
	x := p.parseAnd()
	for {
		t := p.peek()
		if !t.is("or") {
			return x
		}
		p.consume(t)
		y := p.parseAnd()
		x = &Binary{Span: Span{x.Pos(), y.EndPos()}, Op: "or", X: x, Y: y}
	}
}

// andExpr = notExpr { "and" notExpr } ;
func (p *parser) parseAnd() Expr {
	x := p.parseNot()
	for {
		t := p.peek()
		if !t.is("and") {
			return x
		}
		p.consume(t)
		y := p.parseNot()
		x = &Binary{Span: Span{x.Pos(), y.EndPos()}, Op: "and", X: x, Y: y}
	}
}

// notExpr = "not" notExpr | cmpExpr ;
func (p *parser) parseNot() Expr {
	t := p.peekOperand()
	if t.is("not") {
		p.consume(t)
		p.enter(t)
		x := p.parseNot()
		p.leave()
		return &Unary{Span: Span{t.pos, x.EndPos()}, Op: "not", X: x}
	}
	return p.parseCmp()
}

// cmpExpr = addExpr [ cmpOp addExpr
//
//	| [ "not" ] "like" ( string | regex )
//	| "=~" regex
//	| [ "not" ] "in" list ] ;
func (p *parser) parseCmp() Expr {
	x := p.parseAdd()
	t := p.peek()
	switch {
	case t.kind == tOp && isCmpOp(t.text):
		p.consume(t)
		y := p.parseAdd()
		op := t.text
		if op == "==" {
			op = "="
		}
		return &Binary{Span: Span{x.Pos(), y.EndPos()}, Op: op, X: x, Y: y}
	case t.isOp("=~"):
		p.consume(t)
		pat := p.peekOperand()
		if pat.kind != tRegex {
			p.unexpected(pat, "a /regex/ after =~")
		}
		p.consume(pat)
		return &Match{Span: Span{x.Pos(), pat.end}, X: x, Op: "=~", Pattern: &Regex{Span: Span{pat.pos, pat.end}, Pattern: pat.text}}
	case t.is("like"), t.is("in"), t.is("not"):
		not := false
		if t.is("not") {
			t2 := p.peek2(t)
			if !t2.is("like") && !t2.is("in") {
				p.unexpected(t2, `"like" or "in" after "not"`)
			}
			p.consume(t)
			not = true
			t = t2
		}
		p.consume(t)
		if t.is("in") {
			l := p.peekOperand()
			if l.kind == tLParen {
				p.consume(l)
				p.enter(l)
				sub := p.parseQueryUntil(true)
				p.leave()
				end := p.expect(tRParen, `")" after the subquery`)
				return &In{Span: Span{x.Pos(), end.end}, X: x, Not: not, Sub: sub}
			}
			if l.kind != tLBrack {
				p.unexpected(l, `a list [a, b, …] or a (subquery) after "in"`)
			}
			list := p.parseList()
			return &In{Span: Span{x.Pos(), list.EndPos()}, X: x, Not: not, List: list}
		}
		pat := p.peekOperand()
		var pe Expr
		switch pat.kind {
		case tString:
			pe = &String{Span: Span{pat.pos, pat.end}, Value: pat.text}
		case tRegex:
			pe = &Regex{Span: Span{pat.pos, pat.end}, Pattern: pat.text}
		default:
			p.unexpected(pat, `a "string" or /regex/ after "like"`)
		}
		p.consume(pat)
		return &Match{Span: Span{x.Pos(), pat.end}, X: x, Not: not, Op: "like", Pattern: pe}
	}
	return x
}

func isCmpOp(s string) bool {
	switch s {
	case "=", "==", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// addExpr = mulExpr { ( "+" | "-" ) mulExpr } ;
func (p *parser) parseAdd() Expr {
	x := p.parseMul()
	for {
		t := p.peek()
		if !t.isOp("+") && !t.isOp("-") {
			return x
		}
		p.consume(t)
		y := p.parseMul()
		x = &Binary{Span: Span{x.Pos(), y.EndPos()}, Op: t.text, X: x, Y: y}
	}
}

// mulExpr = powExpr { ( "*" | "/" | "%" ) powExpr } ;
func (p *parser) parseMul() Expr {
	x := p.parsePow()
	for {
		t := p.peek()
		if !t.isOp("*") && !t.isOp("/") && !t.isOp("%") {
			return x
		}
		p.consume(t)
		y := p.parsePow()
		x = &Binary{Span: Span{x.Pos(), y.EndPos()}, Op: t.text, X: x, Y: y}
	}
}

// powExpr = unary [ "^" powExpr ] ;
func (p *parser) parsePow() Expr {
	x := p.parseUnary()
	t := p.peek()
	if !t.isOp("^") {
		return x
	}
	p.consume(t)
	p.enter(t)
	y := p.parsePow()
	p.leave()
	return &Binary{Span: Span{x.Pos(), y.EndPos()}, Op: "^", X: x, Y: y}
}

// unary = "-" unary | primary ;
func (p *parser) parseUnary() Expr {
	t := p.peekOperand()
	if t.isOp("-") {
		p.consume(t)
		p.enter(t)
		x := p.parseUnary()
		p.leave()
		return &Unary{Span: Span{t.pos, x.EndPos()}, Op: "-", X: x}
	}
	return p.parsePrimary()
}

// primary  = number | string | regex | period | list | call | fieldref | "(" expr ")" ;
// fieldref = ( ident | backtick ) { "[" expr "]" } ;
func (p *parser) parsePrimary() Expr {
	t := p.peekOperand()
	switch t.kind {
	case tNumber:
		p.consume(t)
		return p.number(t)
	case tString:
		p.consume(t)
		return &String{Span: Span{t.pos, t.end}, Value: t.text}
	case tRegex:
		p.consume(t)
		return &Regex{Span: Span{t.pos, t.end}, Pattern: t.text}
	case tDuration:
		p.consume(t)
		return p.duration(t)
	case tLBrack:
		return p.parseList()
	case tLParen:
		p.consume(t)
		p.enter(t)
		x := p.parseExpr()
		p.leave()
		end := p.expect(tRParen, `")"`)
		return &Paren{Span: Span{t.pos, end.end}, X: x}
	case tIdent, tBacktick:
		if reserved(t) || t.is("not") {
			p.unexpected(t, "an expression")
		}
		p.consume(t)
		if t.kind == tIdent {
			if l := p.peek(); l.kind == tLParen {
				return p.parseCall(t)
			}
		}
		return p.parseFieldRef(t)
	}
	p.unexpected(t, "an expression")
	return nil
}

// parseFieldRef reads the field reference that starts with the name t
// (just consumed) and its accesses.
func (p *parser) parseFieldRef(t token) Expr {
	var x Expr = &Field{Span: Span{t.pos, t.end}, Name: t.text, Quoted: t.kind == tBacktick}
	if t.kind == tIdent && len(t.text) > 1 && strings.HasSuffix(t.text, ".") {
		// j.`odd.key`: the name ends with the dot of a quoted key
		if k := p.lex(int(t.end), true); k.kind == tBacktick && k.pos == t.end {
			p.consume(k)
			f := &Field{Span: Span{t.pos, t.end - 1}, Name: strings.TrimSuffix(t.text, ".")}
			x = &Member{Span: Span{t.pos, k.end}, X: f, Key: k.text, Quoted: true}
		}
	}
	return p.parseAccess(x)
}

// access = fieldref { "[" expr "]" | "." ( ident | backtick ) } ;
// The dot must touch what it follows (a.b is one name to the lexer; the
// dot after "]" or a quoted name is read here).
func (p *parser) parseAccess(x Expr) Expr {
	for {
		if p.off < len(p.src) && p.src[p.off] == '.' && isMember(x) {
			k := p.lex(p.off+1, true)
			if k.pos != Pos(p.off+1) || k.kind != tIdent && k.kind != tBacktick || k.text == "." {
				p.failAt(Span{Pos(p.off), Pos(p.off + 1)}, "expected a key name right after \".\" (quote odd keys in backticks: x.`odd.key`)")
			}
			if k.kind == tIdent && strings.HasSuffix(k.text, ".") {
				// x[0].a.`b`: stop before the dot of the quoted key
				k.end--
				k.text = k.text[:len(k.text)-1]
			}
			p.consume(k)
			x = &Member{Span: Span{x.Pos(), k.end}, X: x, Key: k.text, Quoted: k.kind == tBacktick}
			continue
		}
		l := p.peek()
		if l.kind != tLBrack {
			return x
		}
		p.consume(l)
		p.enter(l)
		i := p.parseExpr()
		p.leave()
		end := p.expect(tRBrack, `"]"`)
		x = &Index{Span: Span{x.Pos(), end.end}, X: x, Index: i}
	}
}

// isMember reports whether a dot right after x starts a key: after "]"
// or a quoted name (a dot after a plain name is part of the name).
func isMember(x Expr) bool {
	switch x := x.(type) {
	case *Index, *Member:
		return true
	case *Field:
		return x.Quoted
	}
	return false
}

// call = ident "(" [ "*" | expr { "," expr } ] ")" ;
func (p *parser) parseCall(name token) Expr {
	p.enter(name)
	defer p.leave()
	p.expect(tLParen, `"("`)
	c := &Call{Name: name.text}
	if t := p.peekOperand(); t.isOp("*") {
		p.consume(t)
		c.Star = true
	} else if t.kind != tRParen {
		for {
			c.Args = append(c.Args, p.parseExpr())
			if !p.accept(tComma) {
				break
			}
		}
	}
	end := p.expect(tRParen, `"," or ")"`)
	c.Span = Span{name.pos, end.end}
	return c
}

// list = "[" [ expr { "," expr } ] "]" ;
func (p *parser) parseList() *List {
	t := p.expect(tLBrack, `"["`)
	p.enter(t)
	defer p.leave()
	l := &List{}
	if p.peekOperand().kind != tRBrack {
		for {
			l.Elems = append(l.Elems, p.parseExpr())
			if !p.accept(tComma) {
				break
			}
		}
	}
	end := p.expect(tRBrack, `"," or "]"`)
	l.Span = Span{t.pos, end.end}
	return l
}

func (p *parser) number(t token) *Number {
	n := &Number{Span: Span{t.pos, t.end}, Text: t.text}
	if i, err := strconv.ParseInt(t.text, 10, 64); err == nil {
		n.IsInt, n.Int, n.Float = true, i, float64(i)
		return n
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsInf(f, 0) {
		p.failAt(Span{t.pos, t.end}, "number %s out of range", t.text)
	}
	n.Float = f
	return n
}

func (p *parser) duration(t token) *Duration {
	i := 0
	for i < len(t.text) && isDigit(t.text[i]) {
		i++
	}
	n, err := strconv.ParseInt(t.text[:i], 10, 64)
	if err != nil || n > 1<<40 {
		p.failAt(Span{t.pos, t.end}, "time period %s out of range", t.text)
	}
	u, _ := unitOf(t.text[i:])
	return &Duration{Span: Span{t.pos, t.end}, N: n, Unit: u, Text: t.text}
}
