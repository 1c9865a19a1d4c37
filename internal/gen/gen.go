// Package gen is cachegen's generator. It loads Go packages with go/packages, builds a model
// of the structs annotated //cachegen:key and //cachegen:value (and of the same-package
// structs they contain), and emits one file per package with jennifer: an exhaustive HashKey
// method for every key, msgp serializers for every value, and a compile-time assertion per
// struct that breaks the build when the struct changes and the file is stale.
//
// Generate writes nothing into the packages and never exits (msgp, which reads only files,
// is shown a synthesized file in a temporary directory): it returns the files it would write,
// or an ErrorList holding every problem of the run, each at its file:line:col. Write puts the
// files in place atomically.
package gen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/types"
	"os"
	"path/filepath"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/dave/jennifer/jen"
)

// DefaultOutput is the name of the generated file in each package's directory.
const DefaultOutput = "cachegen_gen.go"

// Config says which packages to generate code for.
type Config struct {
	// Dir is the directory patterns are resolved in; "" is the current directory.
	Dir string
	// Patterns are go/packages patterns; none means ".", the package go generate runs in.
	Patterns []string
	// Output is the generated file's name; "" is DefaultOutput.
	Output string
	// BuildFlags are passed to the build system (for example -tags=foo).
	BuildFlags []string
}

func (c Config) output() string {
	if c.Output == "" {
		return DefaultOutput
	}
	return c.Output
}

func (c Config) patterns() []string {
	if len(c.Patterns) == 0 {
		return []string{"."}
	}
	return c.Patterns
}

// A File is the generated file of one package.
type File struct {
	// Path is where the file belongs.
	Path string
	// Content is what it should hold, or nil when the package has nothing annotated any more
	// and an earlier generated file should be removed.
	Content []byte
	// Old is what the file holds now, or nil when it does not exist.
	Old []byte
}

// Stale reports whether the file on disk differs from what cachegen generates.
func (f *File) Stale() bool { return !bytes.Equal(f.Old, f.Content) }

// Diff returns a unified diff from the file on disk to the generated one, labelled with
// name; it is empty when the file is up to date.
func (f *File) Diff(name string) string {
	if !f.Stale() {
		return ""
	}
	old, next := "a/"+name, "b/"+name
	if f.Old == nil {
		old = "/dev/null"
	}
	if f.Content == nil {
		next = "/dev/null"
	}
	return udiff.Unified(old, next, string(f.Old), string(f.Content))
}

// Generate loads the packages cfg names and returns the file each one should have. Packages
// with no annotated struct and no earlier generated file are left out. When anything cannot
// be generated the error is an ErrorList holding every problem found.
func Generate(cfg Config) ([]*File, error) {
	pkgs, err := load(cfg)
	if err != nil {
		return nil, err
	}
	var errs ErrorList
	var files []*File
	for _, p := range pkgs {
		pkg := buildPackage(p, &errs)
		if len(p.GoFiles) == 0 {
			continue
		}
		path := filepath.Join(pkg.Dir, cfg.output())
		old, err := readExisting(path)
		if err != nil {
			errs = append(errs, &Error{Msg: err.Error()})
			continue
		}
		if len(pkg.Structs) == 0 {
			if old != nil {
				files = append(files, &File{Path: path, Old: old})
			}
			continue
		}
		content, ferrs := emitFile(pkg)
		errs = append(errs, ferrs...)
		files = append(files, &File{Path: path, Content: content, Old: old})
	}
	if len(errs) > 0 {
		return nil, errs.sort()
	}
	return files, nil
}

