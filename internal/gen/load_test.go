package gen

import (
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestParsePos(t *testing.T) {
	tests := []struct {
		in   string
		want token.Position
	}{
		{"", token.Position{}},
		{"-", token.Position{}},
		{"a.go:3:7", token.Position{Filename: "a.go", Line: 3, Column: 7}},
		{"c:/x/a.go:3:7", token.Position{Filename: "c:/x/a.go", Line: 3, Column: 7}},
		{"a.go:12", token.Position{Filename: "a.go", Line: 12}},
		{"a.go", token.Position{Filename: "a.go"}},
		{"dir:name/a.go:x", token.Position{Filename: "dir:name/a.go:x"}},
	}
	for _, tt := range tests {
		if got := parsePos(tt.in); got != tt.want {
			t.Errorf("parsePos(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestOutputIsAFileName: the generated file belongs in each package's directory, so -output
// names a file, never a path.
func TestOutputIsAFileName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"", true},
		{"cachegen_gen.go", true},
		{"keys_gen.go", true},
		{"../x.go", false},
		{"sub/x.go", false},
		{"/tmp/x.go", false},
		{`..\x.go`, false},
		{"x.txt", false},
		{"x_test.go", false},
		{".x.go", false},
		{"_x.go", false},
	} {
		err := Config{Output: tt.name}.checkOutput()
		if (err == nil) != tt.ok {
			t.Errorf("checkOutput(%q) = %v, want ok=%t", tt.name, err, tt.ok)
		}
	}
}

// TestFileConstraint covers every way a file builds only in some configurations.
func TestFileConstraint(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, src string
		want      string // a word of the reason, or "" for none
	}{
		{"plain.go", "package p\n", ""},
		{"gobuild.go", "//go:build linux\n\npackage p\n", "//go:build"},
		{"plusbuild.go", "// +build linux\n\npackage p\n", "+build"},
		{"cgo.go", "package p\n\n// #include <stdint.h>\nimport \"C\"\n", "cgo"},
		{"k_linux.go", "package p\n", "GOOS=linux"},
		{"k_arm64.go", "package p\n", "GOARCH=arm64"},
		{"k_windows_amd64.go", "package p\n", "GOOS=windows GOARCH=amd64"},
		{"k_linux_test.go", "package p\n", "GOOS=linux"},
		{"linux.go", "package p\n", ""},
		{"k_notanos.go", "package p\n", ""},
		{"late.go", "package p\n\n//go:build linux\n", ""},
	} {
		path := filepath.Join(dir, tt.name)
		if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
			t.Fatal(err)
		}
		got := fileConstraint(path)
		if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: fileConstraint = %q, want one with %q", tt.name, got, tt.want)
		}
	}
}

// TestBrokenDependency: a dependency that does not compile has no export data; it is read
// from source instead, so that a key may still hold its types (the user's build reports its
// errors).
func TestBrokenDependency(t *testing.T) {
	if testing.Short() {
		t.Skip("loads packages with the go command; skipped with -short")
	}
	dir := t.TempDir()
	for name, src := range map[string]string{
		"go.mod":     "module example.com/m\n\ngo 1.26\n",
		"dep/dep.go": "package dep\n\ntype T struct{ A int }\n\nvar _ = undefinedThing\n",
		"k.go":       "package m\n\nimport \"example.com/m/dep\"\n\n//cachegen:key\ntype K struct {\n\tD dep.T\n\tN int\n}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Generate(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || !strings.Contains(string(files[0].Content), `h.Int("D.A", x.D.A)`) {
		t.Fatalf("the key's field of the broken dependency is not hashed:\n%s", files[0].Content)
	}
}

