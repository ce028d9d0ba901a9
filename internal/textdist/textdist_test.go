package textdist

import "testing"

func TestDistance(t *testing.T) {
	long := string(make([]byte, 65))
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"srcaddr", "srcaddr", 0},
		{"srcadr", "srcaddr", 1},
		{"dstport", "srcport", 3},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
		{long, "a", 99},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
