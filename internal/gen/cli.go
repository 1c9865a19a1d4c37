package gen

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// prog is the command line that runs cachegen, as help text shows it: the tool of a module
// (go get -tool github.com/cachegen/cachegen/cmd/cachegen).
const prog = "go tool cachegen"

const usage = `usage: ` + prog + ` [-check] [-output file] [-tags tags] [packages]
       ` + prog + ` cache stats|trim|explain|clear [flags]
       ` + prog + ` version
       ` + prog + ` help [cache [stats|trim|explain|clear]]

cachegen writes, for every struct annotated //cachegen:key in a Go package, an
exhaustive HashKey method, and for every struct annotated //cachegen:value msgp
serializers, into one generated file per package (` + DefaultOutput + `).
Add it to your module as a tool and run it from go generate:

	go get -tool github.com/cachegen/cachegen/cmd/cachegen

	//go:generate go tool cachegen

With no packages it works on the package in the current directory; packages are
import paths or patterns, as for go build (./...). In CI, check that the
generated files are up to date:

	go tool cachegen -check ./...

'` + prog + ` cache' inspects and trims the directory of the runtime/cache
package; run '` + prog + ` help cache' for its commands. Directives, field
tags and supported types: go doc github.com/cachegen/cachegen/cmd/cachegen.

Flags:
`

// readBuildInfo is debug.ReadBuildInfo, replaced by tests.
var readBuildInfo = debug.ReadBuildInfo

// version returns the version line of the command: its module's version as the go command
// recorded it (what go version -m prints; "(devel)" for a build in its own module without
// version control information), then the Go version and platform it was built with.
func version() string {
	v, goVersion := "(devel)", runtime.Version()
	if bi, ok := readBuildInfo(); !ok {
		v = "(unknown)"
	} else {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
	}
	return fmt.Sprintf("cachegen %s %s %s/%s", v, goVersion, runtime.GOOS, runtime.GOARCH)
}

// usageError prints a usage error as go commands do, the error on one line then where to
// find the usage, and returns the exit status of a usage error, 2.
func usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "cachegen: %s\n", fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run '%s -h' for usage.\n", prog)
	return 2
}

// CommandGCPercent is the collector's pace (as GOGC) that the cachegen command sets when
// GOGC is not in its environment. A run allocates several times what it keeps live (195 MB
// for a package of 500 annotated structs, of which 48 MB at most is live): at this pace a
// run took 0.71x to 0.91x the CPU of one at the default pace. A short command can let its
// heap grow further between collections (140 MB at most for those 500 structs).
const CommandGCPercent = 400

// Main runs the cachegen command with args (without the program name) and returns its exit
// status: 0 on success, 1 when the input has errors or -check finds a stale file, 2 on a
// usage error. admin runs the "cache" subcommand; nil means the command has none.
//
// The first argument may be a command: "cache" (run by admin), "version", or "help",
// optionally followed by "cache" and a cache command; a package in a directory of one of
// these names is named ./cache, ./version, ./help. Help goes to stdout with status 0.
func Main(args []string, stdout, stderr io.Writer, admin func(args []string, stdout, stderr io.Writer) int) int {
	fs := flag.NewFlagSet("cachegen", flag.ContinueOnError)
	// Parse reports nothing itself: Main prints a one-line error, or the usage for -h.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	check := fs.Bool("check", false, "write nothing; exit 1 with a diff if a generated file is missing or stale")
	output := fs.String("output", DefaultOutput, "name of the generated `file` in each package directory")
	tags := fs.String("tags", "", "comma-separated build `tags` to load packages with, as go build -tags")
	printVersion := fs.Bool("version", false, "print the version of cachegen and exit")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}

	if len(args) > 0 {
		switch args[0] {
		case "cache":
			if admin != nil {
				return admin(args[1:], stdout, stderr)
			}
		case "version":
			if len(args) > 1 {
				return usageError(stderr, "version: unexpected arguments %q", args[1:])
			}
			fmt.Fprintln(stdout, version())
			return 0
		case "help":
			switch {
			case len(args) == 1:
				printUsage(stdout)
				return 0
			case args[1] == "cache" && admin != nil:
				return admin(append([]string{"help"}, args[2:]...), stdout, stderr)
			case args[1] == "version" && len(args) == 2:
				fmt.Fprintf(stdout, "usage: %s version\n\nVersion prints the version of cachegen, as -version does.\n", prog)
				return 0
			default:
				return usageError(stderr, "help %s: unknown help topic", strings.Join(args[1:], " "))
			}
		}
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return 0
		}
		return usageError(stderr, "%v", err)
	}
	if *printVersion {
		fmt.Fprintln(stdout, version())
		return 0
	}
	cfg := Config{Patterns: fs.Args(), Output: *output}
	if *tags != "" {
		cfg.BuildFlags = []string{"-tags=" + *tags}
	}
	wd, _ := os.Getwd() // for shorter paths in messages; without it they stay absolute
	files, err := Generate(cfg)
	if err != nil {
		var list ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				e.Pos.Filename = relative(wd, e.Pos.Filename)
				fmt.Fprintln(stderr, e)
			}
		} else {
			fmt.Fprintf(stderr, "cachegen: %v\n", err)
		}
		return 1
	}
	for _, f := range files {
		for _, w := range f.Warnings {
			w.Pos.Filename = relative(wd, w.Pos.Filename)
			if w.Pos.IsValid() {
				fmt.Fprintf(stderr, "%s: warning: %s\n", w.Pos, w.Msg)
			} else {
				fmt.Fprintf(stderr, "warning: %s\n", w.Msg)
			}
		}
	}
	if *check {
		stale := 0
		for _, f := range files {
			if d := f.Diff(filepath.ToSlash(relative(wd, f.Path))); d != "" {
				stale++
				fmt.Fprint(stdout, d)
			}
		}
		if stale > 0 {
			fmt.Fprintf(stderr, "cachegen: %d generated file(s) out of date; run go generate\n", stale)
			return 1
		}
		return 0
	}
	if err := Write(files); err != nil {
		fmt.Fprintf(stderr, "cachegen: %v\n", err)
		return 1
	}
	return 0
}

// relative shortens a path under the working directory wd to ./path, as the go command does.
func relative(wd, path string) string {
	if path == "" || wd == "" {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return "." + string(filepath.Separator) + rel
}
