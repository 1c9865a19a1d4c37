package remoteparam

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"512", 512}, {"64MiB", 64 << 20}, {"64mb", 64 << 20}, {"1G", 1 << 30}, {"2KiB", 2 << 10},
		{"0", 0}, {"-1", 0}, {"MiB", 0}, {"1T", 0}, {"99999999999G", 0},
	} {
		got, err := ParseSize(tc.in)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v, want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckKey(t *testing.T) {
	good := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := CheckKey("e", good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", good[1:], good + "0", "0123456789ABCDEF" + good[16:], "../" + good[3:]} {
		if CheckKey("e", bad) == nil {
			t.Errorf("CheckKey(%q) accepted it", bad)
		}
	}
}
