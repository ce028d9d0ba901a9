package filterpattern

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// termPattern is a term pattern: every must term appears, no not term
// appears, and (when there are no must or not terms) at least one any term
// appears.
type termPattern struct {
	must, not, any [][]byte
	// inField: no term holds a blank, so each lies within one field of a
	// flow record (the batch matcher then needs no line).
	inField bool
}

// parseTerms parses text[start:end]:
//
//	terms = term { blank term }
//	term  = [ "-" | "?" ] ( word | '"' phrase '"' )
//	word  = letters, digits and '_'
func parseTerms(text string, start, end int) (*termPattern, []string, error) {
	t := &termPattern{}
	var anyText []string
	i := start
	for i < end {
		if isBlank(text[i]) {
			i++
			continue
		}
		tokStart := i
		mod := byte(0)
		if text[i] == '-' || text[i] == '?' {
			mod = text[i]
			i++
			if i >= end || isBlank(text[i]) {
				return nil, nil, errAt(text, tokStart, "%q must be followed by a term (a word or a quoted phrase)", string(mod))
			}
		}
		var term string
		if text[i] == '"' {
			s, next, err := readQuoted(text, i, end)
			if err != nil {
				return nil, nil, err
			}
			if next < end && !isBlank(text[next]) {
				return nil, nil, errAt(text, next, "expected a space after the quoted phrase, found %q", string(text[next]))
			}
			term, i = s, next
		} else {
			j := i
			for j < end && !isBlank(text[j]) {
				c := text[j]
				if !isWordByte(c) {
					return nil, nil, errAt(text, j, "%q cannot appear in an unquoted term: quote the term (%q)", string(c), text[i:wordEnd(text, i, end)])
				}
				j++
			}
			term, i = text[i:j], j
		}
		switch mod {
		case '-':
			t.not = append(t.not, []byte(term))
		case '?':
			t.any = append(t.any, []byte(term))
			anyText = append(anyText, text[tokStart:i])
		default:
			t.must = append(t.must, []byte(term))
		}
	}
	t.inField = true
	for _, w := range slices.Concat(t.must, t.not, t.any) {
		if len(w) == 0 || bytes.ContainsAny(w, " \t") {
			t.inField = false
		}
	}
	var warnings []string
	if len(t.any) > 0 && (len(t.must) > 0 || len(t.not) > 0) {
		warnings = append(warnings, fmt.Sprintf("the ?-terms %s are ignored beside plain or - terms (as CloudWatch Logs does): the pattern matches only on its other terms", strings.Join(anyText, " ")))
		t.any = nil
	}
	return t, warnings, nil
}

func wordEnd(text string, i, end int) int {
	for i < end && !isBlank(text[i]) {
		i++
	}
	return i
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func (t *termPattern) match(msg []byte) bool {
	for _, m := range t.must {
		if !bytes.Contains(msg, m) {
			return false
		}
	}
	for _, m := range t.not {
		if bytes.Contains(msg, m) {
			return false
		}
	}
	if len(t.any) == 0 {
		return true
	}
	for _, m := range t.any {
		if bytes.Contains(msg, m) {
			return true
		}
	}
	return false
}
