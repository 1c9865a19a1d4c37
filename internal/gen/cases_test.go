package gen

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// consumerFiles returns the files of testdata/consumer: a module's packages holding every
// shape of key the generator once let fall out of a digest or out of its stale guard, or
// generated code for that did not compile, and a main that checks every field reaches the
// digest.
func consumerFiles(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("testdata", "consumer")
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestAcceptedInputsCompile is the invariant that every input cachegen accepts gets code
// that compiles, and that every field of it reaches the digest: named slices, maps, arrays
// and pointers, recursive types, foreign enums of packages with the same name, instances of
// generic named types, an exported alias of an unexported type, package identifiers that
// shadow the generated file's imports, grouped declarations, and keys that contain keys of
// another package of the module.
func TestAcceptedInputsCompile(t *testing.T) {
	c := newConsumer(t, consumerFiles(t))
	c.mustRun("go", "tool", "cachegen", "./...")
	c.mustRun("go", "vet", "./...")
	if out := c.mustRun("go", "run", "."); out != "ok\n" {
		t.Fatalf("the consumer's checks failed:\n%s", out)
	}
	c.mustRun("go", "tool", "cachegen", "-check", "./...")
	for _, want := range []string{"group/" + DefaultOutput + ":func (x A) HashKey", "group/" + DefaultOutput + ":func (x C) HashKey"} {
		file, text, _ := strings.Cut(want, ":")
		if !strings.Contains(c.read(file), text) {
			t.Errorf("%s lacks %q", file, text)
		}
	}
	if strings.Contains(c.read("group/"+DefaultOutput), "func (x D) HashKey") {
		t.Error("group.D, not annotated, got a HashKey")
	}

	// An old generated file feeds nothing: one that does not even parse is regenerated
	// to the same content.
	fresh := c.read("shapes/" + DefaultOutput)
	c.write("shapes/"+DefaultOutput, generatedHeader+"\n\npackage shapes\n\nfunc (x K) HashKey( {\n")
	c.mustRun("go", "tool", "cachegen", "./shapes")
	if c.read("shapes/"+DefaultOutput) != fresh {
		t.Error("regenerating over a broken generated file gave another result")
	}

	// A key that holds a key of another package: one run, in any order, and one package at
	// a time in either order, from a module with no generated file.
	crossFiles := []string{"cross/a/" + DefaultOutput, "cross/b/" + DefaultOutput}
	want := map[string]string{}
	for _, f := range crossFiles {
		want[f] = c.read(f)
	}
	runs := [][][]string{
		{{"./cross/a", "./cross/b"}},
		{{"./cross/b", "./cross/a"}},
		{{"./cross/..."}},
		{{"./cross/a"}, {"./cross/b"}},
		{{"./cross/b"}, {"./cross/a"}},
	}
	for _, run := range runs {
		for _, f := range crossFiles {
			os.Remove(filepath.Join(c.dir, f))
		}
		for _, args := range run {
			c.mustRun("go", append([]string{"tool", "cachegen"}, args...)...)
		}
		for _, f := range crossFiles {
			if got := c.read(f); got != want[f] {
				t.Errorf("runs %v: %s differs from a whole-module run", run, f)
			}
		}
	}
	for _, f := range crossFiles {
		os.Remove(filepath.Join(c.dir, f))
	}
	c.mustRun("go", "generate", "./cross/...") // a sorts first
	c.mustRun("go", "build", "./...")
	c.mustRun("go", "tool", "cachegen", "-check", "./...")
}

// TestLostHashKeyPanics: when a key of another package that embeds a key stops being
// annotated and only its package is regenerated, the stale code still builds (the embedded
// key's HashKey is promoted); hashing must then panic, not skip the type's other fields.
func TestLostHashKeyPanics(t *testing.T) {
	c := newConsumer(t, consumerFiles(t))
	c.mustRun("go", "tool", "cachegen", "./...")
	c.edit("cross/b/b.go", "// SK embeds a key and adds a field: its own HashKey covers both.\n//\n//cachegen:key\n", "")
	c.mustRun("go", "tool", "cachegen", "./cross/b")
	c.mustRun("go", "build", "./...")
	out, stderr, ok := c.run("go", "run", ".")
	if ok || !strings.Contains(stderr, "cross/b.SK is hashed by the HashKey method it promotes") {
		t.Fatalf("hashing a key whose HashKey is now promoted: ok=%t\n%s%s", ok, out, stderr)
	}
}

// TestStaleGuardCoversNamedTypes changes, without regenerating, each named type whose shape
// the generated code relies on, in the package and in another, and expects the build to
// fail at the guard.
func TestStaleGuardCoversNamedTypes(t *testing.T) {
	c := newConsumer(t, consumerFiles(t))
	c.mustRun("go", "tool", "cachegen", "./...")
	edits := []struct{ file, old, new string }{
		{"shapes/k.go", "type Items []struct{ A int }", "type Items []struct{ A, B int }"},
		{"shapes/k.go", "type IDs []int", "type IDs map[int]int"},
		{"shapes/k.go", "type Table map[string]int", "type Table map[string]int64"},
		{"shapes/k.go", "type Grid [2][3]int8", "type Grid [2][4]int8"},
		{"shapes/k.go", "type Ref *int", "type Ref *int64"},
		{"shapes/k.go", "type Mode int32", "type Mode float32"},
		{"recursive/k.go", "type Forest []struct{ Kids Forest }", "type Forest []struct{ Kids Forest; N int }"},
		{"a/model/m.go", "type Mode int8", "type Mode int16"},
		{"a/model/m.go", "type mode uint16", "type mode uint32"},
		{"generic/k.go", "type List[T any] []T", "type List[T any] map[int]T"},
		{"cross/b/b.go", "type Inner struct{ S string }", "type Inner struct{ S, T string }"},
		{"more/k.go", "Size  = Small", "Size  = Big"},
		{"b/model/m.go", "type unexp []unexp", "type unexp map[int]unexp"},
		// Structs of another package, hashed field by field.
		{"foreign/api/api.go", "	Version string\n}", "	Version string\n	Beta    bool\n}"},
		{"foreign/api/api.go", "	Label string\n", "	Label []byte\n"},
		{"foreign/api/api.go", "	Inline  struct{ A, B int }", "	Inline  struct{ A, B, C int }"},
		{"foreign/api/api.go", "	LogLimit int", "	LogLimit int\n	Verbose bool"},
		{"foreign/api/api.go", "type Target uint8", "type Target uint16"},
		// Types of another package whose own methods generated code calls: losing them
		// leaves the embedded field's promoted ones, which cover that field alone.
		{"foreign/api/api.go", "func (z Zoned) MarshalBinary()", "func (z Zoned) marshalBinary()"},
		{"foreign/api/api.go", "func (z *Zoned) UnmarshalBinary(", "func (z *Zoned) unmarshalBinary("},
		{"foreign/api/api.go", "func (z Zoned) MarshalBinary() ([]byte, error) { return append([]byte{byte(z.A)}, z.Zone...), nil }\n\nfunc (z *Zoned) UnmarshalBinary(",
			"func (z Zoned) MarshalText() ([]byte, error) { return append([]byte{byte(z.A)}, z.Zone...), nil }\n\nfunc (z *Zoned) UnmarshalText("},
		{"foreign/api/api.go", "func (z WireZone) EncodeMsg(", "func (z WireZone) encodeMsg("},
		// The same for a generic type that a generic key instantiates with its type
		// parameter (guarded in a generic function), and for an instance of an unexported
		// generic type named through an exported alias (guarded through the alias): their
		// encodings move to an embedded field and are promoted.
		{"foreign/api/api.go", "type Box[T any] struct{ V T }\n\nfunc (b Box[T]) MarshalBinary() ([]byte, error) { return []byte(fmt.Sprint(b.V)), nil }\n\nfunc (b *Box[T]) UnmarshalBinary(",
			"type Box[T any] struct {\n\tboxIn[T]\n\tExtra string\n}\n\ntype boxIn[T any] struct{ V T }\n\nfunc (b boxIn[T]) MarshalBinary() ([]byte, error) { return []byte(fmt.Sprint(b.V)), nil }\n\nfunc (b *boxIn[T]) UnmarshalBinary("},
		{"foreign/api/api.go", "type ubox[T any] struct{ V T }\n\nfunc (b ubox[T]) MarshalBinary() ([]byte, error) { return []byte(fmt.Sprint(b.V)), nil }\n\nfunc (b *ubox[T]) UnmarshalBinary(",
			"type ubox[T any] struct {\n\tuboxIn[T]\n\tExtra string\n}\n\ntype uboxIn[T any] struct{ V T }\n\nfunc (b uboxIn[T]) MarshalBinary() ([]byte, error) { return []byte(fmt.Sprint(b.V)), nil }\n\nfunc (b *uboxIn[T]) UnmarshalBinary("},
		{"foreign/api/api.go", "func (z *pmg[T]) EncodeMsg(", "func (z *pmg[T]) encodeMsg("},
		{"foreign/api/api.go", "func (z *WireZone) UnmarshalMsg(", "func (z *WireZone) unmarshalMsg("},
	}
	for _, e := range edits {
		t.Run(e.old, func(t *testing.T) { c.mustBeStale(t, e.file, e.old, e.new, "_changed_run_go_generate") })
	}
	c.mustRun("go", "build", "./...")
}

var beginLine = regexp.MustCompile(`h\.Begin\("example\.com/consumer/(\w+)\.K", [^)]*\)`)

// TestFingerprintCoversShape regenerates after changes that keep every field's type name and
// expects the fingerprint to change: it must describe the structure behind the names.
func TestFingerprintCoversShape(t *testing.T) {
	c := newConsumer(t, consumerFiles(t))
	c.mustRun("go", "tool", "cachegen", "./...")
	fingerprint := func(pkg string) string {
		m := beginLine.FindString(c.read(pkg + "/" + DefaultOutput))
		if m == "" {
			t.Fatalf("no Begin of K in %s", pkg)
		}
		return m
	}
	edits := []struct{ file, old, new string }{
		{"shapes/k.go", "type Mode int32", "type Mode float32"},
		{"shapes/k.go", "type Items []struct{ A int }", "type Items []struct{ A, B int32 }"},
		{"shapes/k.go", "type Items []struct{ A int }", "type Items []struct{ A int `cache:\"-\"` }"},
		{"shapes/k.go", "type Grid [2][3]int8", "type Grid [3][2]int8"},
		{"recursive/k.go", "type Tree map[string]Tree", "type Tree map[int]Tree"},
		{"twoenums/k.go", "B model.Mode", "B amodel.Mode"},
		{"foreign/api/api.go", "	Version string\n}", "	Version string\n	Beta    bool `json:\"beta\"`\n}"},
		{"foreign/api/api.go", "	Name    EngineName", "	Name    string"},
		{"foreign/k.go", "func hashHidden(h *keyhash.Hasher, v api.Hidden) {", "func hashHidden2(h *keyhash.Hasher, v api.Hidden) {"},
	}
	for _, e := range edits {
		t.Run(e.new, func(t *testing.T) {
			pkg := filepath.Dir(e.file)
			if pkg == "foreign/api" {
				pkg = "foreign" // the keys that use its types
			}
			before := fingerprint(pkg)
			orig := c.read(e.file)
			defer func() {
				c.write(e.file, orig)
				c.mustRun("go", "tool", "cachegen", "./"+pkg)
				if fingerprint(pkg) != before {
					t.Error("restoring the type did not restore the fingerprint")
				}
			}()
			c.edit(e.file, e.old, e.new)
			c.mustRun("go", "tool", "cachegen", "./"+pkg)
			if fingerprint(pkg) == before {
				t.Errorf("the fingerprint of %s.K did not change", pkg)
			}
		})
	}
}

// TestStandardLibraryBuildDependence: declarations of other packages whose value differs
// between builds are refused, read from their source (the standard library's files are named
// relative to $GOROOT in export data), whether or not a generated file exists.
func TestStandardLibraryBuildDependence(t *testing.T) {
	c := newConsumer(t, map[string]string{"k/k.go": `package k

import (
	"os"
	"runtime"
	"syscall"
)

//cachegen:key
type K struct {
	A [os.PathSeparator]byte
	S syscall.Signal
	G [len(runtime.GOOS)]byte
	N [4]byte
}
`})
	for range 2 {
		_, stderr, ok := c.run("go", "tool", "cachegen", "./...")
		if ok {
			t.Fatal("cachegen accepted build-dependent declarations")
		}
		for _, want := range []string{"k.go:11:5: K: the array length os.PathSeparator", "k.go:12:2: K.S: type syscall.Signal is declared in", "k.go:13:5: K: the array length len(runtime.GOOS)"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("no error %q in:\n%s", want, stderr)
			}
		}
		if strings.Contains(stderr, "k.go:14") {
			t.Errorf("a literal length was refused:\n%s", stderr)
		}
		// The second time, with a generated file present.
		c.write("k/"+DefaultOutput, generatedHeader+"\n\npackage k\n")
	}
}

