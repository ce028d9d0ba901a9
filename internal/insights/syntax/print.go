package syntax

import (
	"strings"
)

// String returns the canonical text of the query: commands separated by " | ".
func (q *Query) String() string {
	parts := make([]string, len(q.Commands))
	for i, c := range q.Commands {
		parts[i] = c.String()
	}
	return strings.Join(parts, " | ")
}

func (f *Field) String() string {
	if f.Quoted {
		return "`" + f.Name + "`"
	}
	return f.Name
}

func (n *Number) String() string   { return n.Text }
func (s *String) String() string   { return Quote(s.Value) }
func (d *Duration) String() string { return d.Text }

func (r *Regex) String() string {
	return "/" + strings.ReplaceAll(r.Pattern, "/", `\/`) + "/"
}

func (l *List) String() string {
	parts := make([]string, len(l.Elems))
	for i, e := range l.Elems {
		parts[i] = e.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (c *Call) String() string {
	if c.Star {
		return c.Name + "(*)"
	}
	parts := make([]string, len(c.Args))
	for i, e := range c.Args {
		parts[i] = e.String()
	}
	return c.Name + "(" + strings.Join(parts, ", ") + ")"
}

func (u *Unary) String() string {
	if u.Op == "not" {
		return "not " + u.X.String()
	}
	return "-" + u.X.String()
}

func (b *Binary) String() string { return b.X.String() + " " + b.Op + " " + b.Y.String() }

func (m *Match) String() string {
	op := m.Op
	if m.Not {
		op = "not " + op
	}
	return m.X.String() + " " + op + " " + m.Pattern.String()
}

func (i *In) String() string {
	rhs := ""
	if i.Sub != nil {
		rhs = "(" + i.Sub.String() + ")"
	} else {
		rhs = i.List.String()
	}
	if i.Not {
		return i.X.String() + " not in " + rhs
	}
	return i.X.String() + " in " + rhs
}

func (p *Paren) String() string { return "(" + p.X.String() + ")" }

func (i *Index) String() string { return i.X.String() + "[" + i.Index.String() + "]" }

func (m *Member) String() string {
	if m.Quoted {
		return m.X.String() + ".`" + m.Key + "`"
	}
	return m.X.String() + "." + m.Key
}

// Quote writes s as a double-quoted Logs Insights string.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
