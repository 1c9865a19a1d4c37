package cacheadmin

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1", 1},
		{"60000", 60000},
		{"100B", 100},
		{"100b", 100},
		{"1K", 1 << 10},
		{"1k", 1 << 10},
		{"1KB", 1 << 10},
		{"1kb", 1 << 10},
		{"1KiB", 1 << 10},
		{"1kib", 1 << 10},
		{"1KIB", 1 << 10},
		{"500M", 500 << 20},
		{"500MB", 500 << 20},
		{"500MiB", 500 << 20},
		{"1G", 1 << 30},
		{"1g", 1 << 30},
		{"1GB", 1 << 30},
		{"1GiB", 1 << 30},
		{"2T", 2 << 40},
		{"2TiB", 2 << 40},
		{"1.5G", 3 << 29},
		{"1.5K", 1536},
		{".5K", 512},
		{"0.1K", 102},
		{"1 GiB", 1 << 30},
		{"8388607T", 8388607 << 40},
	} {
		got, err := parseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "empty size"},
		{" ", "empty size"},
		{"G", "not a size"},
		{"-1", "negative"},
		{"-1G", "negative"},
		{"+1G", "not a number"},
		{"lots", "not a size"},
		{"1Q", `unknown unit "Q"`},
		{"1GG", "unknown unit"},
		{"1Gi", "unknown unit"},
		{"1iB", "unknown unit"},
		{"1P", "unknown unit"},
		{"1G5", "not a number"},
		{"1e9", "not a number"},
		{"1.2.3G", "not a number"},
		{".G", "not a number"},
		{"1.5", "no fraction"},
		{"1.5B", "no fraction"},
		{"0", "zero"},
		{"0G", "zero"},
		{"0.0001K", "zero"},
		{"8388608T", "too large"},
		{"99999999999999999999", "too large"},
		{"9999999999999999999.5T", "too large"},
	} {
		got, err := parseSize(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseSize(%q) = %d, %v; want an error containing %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"1h", time.Hour},
		{"90m", 90 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"36h", 36 * time.Hour},
		{"1.5h", 90 * time.Minute},
		{"30d", 30 * day},
		{"1d", day},
		{"1.5d", 36 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"2d30m", 2*day + 30*time.Minute},
		{"106751d23h", 106751*day + 23*time.Hour},
		{"1ms", time.Millisecond},
	} {
		got, err := parseAge(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "empty age"},
		{"30", "invalid duration"},
		{"soon", "invalid duration"},
		{"-1h", "negative"},
		{"-3d", "negative"},
		{"d", "not a number of days"},
		{"xd", "not a number of days"},
		{"1d1d", "invalid duration"},
		{"1d-1h", "invalid duration"},
		{"1d+1h", "invalid duration"},
		{"0", "zero"},
		{"0d", "zero"},
		{"0s", "zero"},
		{"200000d", "too large"},
		{"106751d24h", "too large"},
	} {
		got, err := parseAge(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseAge(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.want)
		}
	}
}

// TestFlagValuesRoundTrip: the defaults that -h prints parse back to themselves.
func TestFlagValuesRoundTrip(t *testing.T) {
	for _, n := range []int64{1, 1000, 1 << 10, 1536, 60000, 500 << 20, 1 << 30, 3 << 40} {
		b := byteSize(n)
		var back byteSize
		if err := back.Set(b.String()); err != nil || back != b {
			t.Errorf("byteSize(%d).String() = %q, which parses to %d, %v", n, b.String(), back, err)
		}
	}
	for _, d := range []time.Duration{time.Second, 90 * time.Minute, day, 30 * day, 36 * time.Hour, 2*day + time.Millisecond} {
		a := age(d)
		var back age
		if err := back.Set(a.String()); err != nil || back != a {
			t.Errorf("age(%v).String() = %q, which parses to %v, %v", d, a.String(), time.Duration(back), err)
		}
	}
	if b := byteSize(1 << 30); b.String() != "1GiB" {
		t.Errorf("byteSize(1<<30) = %q, want 1GiB", b.String())
	}
	if a := age(30 * day); a.String() != "30d" {
		t.Errorf("age(30 days) = %q, want 30d", a.String())
	}
	// Through the flag package, as the command line uses them.
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var b byteSize
	var a age
	fs.Var(&b, "max-bytes", "")
	fs.Var(&a, "max-age", "")
	if err := fs.Parse([]string{"-max-bytes", "2GiB", "-max-age=7d"}); err != nil || b != 2<<30 || a != age(7*day) {
		t.Errorf("parsed %d, %v, %v", b, time.Duration(a), err)
	}
}
