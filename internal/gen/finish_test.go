package gen

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFinishPieces checks that formatting the generated file by pieces gives the bytes that
// formatting it whole gives, with a cut at every blank line between top-level declarations:
// on the golden packages, the consumer module's tricky shapes (imports renamed because the
// package declares their names, among others) and a generated package of 10 structs.
func TestFinishPieces(t *testing.T) {
	if testing.Short() {
		t.Skip("loads packages with the go command; skipped with -short")
	}
	defer func(size int) { pieceSize, verifyPieces = size, false }(pieceSize)
	pieceSize, verifyPieces = 1, true
	check := func(t *testing.T, cfg Config) {
		files, err := Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatal("no files")
		}
	}
	for _, name := range caseDirs(t, "golden") {
		t.Run(name, func(t *testing.T) {
			check(t, Config{Dir: filepath.Join(repoRoot(t), "testdata", "golden", name)})
		})
	}
	t.Run("consumer", func(t *testing.T) {
		c := newConsumer(t, consumerFiles(t))
		check(t, Config{Dir: c.dir, Patterns: []string{"./..."}})
	})
	t.Run("structs=10", func(t *testing.T) {
		dir, _ := benchPackage(t, 10)
		check(t, Config{Dir: dir})
		if _, err := os.Stat(filepath.Join(dir, DefaultOutput)); err != nil {
			t.Fatal(err)
		}
	})
}
