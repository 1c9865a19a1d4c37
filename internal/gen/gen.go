// Package gen is cachegen's generator. It loads Go packages with go/packages, builds one
// model of the shape of the structs annotated //cachegen:key and //cachegen:value and of every
// type they hold (shape.go: a graph of Nodes, one per named type, recursive types included),
// and derives everything from that model: an exhaustive HashKey method for every key, msgp
// serializers for every value, a compile-time assertion per struct and per named type the
// code relies on that breaks the build when the type changes and the file is stale, and the
// schema fingerprint (fingerprint.go). Errors are found by the same walks that emit code, so
// the code, the guards and the fingerprint cannot disagree about what a key depends on. One
// file per package is written with jennifer.
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

// checkOutput refuses an output name that is not a plain Go file name: the file belongs in
// each package's own directory.
func (c Config) checkOutput() error {
	name := c.output()
	switch {
	case name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return fmt.Errorf("-output %s: want a file name, not a path: the file is written in each package's directory", name)
	case !strings.HasSuffix(name, ".go"):
		return fmt.Errorf("-output %s: want a name ending in .go", name)
	case strings.HasSuffix(name, "_test.go"):
		return fmt.Errorf("-output %s: a _test.go file is compiled only into tests, and the methods it would hold are needed by the package", name)
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_"):
		return fmt.Errorf("-output %s: the go command ignores files whose names start with . or _", name)
	}
	return nil
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
	// Warnings are problems that do not stop generation, each at its position: a field
	// hashed by an encoding known to lose information. The generated file lists them too.
	Warnings ErrorList
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
//
// The packages of the main module that those import and that hold annotations are modelled
// too, dependencies first, so that a key may contain a key of another package whose HashKey
// this run (or the next go generate in that package) writes; their files are not returned.
// No generated file of any package modelled feeds the model: each is read as empty, so an
// old or stale one changes neither the result nor the time a run takes.
func Generate(cfg Config) ([]*File, error) {
	if err := cfg.checkOutput(); err != nil {
		return nil, err
	}
	pkgs, err := load(cfg)
	if err != nil {
		return nil, err
	}
	var errs ErrorList
	var files []*File
	run := &runIndex{keys: map[string]bool{}, values: map[string]bool{}}
	for _, lp := range pkgs {
		p := lp.pkg
		pkg := buildPackage(p, run, &errs)
		if len(p.GoFiles) == 0 {
			continue
		}
		var content []byte
		var warnings ErrorList
		if len(pkg.Structs) > 0 {
			plan, perrs := planFile(pkg)
			errs = append(errs, perrs...)
			if len(perrs) == 0 {
				run.register(plan)
				if lp.target {
					var ferrs ErrorList
					content, ferrs = emitFile(pkg, plan)
					errs = append(errs, ferrs...)
					warnings = plan.warnings.sort()
				}
			}
		}
		if !lp.target {
			continue
		}
		path := filepath.Join(pkg.Dir, cfg.output())
		old, err := readExisting(path)
		if err != nil {
			errs = append(errs, &Error{Msg: err.Error()})
			continue
		}
		if content == nil && old == nil {
			continue
		}
		files = append(files, &File{Path: path, Content: content, Old: old, Warnings: warnings})
	}
	if len(errs) > 0 {
		return nil, errs.sort()
	}
	return files, nil
}

// A runIndex records the structs of the packages modelled so far that get generated methods,
// by package path and name, so that a package modelled later knows which of its fields'
// foreign types will have them.
type runIndex struct {
	keys, values map[string]bool
}

func typeID(n *types.Named) string {
	return n.Obj().Pkg().Path() + "." + n.Obj().Name()
}

// hashKey reports whether this run generates a HashKey method for n.
func (r *runIndex) hashKey(n *types.Named) bool {
	return r != nil && n.Obj().Pkg() != nil && r.keys[typeID(n.Origin())]
}

// msgp reports whether this run generates msgp methods for n.
func (r *runIndex) msgp(n *types.Named) bool {
	return r != nil && n.Obj().Pkg() != nil && r.values[typeID(n.Origin())]
}

// register adds the structs of a package's plan.
func (r *runIndex) register(plan *filePlan) {
	for s := range plan.hashKeys {
		r.keys[typeID(s.Named)] = true
	}
	for s := range plan.msgp {
		r.values[typeID(s.Named)] = true
	}
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
	hashKeys map[*Struct]jen.Code // the HashKey method of each key
	helpers  []jen.Code           // the helper functions of recursive types
	// ownGuards are the assertions that types of other packages still declare the methods
	// generated code calls on them (ownMethodGuards).
	ownGuards []jen.Code
	msgp      map[*Struct]bool // the structs that get msgp serializers
	warnings  ErrorList        // what does not stop generation
}

// planFile decides which structs get which methods, and reports every problem. A struct a
// key reaches becomes a key too (it is added to pkg.Structs if it was not annotated) and is
// planned in turn, wherever it stands in pkg.Structs.
func planFile(pkg *Package) (*filePlan, ErrorList) {
	var errs ErrorList
	plan := &filePlan{hashKeys: map[*Struct]jen.Code{}, msgp: map[*Struct]bool{}}

	// Keys first: they reach the same-package structs they contain.
	var queue []*Struct
	for _, s := range pkg.Structs {
		if s.Key {
			queue = append(queue, s)
		}
	}
	keys := &keyEmitter{
		pkg:      pkg,
		errs:     &errs,
		reported: map[*Node]bool{},
		byNode:   map[helperKey]*helper{},
		names:    &identSet{scope: pkg.Types.Scope()},
	}
	keys.reach = func(st *Struct, via string) {
		if !st.Key {
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
		if conflict := declaredName(s, "HashKey"); conflict != "" {
			errs.add(s.Pos, "%s: it declares %s, which the generated HashKey(*keyhash.Hasher) method would collide with; rename it", s.Name(), conflict)
			continue
		}
		if s.unusable != "" {
			errs.add(s.Pos, "%s: %s", s.Name(), s.unusable)
			continue
		}
		plan.hashKeys[s] = keys.hashKeyFunc(s)
	}
	plan.helpers = keys.helperFuncs()
	plan.warnings = keys.warnings

	// Then values, which must serialize completely. A key gets serializers only when it is
	// annotated //cachegen:value too: nothing generates methods nobody asked for.
	values := &valueChecker{pkg: pkg}
	for i := 0; i < len(pkg.Structs); i++ {
		if s := pkg.Structs[i]; s.Value && !plan.msgp[s] {
			for _, r := range values.check(s, &errs) {
				plan.msgp[r] = true
			}
		}
	}

	// Every field of a struct that gets methods is named by its guard, excluded fields too:
	// a type the type checker could not resolve is reported where it is written.
	var generated []*Struct
	for _, s := range pkg.Structs {
		if plan.hashKeys[s] == nil && !plan.msgp[s] {
			continue
		}
		generated = append(generated, s)
		for _, f := range s.Fields {
			if containsInvalid(f.Var.Type()) {
				// The walks may have reported it already, at the same place: the
				// sorted list keeps one.
				errs.addErr(pkg.typeError(site{pos: f.Pos, path: s.path(f)}))
			}
			if why := pkg.aliasConstraint(f.Var.Type()); why != "" {
				errs.add(f.Pos, "%s: %s; cachegen writes one file for every build: declare the alias in a file without a constraint", s.path(f), why)
			} else if n, why := pkg.reachedAliasConstraint(f); why != "" {
				errs.add(f.Pos, "%s: it holds %s, and %s; cachegen writes one file for every build: declare the alias in a file without a constraint", s.path(f), typeString(n.Named, pkg.Types), why)
			}
		}
		// What a build computes in a declaration must be the same in every build.
		pkg.arrayLengths(s.Obj, &errs)
	}
	for _, n := range guardedNodes(generated) {
		if !n.foreign(pkg.Types) {
			pkg.arrayLengths(n.Named.Origin().Obj(), &errs)
		}
	}
	plan.ownGuards = ownMethodGuards(pkg, plan, keys.names)
	return plan, errs
}

// guardedNodes returns the named non-struct types whose shape the generated code of structs
// relies on, in the order they are first reached.
func guardedNodes(structs []*Struct) []*Node {
	var out []*Node
	seen := map[*Node]bool{}
	for _, s := range structs {
		for _, f := range s.Fields {
			walkNodes(f.modelled(), seen, func(n *Node) bool {
				switch n.Kind {
				case KindNamed:
					if n.Struct != nil {
						return false // a struct of the file: guarded by its own assertion
					}
					if n.Msgp {
						// Serialized by its own methods, which ownMethodGuards
						// guards; its underlying struct may not even be nameable
						// here (msgp.Number's fields are unexported).
						return false
					}
					out = append(out, n)
					return true
				case KindHashKey:
					// A non-struct type of the package with a HashKey of its own:
					// msgp still inlines it in serializers.
					if n.Under != nil && n.Struct == nil {
						out = append(out, n)
						return true
					}
					return false
				case KindTime, KindDuration, KindInterface, KindForeignStruct, KindMarshal, KindCustom:
					return false
				}
				return true
			})
		}
	}
	return out
}

// emitFile generates the file of one package: per struct, in order, a section comment, the
// stale-build guard and the HashKey method; then the helpers of recursive types and the guard
// of named non-struct types; then msgp's serializers; all formatted, with imports.
func emitFile(pkg *Package, plan *filePlan) ([]byte, ErrorList) {
	f := jen.NewFilePathName(pkg.Path, pkg.Name)
	f.NoFormat = true
	f.HeaderComment(generatedHeader)
	f.ImportName(keyhashPath, "keyhash")
	var set, generated []*Struct
	aliases := newAliasGuards()
	for _, s := range emitOrder(pkg.Structs) {
		hashKey, msgp := plan.hashKeys[s], plan.msgp[s]
		if hashKey == nil && !msgp {
			continue
		}
		generated = append(generated, s)
		for line := range strings.SplitSeq(sectionComment(s, hashKey != nil, msgp), "\n") {
			f.Comment(line)
		}
		f.Line()
		f.Add(guardFunc(s, pkg.code, aliases))
		if hashKey != nil {
			f.Line()
			f.Add(hashKey)
		}
		if msgp {
			set = append(set, s)
		}
	}
	for _, h := range plan.helpers {
		f.Line()
		f.Add(h)
	}
	for _, g := range namedGuard(guardedNodes(generated), pkg.code, aliases) {
		f.Line()
		f.Add(g)
	}
	if g := aliases.plainFunc(); g != nil {
		f.Line()
		f.Add(g)
	}
	for _, g := range plan.ownGuards {
		f.Line()
		f.Add(g)
	}
	if len(set) > 0 {
		for _, c := range cloneFuncs(pkg, set) {
			f.Line()
			f.Add(c)
		}
	}
	// msgp writes the serializers while jennifer renders the rest: they read the model
	// and its types, which neither changes.
	var (
		serializers []byte
		merrs       ErrorList
		wrote       = make(chan struct{})
	)
	if len(set) > 0 {
		others := inlinedTypes(pkg, set)
		go func() {
			defer close(wrote)
			// Made at about its size (msgp writes some 16 KiB per type), not grown.
			serializers, merrs = msgpCode(make([]byte, 0, 16<<10*len(set)), pkg, set, others)
		}()
	} else {
		close(wrote)
	}
	var rendered bytes.Buffer
	err := f.Render(&rendered)
	<-wrote
	if err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("rendering %s: %v", pkg.Path, err)}}
	}
	if len(merrs) > 0 {
		return nil, merrs
	}
	buf := rendered.Bytes()
	if len(set) > 0 {
		const title = "\n// msgp serializers (generated in-process by github.com/tinylib/msgp).\n"
		// Made at its size, not grown: a bytes.Buffer clears all it grows to.
		buf = append(make([]byte, 0, len(buf)+len(title)+len(serializers)), buf...)
		buf = append(append(buf, title...), serializers...)
	}
	src, ferrs := finish(buf, pkg)
	if ferrs != nil {
		return nil, ferrs
	}
	return src, nil
}

