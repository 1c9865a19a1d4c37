package gen

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const usage = `usage: cachegen [-check] [-output file] [-tags tags] [packages]
       cachegen cache stats|trim|clear -dir DIR

cachegen writes, for every struct annotated //cachegen:key in a Go package, an
exhaustive HashKey method, and for every struct annotated //cachegen:value msgp
serializers, into one generated file per package. Run it from go generate:

	//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

With no packages it works on the package in the current directory.

Flags:
`

// Main runs the cachegen command with args (without the program name) and returns its exit
// status: 0 on success, 1 when the input has errors or -check finds a stale file, 2 on a
// usage error. admin runs the "cache" subcommand; nil means the command has none.
func Main(args []string, stdout, stderr io.Writer, admin func(args []string, stdout, stderr io.Writer) int) int {
	if len(args) > 0 && args[0] == "cache" && admin != nil {
		return admin(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("cachegen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "write nothing; exit 1 with a diff if a generated file is missing or stale")
	output := fs.String("output", DefaultOutput, "name of the generated file in each package directory")
	tags := fs.String("tags", "", "comma-separated build tags to load packages with")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
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
