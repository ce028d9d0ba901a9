package syntax

import "strings"

// SortKey is one key of sort.
type SortKey struct {
	X        Expr
	Desc     bool
	Explicit bool // asc or desc was written
}

func (k SortKey) String() string {
	s := k.X.String()
	switch {
	case k.Desc:
		s += " desc"
	case k.Explicit:
		s += " asc"
	}
	return s
}

// Sort is `sort expr [asc|desc] {, …}`.
type Sort struct {
	Span
	Keys []SortKey
}

func (*Sort) command()     {}
func (*Sort) Name() string { return "sort" }

func (c *Sort) String() string {
	parts := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		parts[i] = k.String()
	}
	return "sort " + strings.Join(parts, ", ")
}

func (c *Sort) children() []Node {
	out := make([]Node, len(c.Keys))
	for i, k := range c.Keys {
		out[i] = k.X
	}
	return out
}

// sort    = "sort" [ "by" ] sortkey { "," sortkey } ;
// sortkey = expr [ "asc" | "desc" ] ;
//
// `sort by x` means `sort x` (the service takes it: spec §5.5); by is a
// keyword, so a field named by is written `by`.
func (p *parser) parseSort(kw token) Command {
	c := &Sort{}
	p.acceptKeyword("by")
	for {
		k := SortKey{X: p.parseExpr()}
		if p.acceptKeyword("desc") {
			k.Desc, k.Explicit = true, true
		} else if p.acceptKeyword("asc") {
			k.Explicit = true
		}
		c.Keys = append(c.Keys, k)
		if !p.accept(tComma) {
			break
		}
	}
	c.Span = p.span(kw.pos)
	return c
}
