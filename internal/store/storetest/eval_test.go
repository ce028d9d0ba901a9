package storetest

import "testing"

func TestNaturalCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"8.8.8.8", "10.0.0.1", -1},
		{"10.0.0.9", "10.0.0.10", -1},
		{"eni-9", "eni-10", -1},
		{"abc", "12", -1}, // text before numbers
		{"2", "10", -1},   // numbers by value
		{"-3.5", "2", -1},
		{"b", "a", 1},
		{"x1y", "x1y", 0},
		{"x", "x1", -1},
	} {
		got := naturalCompare(tc.a, tc.b)
		if got < 0 {
			got = -1
		} else if got > 0 {
			got = 1
		}
		if got != tc.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCorpusIsDeterministic(t *testing.T) {
	a, b := makeRecords(), makeRecords()
	if len(a) != len(b) || len(a) != 4500 {
		t.Fatalf("corpus sizes %d, %d", len(a), len(b))
	}
	for i := range a {
		if a[i].message() != b[i].message() {
			t.Fatalf("record %d differs between runs", i)
		}
	}
}
