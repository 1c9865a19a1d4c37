package gen

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current generator")

// repoRoot is the module root, two levels above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func caseDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "testdata", dir))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no cases in testdata/%s", dir)
	}
	return dirs
}

// TestGolden regenerates every package under testdata/golden and compares the result with the
// committed cachegen_gen.go beside it. Those files are compiled and exercised by other tests
// (runtime/keyhash's property tests hash the golden keys), so a golden is also a working
// program. go test ./internal/gen -update rewrites them.
func TestGolden(t *testing.T) {
	for _, name := range caseDirs(t, "golden") {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(repoRoot(t), "testdata", "golden", name)
			files, err := Generate(Config{Dir: dir})
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if len(files) != 1 {
				t.Fatalf("got %d files, want 1", len(files))
			}
			f := files[0]
			if *update {
				if err := Write(files); err != nil {
					t.Fatal(err)
				}
				return
			}
			if f.Stale() {
				t.Errorf("generated code differs from %s (go test ./internal/gen -update rewrites it):\n%s", f.Path, f.Diff(DefaultOutput))
			}
			again, err := Generate(Config{Dir: dir})
			if err != nil || !bytes.Equal(again[0].Content, f.Content) {
				t.Errorf("a second run gave different output (err %v)", err)
			}
		})
	}
}

// TestErrors runs the generator on each package under testdata/errors and compares the
// error list with want.txt, machine paths removed.
func TestErrors(t *testing.T) {
	for _, name := range caseDirs(t, "errors") {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(repoRoot(t), "testdata", "errors", name)
			files, err := Generate(Config{Dir: dir})
			if err == nil {
				t.Fatalf("Generate succeeded with %d files; want errors", len(files))
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList: %v", err, err)
			}
			got := strings.ReplaceAll(list.Error(), dir+string(filepath.Separator), "") + "\n"
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\n got:\n%s\nwant:\n%s", wantFile, got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, DefaultOutput)); err == nil {
				t.Errorf("the case directory holds a %s: a failing input must have none", DefaultOutput)
			}
		})
	}
}
