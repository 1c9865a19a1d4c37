package cache

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	exe := func() string { return "EXEHASH" }
	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/cc", Version: version}}
		for i := 0; i < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"release", info("v1.2.3", "vcs.revision", "abc123", "vcs.modified", "false"), "example.com/cc@v1.2.3 abc123 go1.26.8"},
		{"release without vcs", info("v1.2.3"), "example.com/cc@v1.2.3  go1.26.8"},
		{"devel", info("(devel)", "vcs.revision", "abc123"), "devel:example.com/cc:EXEHASH"},
		{"empty version", info(""), "devel:example.com/cc:EXEHASH"},
		{"modified", info("v1.2.3", "vcs.revision", "abc123", "vcs.modified", "true"), "devel:example.com/cc:EXEHASH"},
		{"dirty pseudo-version", info("v1.2.4-0.20260101000000-abc123+dirty"), "devel:example.com/cc:EXEHASH"},
		{"no build info", nil, "exe:EXEHASH"},
	} {
		if got := versionOf(tc.bi, exe); got != tc.want {
			t.Errorf("%s: versionOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}