// emitOrder returns the annotated structs in source order, then those reached from them in
// the order they were modelled.
func emitOrder(structs []*Struct) []*Struct {
	var out, reached []*Struct
	for _, s := range structs {
		if s.Value || (s.Key && s.Via == "") {
			out = append(out, s)
		} else {
			reached = append(reached, s)
		}
	}
	return append(out, reached...)
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
	text := fmt.Sprintf("%s: %s (%s).", s.Name(), strings.Join(what, " and "), strings.Join(reason, ", "))
	if value {
		// Exclusions from the key do not apply to values: a hit must return what a
		// miss computes. Only msgp's own tag leaves a field out.
		if names := s.KeyOnlyExclusions(); len(names) > 0 && key {
			text += fmt.Sprintf("\nExcluded from the key only, serialized in values: %s.", strings.Join(names, ", "))
		} else if len(names) > 0 {
			text += fmt.Sprintf("\nTagged cache:\"-\", which applies to keys only, and serialized: %s.", strings.Join(names, ", "))
		}
		if names := s.MsgSkipped(); len(names) > 0 {
			text += fmt.Sprintf("\nNot serialized (msg:\"-\"): %s.", strings.Join(names, ", "))
		} else {
			text += "\nEvery field is serialized."
		}
	}
	return text
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
