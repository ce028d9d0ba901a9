package generate

import (
	"fmt"
	"strings"

	"github.com/flowlens/flowlens/internal/flowlog"
)

// FormatPresets names the formats --format accepts besides a ${field} string.
var FormatPresets = []struct{ Name, Doc string }{
	{"default", "the version 2 default format (14 fields)"},
	{"all-v3", "every VPC field of versions 2 and 3"},
	{"all-v4", "every VPC field up to version 4"},
	{"all-v5", "every VPC field up to version 5 (direction, traffic path, AWS services)"},
	{"all-v7", "up to version 7 (ECS metadata)"},
	{"all-v8", "up to version 8 (reject-reason)"},
	{"all-v9", "up to version 9 (resource-id)"},
	{"all-v10", "up to version 10 (encryption-status)"},
	{"all", "every VPC field of every version (54 fields, v11)"},
}

// ParseFormat returns the format named by a preset or given as a ${field} string.
func ParseFormat(s string) (*flowlog.Format, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "default":
		return flowlog.DefaultFormat(), nil
	case s == "all":
		return flowlog.AllVPCFormat(11), nil
	case strings.HasPrefix(s, "all-v"):
		var v int
		if _, err := fmt.Sscanf(s, "all-v%d", &v); err != nil || v < 2 || v > 11 || v == 6 {
			return nil, configErr("unknown format preset %q", s)
		}
		return flowlog.AllVPCFormat(v), nil
	case strings.Contains(s, "${"):
		f, err := flowlog.ParseFormat(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		return f, nil
	}
	var names []string
	for _, p := range FormatPresets {
		names = append(names, p.Name)
	}
	return nil, configErr("unknown format %q: use %s or a ${field} string", s, strings.Join(names, ", "))
}
