package gen

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// tagCases are struct tags a raw string does not hold exactly, or holds only over lines.
var tagCases = []string{"plain", "a`b", "a\x00b", "c\rd", "n\nl", "t\tb", "x\x7fy", "bom\uFEFF", "bad\xffutf8", ""}

// TestTagsKeptExactly: a struct tag is written so that the code compiles and holds the tag
// the user wrote, byte for byte: in the guard (one line, as gofmt leaves it) and in the
// input msgp reads (where a tag stays raw wherever a raw string holds it, since msgp reads
// its msg key only from a raw string).
func TestTagsKeptExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("loads packages with the go command; skipped with -short")
	}
	src := "package m\n\n//cachegen:key\ntype K struct {\n\tA struct {\n"
	for i, tag := range tagCases {
		src += "\t\tF" + strconv.Itoa(i) + " int " + strconv.Quote(tag) + "\n"
	}
	src += "\t}\n}\n\n//cachegen:value\ntype V struct {\n\tN int " + strconv.Quote("msg:\"nn\"\nx:\"y\"") + "\n}\n"
	dir := t.TempDir()
	writeModule(t, dir, map[string]string{"go.mod": "module example.com/m\n\ngo 1.26\n", "k.go": src})
	files, err := Generate(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	gen := string(files[0].Content)
	f, err := parser.ParseFile(token.NewFileSet(), "gen.go", gen, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if fld, ok := n.(*ast.Field); ok && fld.Tag != nil && len(fld.Names) == 1 {
			if strings.Contains(fld.Tag.Value, "\n") {
				t.Errorf("%s: tag written over lines: %s", fld.Names[0].Name, fld.Tag.Value)
			}
			got[fld.Names[0].Name], _ = strconv.Unquote(fld.Tag.Value)
		}
		return true
	})
	for i, tag := range tagCases {
		name := "F" + strconv.Itoa(i)
		if tag == "" {
			continue
		}
		if g, ok := got[name]; !ok || g != tag {
			t.Errorf("%s: the guard holds tag %q, want %q", name, g, tag)
		}
	}
	// msgp read the msg key of a tag that spans lines.
	if !strings.Contains(gen, `case "nn":`) {
		t.Errorf("msgp did not read the msg key of a multi-line tag:\n%s", gen)
	}

}
