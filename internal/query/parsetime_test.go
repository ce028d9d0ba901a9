package query

import (
	"testing"
	"time"
)

func TestParseTimeForms(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	want := time.Date(2024, 5, 31, 14, 5, 0, 0, time.UTC)
	for _, in := range []string{
		"2024-05-31T14:05:00Z", "2024-05-31T14:05Z", "2024-05-31T16:05+02:00", "2024-05-31T14:05",
		"2024-05-31 14:05:00", "2024-05-31 14:05", "1717164300", "1717164300000",
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := ParseTime("-2h", now); err != nil || !got.Equal(now.Add(-2*time.Hour)) {
		t.Errorf("-2h: %v %v", got, err)
	}
	for _, bad := range []string{"", "yesterday-ish", "2024-13-01", "14:05"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}
