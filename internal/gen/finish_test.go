package gen

import (
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
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

// TestFormatPieceNames checks that the names a piece is read for without resolving its
// identifiers are those resolution gives: the names its selectors qualify that may be
// imports, and the predeclared names it uses, when the piece declares such names too.
func TestFormatPieceNames(t *testing.T) {
	imports := map[string]bool{"time": true, "msgp": true, "keyhash": true}
	for _, src := range []string{
		"func (z *T) M() int { return len(z.x) + int(time.Now().Unix()) }\n",
		"func f(time int) int { return time.X }\n",
		"func f() { { time := 1; _ = time }; _ = time.Now() }\n",
		"func f() { for time := range 3 { _ = time.X }; _ = msgp.X }\n",
		"func f() { len := 1; _ = len }\n",
		"func f() { { len := 1; _ = len }; _ = len(\"x\") }\n",
		"func f() int { type int = string; return 0 }\n",
		"type S struct{ len, time int }\n\nfunc (s S) f() int { return s.len + len(\"\") }\n",
		"func (x Box[time]) f() { _ = time.X }\n",
		"var time = 1\n\nfunc f() { _ = time.X }\n",
		"func f() { L: for { break L }; _ = keyhash.X }\n",
		"func f() { string: for { break string } }\n",
	} {
		text := []byte(piecePrefix + src)
		f, err := parser.ParseFile(token.NewFileSet(), "", text, parser.ParseComments)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		wantNeed := map[string]bool{}
		for name := range importNeeds(f) {
			if imports[name] {
				wantNeed[name] = true
			}
		}
		wantPre := predeclaredUses(f)
		got := formatPiece([]byte(src), nil, imports)
		if got.out == nil {
			t.Fatalf("%q: not formatted", src)
		}
		gotNeed := map[string]bool{}
		for name := range got.need {
			if imports[name] {
				gotNeed[name] = true
			}
		}
		if !maps.Equal(gotNeed, wantNeed) || !slices.Equal(got.predeclared, wantPre) {
			t.Errorf("%q: need %v, predeclared %v; want %v, %v", src, gotNeed, got.predeclared, wantNeed, wantPre)
		}
	}
}
