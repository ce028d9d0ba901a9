package athena

import (
	"strings"
	"testing"
)

func TestMacros(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range List() {
		if seen[m.Name] || m.Name == "" || m.Body == "" || m.Doc == "" {
			t.Errorf("macro %+v", m)
		}
		seen[m.Name] = true
	}
	for _, name := range []string{"from_unixtime", "to_unixtime", "day_of_week", "approx_distinct", "regexp_like", "bitwise_and"} {
		if !seen[name] {
			t.Errorf("no macro %s", name)
		}
	}
	if len(Macros()) != len(List()) || !strings.HasPrefix(Macros()[0], "CREATE OR REPLACE TEMP MACRO ") {
		t.Errorf("Macros: %v", Macros())
	}
}
