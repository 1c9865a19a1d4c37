package cache

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
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
		{"release", info("v1.2.3", "vcs.revision", "abc123", "vcs.modified", "false"), "example.com/cc@v1.2.3 abc123 go1.26.8 build:"},
		{"release without vcs", info("v1.2.3"), "example.com/cc@v1.2.3  go1.26.8 build:"},
		{"devel", info("(devel)", "vcs.revision", "abc123"), "devel:example.com/cc:EXEHASH"},
		{"empty version", info(""), "devel:example.com/cc:EXEHASH"},
		{"modified", info("v1.2.3", "vcs.revision", "abc123", "vcs.modified", "true"), "devel:example.com/cc:EXEHASH"},
		{"dirty pseudo-version", info("v1.2.4-0.20260101000000-abc123+dirty"), "devel:example.com/cc:EXEHASH"},
		{"no build info", nil, "exe:EXEHASH"},
	} {
		if got := versionOf(tc.bi, exe); got != tc.want && !(strings.HasSuffix(tc.want, "build:") && strings.HasPrefix(got, tc.want)) {
			t.Errorf("%s: versionOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestVersionCoversBuildInformation: two release builds of one commit that differ in any
// build setting or dependency have different versions; a dependency replaced by a local
// directory, or without a sum (vendored), makes a development build.
func TestVersionCoversBuildInformation(t *testing.T) {
	exe := func() string { return "EXEHASH" }
	base := func() *debug.BuildInfo {
		return &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Main:      debug.Module{Path: "example.com/cc", Version: "v1.2.3"},
			Deps:      []*debug.Module{{Path: "example.com/dep", Version: "v0.1.0", Sum: "h1:abc="}},
			Settings: []debug.BuildSetting{
				{Key: "-ldflags", Value: "-X main.mult=2"}, {Key: "-tags", Value: "a"},
				{Key: "CGO_ENABLED", Value: "1"}, {Key: "GOAMD64", Value: "v1"},
				{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"},
			},
		}
	}
	want := versionOf(base(), exe)
	edits := map[string]func(bi *debug.BuildInfo){
		"-ldflags":    func(bi *debug.BuildInfo) { bi.Settings[0].Value = "-X main.mult=3" },
		"-tags":       func(bi *debug.BuildInfo) { bi.Settings[1].Value = "b" },
		"CGO_ENABLED": func(bi *debug.BuildInfo) { bi.Settings[2].Value = "0" },
		"GOAMD64":     func(bi *debug.BuildInfo) { bi.Settings[3].Value = "v3" },
		"a new setting": func(bi *debug.BuildInfo) {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: "-race", Value: "true"})
		},
		"dep version": func(bi *debug.BuildInfo) { bi.Deps[0].Version = "v0.1.1" },
		"dep sum":     func(bi *debug.BuildInfo) { bi.Deps[0].Sum = "h1:abd=" },
		"dep replaced": func(bi *debug.BuildInfo) {
			bi.Deps[0].Replace = &debug.Module{Path: "example.com/fork", Version: "v0.1.0", Sum: "h1:x="}
		},
		"a new dep": func(bi *debug.BuildInfo) {
			bi.Deps = append(bi.Deps, &debug.Module{Path: "example.com/d2", Version: "v1.0.0", Sum: "h1:d2="})
		},
		"the Go version": func(bi *debug.BuildInfo) { bi.GoVersion = "go1.26.9" },
	}
	for name, edit := range edits {
		bi := base()
		edit(bi)
		if got := versionOf(bi, exe); got == want || strings.HasPrefix(got, "devel:") {
			t.Errorf("%s: version %q, want a release version other than %q", name, got, want)
		}
	}
	trim := base()
	trim.Settings = append(trim.Settings, debug.BuildSetting{Key: "-trimpath", Value: "true"})
	if got := versionOf(trim, exe); got != "devel:example.com/cc:EXEHASH" {
		t.Errorf("a -trimpath build (whose -ldflags the build information leaves out): version %q, want a development build", got)
	}
	for name, edit := range map[string]func(bi *debug.BuildInfo){
		"a dependency replaced by a directory": func(bi *debug.BuildInfo) { bi.Deps[0].Replace = &debug.Module{Path: "../dep"} },
		// A build from a vendor directory records no sums: the vendored code, often not
		// under version control, can change with no trace.
		"a dependency without a sum (vendored)": func(bi *debug.BuildInfo) { bi.Deps[0].Sum = "" },
		"a dependency replaced by a version without a sum": func(bi *debug.BuildInfo) {
			bi.Deps[0].Replace = &debug.Module{Path: "example.com/fork", Version: "v0.1.0"}
		},
	} {
		bi := base()
		edit(bi)
		if got := versionOf(bi, exe); got != "devel:example.com/cc:EXEHASH" {
			t.Errorf("%s: version %q, want a development build", name, got)
		}
	}
	// A replacement by a module version with its sum is recorded whole: the original's sum
	// does not matter.
	bi := base()
	bi.Deps[0].Sum = ""
	bi.Deps[0].Replace = &debug.Module{Path: "example.com/fork", Version: "v0.1.0", Sum: "h1:x="}
	if got := versionOf(bi, exe); strings.HasPrefix(got, "devel:") {
		t.Errorf("a dependency replaced by a version with its sum: version %q, want a release version", got)
	}
}

// TestExecutableHashedAsRunning: a program whose executable is replaced after it started
// (a rebuild in place) still derives its version from what it runs.
func TestExecutableHashedAsRunning(t *testing.T) {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skip("this system does not name the running executable (/proc/self/exe): the file at os.Executable is hashed")
	}
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cache.test")
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPrintExecutableHash$")
	cmd.Env = append(os.Environ(), "CACHEGEN_TEST_EXEHASH=1", "CACHEGEN_TEST_REPLACE="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := executableHash() // this binary's content is the copy's
	if !strings.Contains(string(out), "exehash "+want) {
		t.Fatalf("the copy, replaced while running, hashed another file:\n%s\nwant exehash %s", out, want)
	}
}

// TestPrintExecutableHash is TestExecutableHashedAsRunning's helper: it replaces its own
// executable with other bytes, then prints the hash of what it runs.
func TestPrintExecutableHash(t *testing.T) {
	path := os.Getenv("CACHEGEN_TEST_REPLACE")
	if os.Getenv("CACHEGEN_TEST_EXEHASH") != "1" || path == "" {
		return // only as a helper
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte("a rebuilt program"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	println("exehash", executableHash())
}