// Write puts every stale file in place: written to a temporary file in the same directory
// and renamed over the old one, so a reader never sees half a file. A File without content
// is removed.
func Write(files []*File) error {
	for _, f := range files {
		if !f.Stale() {
			continue
		}
		if f.Content == nil {
			if err := os.Remove(f.Path); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("removing %s: %w", f.Path, err)
			}
			continue
		}
		if err := writeAtomic(f.Path, f.Content); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes content to a temporary file beside path and renames it into place, so
// that path is never seen half-written.
func writeAtomic(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err == nil {
		_, werr := tmp.Write(content)
		err = errors.Join(werr, tmp.Chmod(0o644), tmp.Close())
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// A filePlan is what one package's generated file holds.
type filePlan struct {
	hashKeys  map[*Struct]jen.Code // the HashKey method of each key
	msgp      map[*Struct]bool     // the structs that get msgp serializers
	notes     map[*Struct]string   // why a key gets no serializers
	converted *namedSet            // named types that HashKey converts to their basic type
}

// planFile decides which structs get which methods, and reports every problem. A struct a
// key reaches becomes a key too (it is added to pkg.Structs if it was not annotated) and is
// planned in turn, wherever it stands in pkg.Structs.
func planFile(pkg *Package) (*filePlan, ErrorList) {
	var errs ErrorList
	plan := &filePlan{hashKeys: map[*Struct]jen.Code{}, msgp: map[*Struct]bool{}, notes: map[*Struct]string{}, converted: &namedSet{}}

	// Keys first: they reach the same-package structs they contain.
	var queue []*Struct
	for _, s := range pkg.Structs {
		if s.Key {
			queue = append(queue, s)
		}
	}
	keys := &keyEmitter{pkg: pkg, errs: &errs, converted: plan.converted}
	keys.reach = func(obj *types.TypeName, via string) {
		if st := pkg.add(obj, &errs); st != nil && !st.Key {
			st.Key = true
			st.Via = via
			queue = append(queue, st)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if hasHashKey(s.Named) {
			errs.add(s.Pos, "%s is annotated %s but already has a HashKey method; remove one of them", s.Name(), keyDirective)
			continue
		}
		plan.hashKeys[s] = keys.hashKeyFunc(s)
	}

	// Then values, which must serialize completely, and keys, which get serializers too
	// when every field allows it.
	values := &valueChecker{pkg: pkg}
	for i := 0; i < len(pkg.Structs); i++ {
		if s := pkg.Structs[i]; s.Value && !plan.msgp[s] {
			for _, r := range values.check(s, &errs) {
				plan.msgp[r] = true
			}
		}
	}
	for i := 0; i < len(pkg.Structs); i++ {
		s := pkg.Structs[i]
		if plan.hashKeys[s] == nil || plan.msgp[s] {
			continue
		}
		var keyErrs ErrorList
		involved := values.check(s, &keyErrs)
		if len(keyErrs) > 0 {
			plan.notes[s] = keyValueNote(s, keyErrs)
			continue
		}
		for _, r := range involved {
			plan.msgp[r] = true
		}
	}
	return plan, errs
}

// emitFile generates the file of one package: per struct, in order, a section comment, the
// stale-build guard and the HashKey method; then the guard of converted named types; then
// msgp's serializers; all formatted, with imports.
func emitFile(pkg *Package) ([]byte, ErrorList) {
	plan, errs := planFile(pkg)
	if len(errs) > 0 {
		return nil, errs
	}
	f := jen.NewFilePathName(pkg.Path, pkg.Name)
	f.NoFormat = true
	f.HeaderComment(generatedHeader)
	f.ImportName(keyhashPath, "keyhash")
	var set []*Struct
	for _, s := range pkg.Structs {
		hashKey, msgp := plan.hashKeys[s], plan.msgp[s]
		if hashKey == nil && !msgp {
			continue
		}
		f.Comment(sectionComment(s, hashKey != nil, msgp))
		f.Line()
		f.Add(guardFunc(s))
		if hashKey != nil {
			f.Line()
			f.Add(hashKey)
		}
		if note := plan.notes[s]; note != "" {
			f.Line()
			f.Add(comments(note))
		}
		if msgp {
			set = append(set, s)
		}
	}
	inlined := inlinedTypes(pkg, set)
	for _, n := range inlined {
		plan.converted.add(n)
	}
	if g := underlyingGuard(plan.converted.list, pkg.Types); g != nil {
		f.Line()
		f.Add(g)
	}
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("rendering %s: %v", pkg.Path, err)}}
	}
	if len(set) > 0 {
		code, merrs := msgpCode(pkg, set, inlined)
		if len(merrs) > 0 {
			return nil, merrs
		}
		buf.WriteString("\n// msgp serializers (generated in-process by github.com/tinylib/msgp).\n")
		buf.Write(code)
	}
	src, err := finish(buf.Bytes(), pkg)
	if err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("cachegen produced invalid Go for %s (a bug; please report it with this output): %v\n%s",
			pkg.Path, err, numbered(buf.Bytes()))}}
	}
	return src, nil
}

func sectionComment(s *Struct, key, value bool) string {
	var what []string
	if key {
		what = append(what, "HashKey")
	}
	if value {
		what = append(what, "msgp serializers")
	}
	// Value is set only by an annotation; Key also by a key that reaches the struct, which
	// then records the path in Via.
	var why []string
	if s.Key && s.Via == "" {
		why = append(why, keyDirective)
	}
	if s.Value {
		why = append(why, valueDirective)
	}
	var reason []string
	if len(why) > 0 {
		reason = append(reason, "annotated "+strings.Join(why, " and "))
	}
	if s.Via != "" {
		reason = append(reason, "reached from "+s.Via)
	}
	return fmt.Sprintf("%s: %s (%s).", s.Name(), strings.Join(what, " and "), strings.Join(reason, ", "))
}

// numbered prefixes each line of src with its number, so that a formatting error's position
// can be found.
func numbered(src []byte) string {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		fmt.Fprintf(&b, "%5d  %s\n", n, sc.Text())
	}
	return b.String()
}
