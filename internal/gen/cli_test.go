package gen

import (
	"bytes"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// mainResult is what one run of Main did.
type mainResult struct {
	code           int
	stdout, stderr string
	adminArgs      []string // the arguments the cache command got; nil if it did not run
}

func runMain(args ...string) mainResult {
	var out, errb bytes.Buffer
	var r mainResult
	admin := func(args []string, stdout, stderr io.Writer) int {
		r.adminArgs = append([]string{}, args...)
		io.WriteString(stdout, "admin ran\n")
		return 7
	}
	r.code = Main(args, &out, &errb, admin)
	r.stdout, r.stderr = out.String(), errb.String()
	return r
}

// TestMainHelp: help, -h and -help print the usage to stdout and exit 0; the usage names the
// command as go tool cachegen, as it is installed, and shows the go:generate line.
func TestMainHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"-help"}, {"--help"}, {"-check", "-h"}} {
		r := runMain(args...)
		if r.code != 0 || r.stderr != "" || r.adminArgs != nil {
			t.Errorf("Main(%q) = %d, stderr %q, admin %q", args, r.code, r.stderr, r.adminArgs)
		}
		for _, want := range []string{
			"usage: go tool cachegen [-check] [-output file] [-tags tags] [packages]",
			"go tool cachegen cache stats|trim|explain|clear",
			"go tool cachegen version",
			"go get -tool github.com/cachegen/cachegen/cmd/cachegen",
			"//go:generate go tool cachegen\n",
			"go tool cachegen -check ./...",
			"-check", "-output file", "-tags tags", "-version",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("Main(%q) usage lacks %q:\n%s", args, want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "go run github.com") {
			t.Errorf("Main(%q) usage still shows go run:\n%s", args, r.stdout)
		}
	}
}

// TestMainHelpTopics: help cache [command] is the cache command's help; help version is
// documented; other topics are usage errors.
func TestMainHelpTopics(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		admin []string
	}{
		{[]string{"help", "cache"}, []string{"help"}},
		{[]string{"help", "cache", "trim"}, []string{"help", "trim"}},
		{[]string{"cache", "trim", "-h"}, []string{"trim", "-h"}},
		{[]string{"cache"}, []string{}},
	} {
		r := runMain(tc.args...)
		if r.code != 7 || !slices.Equal(r.adminArgs, tc.admin) || r.stdout != "admin ran\n" {
			t.Errorf("Main(%q) = %d, admin got %q, stdout %q; want the cache command to get %q", tc.args, r.code, r.adminArgs, r.stdout, tc.admin)
		}
	}
	r := runMain("help", "version")
	if r.code != 0 || !strings.Contains(r.stdout, "usage: go tool cachegen version") {
		t.Errorf("help version = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"help", "bogus"}, {"help", "version", "x"}} {
		r := runMain(args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "unknown help topic") {
			t.Errorf("Main(%q) = %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	// Without a cache command, "help cache" is an unknown topic.
	var out, errb bytes.Buffer
	if code := Main([]string{"help", "cache"}, &out, &errb, nil); code != 2 || !strings.Contains(errb.String(), "unknown help topic") {
		t.Errorf("help cache without admin = %d\n%s%s", code, out.String(), errb.String())
	}
}

func TestMainVersion(t *testing.T) {
	defer func(f func() (*debug.BuildInfo, bool)) { readBuildInfo = f }(readBuildInfo)
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/cachegen/cachegen", Version: "v1.2.3"}},
			"cachegen v1.2.3 go1.99.1 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"},
		{&debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/cachegen/cachegen", Version: "v0.0.0-20250101000000-0123456789ab+dirty"}},
			"cachegen v0.0.0-20250101000000-0123456789ab+dirty go1.99.1 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"},
		{&debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/cachegen/cachegen", Version: "(devel)"}},
			"cachegen (devel) go1.99.1 " + runtime.GOOS + "/" + runtime.GOARCH + "\n"},
		{&debug.BuildInfo{}, "cachegen (devel) " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"},
		{nil, "cachegen (unknown) " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"},
	} {
		readBuildInfo = func() (*debug.BuildInfo, bool) { return tc.bi, tc.bi != nil }
		for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}, {"-version", "./..."}} {
			r := runMain(args...)
			if r.code != 0 || r.stdout != tc.want || r.stderr != "" {
				t.Errorf("Main(%q) = %d\nstdout: %q\nstderr: %q\nwant stdout %q", args, r.code, r.stdout, r.stderr, tc.want)
			}
		}
	}
	readBuildInfo = debug.ReadBuildInfo
	if r := runMain("version"); r.code != 0 || !strings.HasPrefix(r.stdout, "cachegen ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Errorf("version with the real build info = %d: %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runMain("version", "extra"); r.code != 2 || !strings.Contains(r.stderr, "unexpected arguments") {
		t.Errorf("version extra = %d: %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestMainUsageErrors: a usage error exits 2 with the error on one line and a pointer to -h
// on stderr, as go tools do, and nothing on stdout.
func TestMainUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		first string
	}{
		{[]string{"-bogus"}, "cachegen: flag provided but not defined: -bogus"},
		{[]string{"-check=maybe"}, `cachegen: invalid boolean value "maybe" for -check`},
		{[]string{"-output"}, "cachegen: flag needs an argument: -output"},
		{[]string{"help", "bogus"}, "cachegen: help bogus: unknown help topic"},
		{[]string{"version", "now"}, `cachegen: version: unexpected arguments ["now"]`},
	} {
		r := runMain(tc.args...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != 2 || r.stdout != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], tc.first) || lines[1] != "Run 'go tool cachegen -h' for usage." {
			t.Errorf("Main(%q) = %d\nstdout:\n%s\nstderr:\n%s\nwant 2 and %q, then the pointer to -h", tc.args, r.code, r.stdout, r.stderr, tc.first)
		}
	}
}

// TestMainFlagsReachGenerate: the flags still configure the generator; an invalid -output
// fails before any package is loaded.
func TestMainFlagsReachGenerate(t *testing.T) {
	r := runMain("-check", "-output", "../x.go", "./...")
	if r.code != 1 || !strings.Contains(r.stderr, "cachegen: ") || !strings.Contains(r.stderr, "x.go") {
		t.Errorf("Main with -output ../x.go = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
