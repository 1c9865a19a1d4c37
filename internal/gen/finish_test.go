package gen

import (
	"bytes"
	"go/format"
	"go/parser"
	"go/scanner"
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
		got := formatPiece([]byte(src), nil, imports, &unitMemo{units: map[unitKey]*formattedUnit{}})
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

// TestFormatLines checks formatting by lines against go/format on pieces written one
// statement a line, as msgp writes them, and that it declines what it does not take: code it
// would format otherwise than gofmt, or that does not parse.
func TestFormatLines(t *testing.T) {
	memo := &unitMemo{units: map[unitKey]*formattedUnit{}}
	for _, src := range []string{
		"// M implements msgp.X\nfunc (z *T) M(b []byte) (o []byte, err error) {\no = append(o, 0x83,0xa6,)\nif err != nil { return }\nvar field []byte; _ = field\nreturn\n}\n",
		"func f() {\nswitch msgp.UnsafeString(field) {\ncase \"a\":\nx = 1\n// comment\ny = 2\ndefault:\nerr = dc.Skip()\n}\n}\n",
		"func f() {\nif a { b(); } else { \nif c == nil { c = new(T); }\n{ var zb int8\nzb, err = r()\n}\n}\n}\n",
		"func f() {\nif cap(z.T) >= int(n) { z.T = (z.T)[:n] } else { z.T = make([]struct{\nOffset uint32 ;\nCode uint8 ;\n}, n) }\n}\n",
		"func f() {\nif a {\nx()\n} else if b {\ny()\n} else {\nz()\n}\n}\n\n\n// G is.\nfunc g() {\n}\nfunc h() {\n}\n// I is.\nfunc i() {\nfor i := range x {\n_ = len(\"{\") + i\n}\n}\n",
	} {
		want, err := format.Source([]byte(piecePrefix + src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		want = bytes.TrimPrefix(want, []byte(piecePrefix))
		got, names, ok := formatLines([]byte(src), memo)
		if !ok {
			t.Errorf("%q: declined", src)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%q: got\n%s\nwant\n%s", src, got, want)
		}
		f, err := parser.ParseFile(token.NewFileSet(), "", piecePrefix+src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if wantNames := scanNames(f); !maps.Equal(names.selX, wantNames.selX) || !slices.Equal(names.predeclared, wantNames.predeclared) {
			t.Errorf("%q: names %v %v, want %v %v", src, names.selX, names.predeclared, wantNames.selX, wantNames.predeclared)
		}
	}
	for _, src := range []string{
		"func f() {\ncase 1:\n}\n",                              // a case outside a switch
		"func f() {\nfor {\n} else {\n}\n}\n",                   // an else after a for
		"func f() {\nswitch {\nx = 1\ncase true:\n}\n}\n",       // a statement before the first case
		"func f() {\nx = 1 // trailing\n}\n",                    // a comment beside code
		"func f() {\nx = 1\n\ny = 2\n}\n",                       // a blank line in a function
		"const (\na = 1\n)\n",                                   // a declaration other than a function
		"func f() {\nL:\nfor {\nbreak L\n}\n}\n",                // a label
		"// - a list\nfunc f() {\n}\n",                          // a doc comment gofmt reformats
		"func f() {\nswitch {\ncase true:\n// c\n}\n}\n",        // a comment before a closing brace
		"func f() {\nx := `a\nb`\n}\n",                          // a raw string over lines
		"func f() {\nif a { x() } else { y() }; if b {\n}\n}\n", // an if whose block is not the first
		// Comments in a function that gofmt rewrites: to "// x", to "// code", dropped, the
		// directive moved after the other line, to "// - a list".
		"func f() {\nx = 2\n//x\nx = 1\n}\n",
		"func f() {\nx = 2\n//\tcode\nx = 1\n}\n",
		"func f() {\nx = 2\n//\nx = 1\n}\n",
		"func f() {\n//go:noinline\n// a\nx = 1\n}\n",
		"func f() {\nx = 2\n//  - a list\nx = 1\n}\n",
	} {
		if got, _, ok := formatLines([]byte(src), memo); ok {
			t.Errorf("%q: formatted as\n%s", src, got)
		}
	}
}

// cutTopLevelScanner is cutTopLevel as go/scanner's tokens tell it, to check cutTopLevel's
// reading of bytes against.
func cutTopLevelScanner(src []byte) (head []byte, pieces [][]byte, ok bool) {
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	bad := false
	s.Init(file, src, func(token.Position, string) { bad = true }, scanner.ScanComments)
	depth, prevEnd, start := 0, 0, -1
	ended := false // the last token other than a comment ends a top-level declaration
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		off := file.Offset(pos)
		if depth == 0 && ended && (tok == token.COMMENT || tok == token.FUNC || tok == token.TYPE || tok == token.VAR || tok == token.CONST) &&
			bytes.Count(src[prevEnd:off], []byte("\n")) >= 2 {
			// Cut after the line of the previous token.
			cut := prevEnd + bytes.IndexByte(src[prevEnd:off], '\n') + 1
			switch {
			case start < 0:
				head, start = src[:cut], cut
			case cut-start >= pieceSize:
				pieces = append(pieces, src[start:cut])
				start = cut
			}
		}
		switch tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
		}
		if tok == token.SEMICOLON && lit == "\n" {
			ended = depth == 0
			continue // inserted at a newline: nothing is written
		}
		if tok != token.COMMENT {
			ended = tok == token.SEMICOLON && depth == 0
		}
		if tok == token.IMPORT && start >= 0 && len(pieces) == 0 && start == len(head) {
			// An import after a comment that was taken for the first declaration's:
			// the head goes on.
			head, start = nil, -1
		}
		if lit != "" {
			prevEnd = off + len(lit)
		} else {
			prevEnd = off + len(tok.String())
		}
	}
	if bad || start < 0 || depth != 0 {
		return nil, nil, false
	}
	if start < len(src) {
		pieces = append(pieces, src[start:])
	}
	return head, pieces, len(pieces) > 0
}

// TestCutTopLevel checks cutTopLevel's cuts against those go/scanner's tokens give, on every Go
// file of the repository (generated ones included) and on inputs whose tokens are harder to
// read, with a cut at every possible place and at the usual size.
func TestCutTopLevel(t *testing.T) {
	defer func(size int) { pieceSize = size }(pieceSize)
	inputs := map[string][]byte{
		"semicolons": []byte("package p\n\nvar a = 1; var b = 2\n\n/* a\ncomment */\n\nfunc f() { x++ }\n\n// c\nconst c = 'x' + '\\'' + \"}\\\"\"\n\ntype T struct{ A int `json:\"a\"` }\n\nvar r = `{\n\n}`\n\nvar f = .5 + 1e+3 + 0x1F\n\nfunc g() {\n\treturn\n}\n"),
		"bad":        []byte("package p\n\nvar s = \"abc\n"),
		"unclosed":   []byte("package p\n\nfunc f() {\n\n"),
		"imports":    []byte("// Package p.\npackage p\n\n// A comment.\n\nimport \"fmt\"\n\nvar _ = fmt.Sprint\n\nvar x = 1\n"),
	}
	root := repoRoot(t)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".go" {
			return err
		}
		src, err := os.ReadFile(path)
		inputs[path] = src
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 32 << 10} {
		pieceSize = size
		for name, src := range inputs {
			head, pieces, ok := cutTopLevel(src)
			wantHead, wantPieces, wantOK := cutTopLevelScanner(src)
			if ok != wantOK || !bytes.Equal(head, wantHead) || !slices.EqualFunc(pieces, wantPieces, bytes.Equal) {
				t.Errorf("%s, pieces of %d bytes: cut into %d pieces (%t), want %d (%t)", name, size, len(pieces), ok, len(wantPieces), wantOK)
			}
		}
	}
}