// TestCgoFileRefused: a key in a file that imports "C" builds only with cgo, so the one
// generated file would not build without it. With cgo the file is refused for its
// constraint; without, as a file the build excludes. Either way, at the directive or type.
func TestCgoFileRefused(t *testing.T) {
	_, err := Generate(Config{Dir: filepath.Join("testdata", "cgo")})
	if err == nil {
		t.Fatal("a key in a cgo file was accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "input.go:") || !(strings.Contains(msg, "only with cgo") || strings.Contains(msg, "this build excludes")) {
		t.Fatalf("unexpected error: %v", err)
	}
}

// embeddedAliasFiles is a module whose keys embed aliases, each of which
// TestStaleGuardCoversEmbeddedAliases makes stand for another type.
var embeddedAliasFiles = map[string]string{
	// A generic key whose type parameter has the name of the package's type that an alias
	// it embeds stands for: the assertion must not be written where T is the parameter.
	"shadow/k.go": `package shadow

import "github.com/cachegen/cachegen/runtime/keyhash"

type T int8
type T2 int16

type E = T

//cachegen:key
type K[T keyhash.Key] struct {
	E
	X T
}
`,
	"levels/levels.go": `package levels

type Level int8
type Level2 int16
type Same int8 // the underlying type of Level, under another name

// Mode is an alias of another package, embedded through the import.
type Mode = Level

type GBox[T any] struct{ V T }
type GBox2[T any] struct{ V, W T }

// WithAlias is hashed field by field by the keys of other packages.
type WithAlias struct {
	EM
	X int
}

type EM = Level

// Hidden is how other packages name hidden: an embedded Hidden has no other spelling.
type Hidden = hidden
type hidden int8
`,
	"own/k.go": `package own

import (
	"example.com/consumer/levels"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

type E = levels.Level

//cachegen:key
type K struct {
	E
	N int
}

// K2 embeds E too: one assertion covers both.
//
//cachegen:key
type K2 struct {
	*E
	S string
}

// U stands for an unnamed type.
type U = []levels.Level

//cachegen:key
type KU struct{ U }

type FF = levels.Level

//cachegen:key
type KA struct {
	Anon struct {
		FF
		B bool
	}
}

type P = levels.Level

//cachegen:key
type KP struct{ *P }

type Q = levels.Level

//cachegen:key
type KQ struct{ Q }

// A is an alias of an alias.
type A = B
type B = levels.Level

//cachegen:key
type KC struct{ A }

// NS stands for a type with an embedded alias inside: the assertion of NS spells NE.
type NS = []struct{ NE }
type NE = levels.Level

//cachegen:key
type KN struct{ NS }

// GA is a generic alias.
type GA[T any] = levels.GBox[T]

//cachegen:key
type KG struct{ GA[levels.Level] }

//cachegen:key
type KGT[T keyhash.Key] struct{ GA[T] }

//cachegen:key
type KI struct{ levels.Mode }

//cachegen:key
type KF struct{ W levels.WithAlias }

//cachegen:key
type KH struct{ levels.Hidden }
`,
}

// TestStaleGuardCoversEmbeddedAliases makes an alias that a key embeds, in its own fields, in
// an anonymous struct or in a struct of another package, stand for another type without
// regenerating. The guards name an embedded field by its alias, the field's name, which does
// not change: the build must fail at the assertion of what the alias stands for, or the old
// code hashes the field as the old type (int8(x.E) truncates an int16).
func TestStaleGuardCoversEmbeddedAliases(t *testing.T) {
	c := newConsumer(t, embeddedAliasFiles)
	c.mustRun("go", "tool", "cachegen", "./...")
	c.mustRun("go", "vet", "./...")
	edits := []struct{ name, file, old, new, guard string }{
		{"own struct", "own/k.go", "type E = levels.Level\n", "type E = levels.Level2\n", "E_changed_run_go_generate"},
		{"unnamed type", "own/k.go", "type U = []levels.Level\n", "type U = []levels.Level2\n", "U_changed_run_go_generate"},
		{"anonymous struct", "own/k.go", "type FF = levels.Level\n", "type FF = levels.Level2\n", "FF_changed_run_go_generate"},
		{"pointer", "own/k.go", "type P = levels.Level\n", "type P = levels.Level2\n", "P_changed_run_go_generate"},
		{"same underlying type", "own/k.go", "type Q = levels.Level\n", "type Q = levels.Same\n", "Q_changed_run_go_generate"},
		{"alias of an alias", "own/k.go", "type B = levels.Level\n", "type B = levels.Level2\n", "A_changed_run_go_generate"},
		{"alias inside an alias", "own/k.go", "type NE = levels.Level\n", "type NE = levels.Level2\n", "NE_changed_run_go_generate"},
		{"generic alias", "own/k.go", "type GA[T any] = levels.GBox[T]\n", "type GA[T any] = levels.GBox2[T]\n", "GA_changed_run_go_generate"},
		{"alias of another package", "levels/levels.go", "type Mode = Level\n", "type Mode = Level2\n", "levels_Mode_changed_run_go_generate"},
		{"struct of another package", "levels/levels.go", "type EM = Level\n", "type EM = Level2\n", "levels_EM_changed_run_go_generate"},
		{"generic key whose type parameter shadows the alias's type", "shadow/k.go", "type E = T\n", "type E = T2\n", "E_changed_run_go_generate"},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) { c.mustBeStale(t, e.file, e.old, e.new, e.guard) })
	}
	c.mustRun("go", "build", "./...")
	// One assertion per alias and file, however many guards write the alias.
	if n := strings.Count(c.read("own/"+DefaultOutput), "var E_changed_run_go_generate"); n != 1 {
		t.Errorf("own/%s asserts E %d times, want once", DefaultOutput, n)
	}
}

// mustBeStale replaces old with new in file of c, then checks that the build fails at a
// guard (its error names guard) and that cachegen -check, the guard of what the compiler
// cannot see, fails too; it puts the file back.
func (c *consumer) mustBeStale(t *testing.T, file, old, new, guard string) {
	t.Helper()
	orig := c.read(file)
	defer c.write(file, orig)
	c.edit(file, old, new)
	_, stderr, ok := c.run("go", "build", "./...")
	if ok {
		t.Fatal("go build succeeded on a stale generated file")
	}
	if !strings.Contains(stderr, guard) {
		t.Fatalf("the build failed elsewhere than at the guard %s:\n%s", guard, stderr)
	}
	if out, _, ok := c.run("go", "tool", "cachegen", "-check", "./..."); ok {
		t.Fatalf("cachegen -check passed on a stale generated file:\n%s", out)
	}
}