// TestBrokenDependencyImports: the packages that only a dependency read from source imports
// were not in the first go list -export; they are listed together, in one more call, not one
// call each.
func TestBrokenDependencyImports(t *testing.T) {
	if testing.Short() {
		t.Skip("loads packages with the go command; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("counts the go commands with a shell script in place of go")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	imports := []string{"bufio", "container/list", "encoding/csv", "encoding/hex", "errors", "hash/crc32", "math/bits", "sort", "text/tabwriter", "unicode/utf16"}
	dep := "package dep\n\nimport (\n"
	for _, path := range imports {
		dep += "\t_ \"" + path + "\"\n"
	}
	dep += ")\n\ntype T struct{ A int }\n\nvar _ int = \"broken\"\n"
	writeModule(t, dir, map[string]string{
		"go.mod":     "module example.com/m\n\ngo 1.26\n",
		"dep/dep.go": dep,
		"k.go":       "package m\n\nimport \"example.com/m/dep\"\n\n//cachegen:key\ntype K struct {\n\tD dep.T\n}\n",
		// Every go command is logged, then run.
		"bin/go": "#!/bin/sh\necho \"$*\" >> \"" + filepath.Join(dir, "go.log") + "\"\nexec \"" + goCmd + "\" \"$@\"\n",
	})
	if err := os.Chmod(filepath.Join(dir, "bin", "go"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", filepath.Join(dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	files, err := Generate(Config{Dir: dir, Patterns: []string{"."}})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || !strings.Contains(string(files[0].Content), `h.Int("D.A", x.D.A)`) {
		t.Fatalf("the key's field of the broken dependency is not hashed")
	}
	log, err := os.ReadFile(filepath.Join(dir, "go.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), " -export "); n != 2 {
		t.Errorf("%d go list -export commands, want 2 (the dependencies, then what the broken one imports):\n%s", n, log)
	}
}

// writeModule writes files (by slash-separated name) under dir.
func writeModule(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOldFileNeverBlocks: the go command lists the packages with the old generated files on
// disk, and reports errors that those files alone cause; none of them may stop the files
// from being regenerated, whether the old file is in the package generated or in an
// annotated package it imports.
func TestOldFileNeverBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("loads packages with the go command; skipped with -short")
	}
	const key = "\n//cachegen:key\ntype BK struct {\n\tN int\n}\n"
	for _, tt := range []struct {
		name  string
		files map[string]string // the package b, and c
		pkg   string            // b's name
	}{
		{
			// b's key used to hold a c.T, so its old file imports c; then c came to
			// import b: the only import cycle is through the old file.
			name: "import cycle through the old file",
			files: map[string]string{
				"b/b.go":            "package b\n" + key,
				"b/cachegen_gen.go": generatedHeader + "\n\npackage b\n\nimport \"example.com/m/c\"\n\nvar _ c.T\n",
				"c/c.go":            "package c\n\nimport \"example.com/m/b\"\n\ntype T struct{ K b.BK }\n",
			},
			pkg: "b",
		},
		{
			name: "old file cut after its header",
			files: map[string]string{
				"b/b.go":            "package b\n" + key,
				"b/cachegen_gen.go": generatedHeader + "\n",
			},
			pkg: "b",
		},
		{
			name: "package renamed, the old file sorts after the user's",
			files: map[string]string{
				"b/b.go":            "package b2\n" + key,
				"b/cachegen_gen.go": generatedHeader + "\n\npackage b\n",
			},
			pkg: "b2",
		},
		{
			name: "package renamed, the old file sorts before the user's",
			files: map[string]string{
				"b/k.go":            "package b2\n" + key,
				"b/cachegen_gen.go": generatedHeader + "\n\npackage b\n",
			},
			pkg: "b2",
		},
	} {
		for _, where := range []string{"target", "dependency"} {
			t.Run(tt.name+"/"+where, func(t *testing.T) {
				dir := t.TempDir()
				writeModule(t, dir, tt.files)
				writeModule(t, dir, map[string]string{
					"go.mod": "module example.com/m\n\ngo 1.26\n",
					"a/a.go": "package a\n\nimport \"example.com/m/b\"\n\n//cachegen:key\ntype AK struct {\n\tB " + tt.pkg + ".BK\n}\n",
				})
				pattern, want := "./b", "package "+tt.pkg+"\n"
				if where == "dependency" {
					pattern, want = "./a", `x.B.HashKey(h.Field("B"))`
				}
				files, err := Generate(Config{Dir: dir, Patterns: []string{pattern}})
				if err != nil {
					t.Fatal(err)
				}
				if len(files) != 1 {
					t.Fatalf("got %d files, want 1", len(files))
				}
				if !strings.Contains(string(files[0].Content), want) {
					t.Fatalf("the generated file lacks %q:\n%s", want, files[0].Content)
				}
			})
		}
	}
}

// TestConstraintCheckUnderTrimpath: with -trimpath in GOFLAGS, export data names its files
// by import path; the type of a dependency declared under a build constraint must still be
// refused, as without it.
func TestConstraintCheckUnderTrimpath(t *testing.T) {
	if testing.Short() {
		t.Skip("loads packages with the go command; skipped with -short")
	}
	dir := t.TempDir()
	writeModule(t, dir, map[string]string{
		"go.mod":   "module example.com/m\n\ngo 1.26\n",
		"dep/a.go": "//go:build !cachegen_never\n\npackage dep\n\ntype Plat struct{ A int }\n",
		"k.go":     "package m\n\nimport \"example.com/m/dep\"\n\n//cachegen:key\ntype K struct {\n\tP dep.Plat\n}\n",
	})
	for _, goflags := range []string{"", "-trimpath"} {
		t.Setenv("GOFLAGS", goflags)
		_, err := Generate(Config{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), "type dep.Plat is declared in a.go, which builds only under its //go:build line") {
			t.Errorf("GOFLAGS=%s: got %v, want the constraint of dep.Plat reported", goflags, err)
		}
	}
}
