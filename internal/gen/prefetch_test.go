package gen

import (
	"errors"
	"go/build"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"golang.org/x/tools/go/packages"
)

// TestGuessExports: the prefetch asks about the imports of the files the go command would
// build in the target directories, but "C", tests, files excluded by build constraints and
// cachegen's own file; patterns that are not directories, workspaces, and files that import
// a package of the main module get no guess.
func TestGuessExports(t *testing.T) {
	t.Setenv("GOWORK", "")
	root := t.TempDir()
	files := map[string]string{
		"go.mod":            "module example.com/m\n\ngo 1.22\n",
		"p/a.go":            "package p\n\nimport (\n\t\"fmt\"\n\t_ \"example.com/mx\"\n)\n\nvar _ = fmt.Sprint\n",
		"sub/a.go":          "package sub\n\nimport (\n\t\"fmt\"\n\t_ \"example.com/m/p\"\n)\n",
		"root/a.go":         "package root\n\nimport _ \"example.com/m\"\n",
		"rel/a.go":          "package rel\n\nimport _ \"./p\"\n",
		"cgo/a.go":          "package cgo\n\n// int x;\nimport \"C\"\n\nimport \"os\"\n",
		"p/b.go":            "package p\n\nimport \"strings\"\n\nvar _ = strings.Cut\n",
		"p/a_test.go":       "package p\n\nimport \"testing\"\n\nvar _ testing.T\n",
		"p/ignored.go":      "//go:build ignore\n\npackage p\n\nimport \"net/http\"\n",
		"p/tagged.go":       "//go:build foo\n\npackage p\n\nimport \"bufio\"\n",
		"p/_hidden.go":      "package p\n\nimport \"bytes\"\n",
		"p/broken.go":       "package p\n\nimport (\n",
		"p/cachegen_gen.go": generatedHeader + "\n\npackage p\n\nimport \"github.com/tinylib/msgp/msgp\"\n",
		"p/x.txt":           "import \"os\"\n",
	}
	for name, src := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(root, "p")
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"default pattern", Config{Dir: p}, []string{"example.com/mx", "fmt", "strings", "unsafe"}},
		{"tags", Config{Dir: p, BuildFlags: []string{"-tags=foo,bar"}}, []string{"bufio", "example.com/mx", "fmt", "strings", "unsafe"}},
		{"tags as two arguments", Config{Dir: p, BuildFlags: []string{"--tags", "foo"}}, []string{"bufio", "example.com/mx", "fmt", "strings", "unsafe"}},
		{"relative directory", Config{Dir: root, Patterns: []string{"./p"}}, []string{"example.com/mx", "fmt", "strings", "unsafe"}},
		{"absolute directory", Config{Patterns: []string{p}}, []string{"example.com/mx", "fmt", "strings", "unsafe"}},
		{"other output name", Config{Dir: p, Output: "other_gen.go"}, []string{"example.com/mx", "fmt", "github.com/tinylib/msgp/msgp", "strings", "unsafe"}},
		{"dots", Config{Dir: root, Patterns: []string{"./..."}}, nil},
		{"import path", Config{Dir: root, Patterns: []string{"example.com/m/p"}}, nil},
		{"one of two patterns an import path", Config{Dir: root, Patterns: []string{"./p", "example.com/m/p"}}, nil},
		{"missing directory", Config{Dir: root, Patterns: []string{"./nothing"}}, nil},
		{"a package of the main module", Config{Dir: root, Patterns: []string{"./sub"}}, nil},
		{"the main module's root package", Config{Dir: root, Patterns: []string{"./root"}}, nil},
		{"a relative import", Config{Dir: root, Patterns: []string{"./rel"}}, nil},
		{"one of two directories imports the main module", Config{Dir: root, Patterns: []string{"./p", "./sub"}}, nil},
		{"cgo", Config{Dir: root, Patterns: []string{"./cgo"}}, ifCgo([]string{"os", "unsafe"}, []string{"unsafe"})},
		{"two directories", Config{Dir: root, Patterns: []string{"./p", "./cgo"}}, ifCgo([]string{"example.com/mx", "fmt", "os", "strings", "unsafe"}, []string{"example.com/mx", "fmt", "strings", "unsafe"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := guessExports(tt.cfg); !slices.Equal(got, tt.want) {
				t.Errorf("guessExports = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("workspace", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(root, "go.work"), []byte("go 1.22\n\nuse .\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(filepath.Join(root, "go.work"))
		if got := guessExports(Config{Dir: p}); got != nil {
			t.Errorf("guessExports in a workspace = %q, want none", got)
		}
		t.Setenv("GOWORK", "off")
		if got := guessExports(Config{Dir: p}); len(got) == 0 {
			t.Error("guessExports with GOWORK=off made no guess")
		}
	})
	t.Run("no module", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "a.go"), []byte("package a\n\nimport \"fmt\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got := guessExports(Config{Dir: dir})
		if inModule := modulePath(dir) != ""; inModule != (got != nil) {
			t.Errorf("guessExports = %q in a directory of module %q", got, modulePath(dir))
		}
	})
}

// ifCgo returns on when cgo is on (build.Default, as the go command has it here), off when
// it is not.
func ifCgo(on, off []string) []string {
	if build.Default.CgoEnabled {
		return on
	}
	return off
}

// TestPrefetchTake: what typeCheck takes from a prefetch is what listing its paths alone
// gives, whether the prefetch asked about more, fewer or other packages, or failed.
func TestPrefetchTake(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	ctx := t.Context()
	want := []string{"bufio", "fmt", "no/such/package", "unsafe"}
	exports, sizes, err := listExports(ctx, Config{}, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(exports) != len(want) || exports["no/such/package"] == nil || len(exports["no/such/package"].Errors) == 0 {
		t.Fatalf("listing %q: %v", want, exports)
	}
	prefetched := func(paths ...string) *exportPrefetch {
		pre := &exportPrefetch{done: make(chan struct{}), paths: paths}
		pre.exports, pre.sizes, pre.err = listExports(ctx, Config{}, paths)
		close(pre.done)
		return pre
	}
	failed := &exportPrefetch{done: make(chan struct{}), paths: want, err: errors.New("go: failed")}
	close(failed.done)
	// A prefetch whose map holds a package it did not ask about (which cannot happen
	// unless the go command lists more than it is asked) does not supply it.
	extra := prefetched("fmt")
	extra.exports["bufio"] = &packages.Package{PkgPath: "bufio", ExportFile: "not-export-data"}
	for name, pre := range map[string]*exportPrefetch{
		"none":    nil,
		"same":    prefetched(want...),
		"more":    prefetched("bufio", "bytes", "fmt", "io", "no/such/package", "os", "unsafe"),
		"fewer":   prefetched("fmt", "unsafe"),
		"other":   prefetched("os", "unsafe"),
		"failed":  failed,
		"not own": extra,
	} {
		t.Run(name, func(t *testing.T) {
			got, gotSizes, err := pre.take(ctx, Config{}, want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, exports) || !reflect.DeepEqual(gotSizes, sizes) {
				t.Errorf("take = %v, %v; want %v, %v", got, gotSizes, exports, sizes)
			}
		})
	}
}
