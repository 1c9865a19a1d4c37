package computecheck

import (
	"fmt"
	"strings"
)

// Kinds of effect.
const (
	kindAmbient = iota // reads an ambient input (Name is the function or variable)
	kindVar            // reads a package-level variable of the module (Pkg, Name)
	kindCtx            // reads ctx.Value
)

// An effect is one way a function depends on something that its arguments do not hold.
type effect struct {
	Kind int
	Pkg  string // kindVar: the variable's package path; kindAmbient: the category's words
	Name string // kindVar: the variable's name; kindAmbient: the function ("os.Getenv")
	// Via are the functions from the summarised one's callee down to the one that reads,
	// as pkg.Func or pkg.Type.Method; empty when the summarised function reads itself.
	Via []string
	// Pos is where the read is, as file:line:col with the file's base name.
	Pos string
}

func (e effect) key() string { return fmt.Sprint(e.Kind, e.Pkg, ".", e.Name) }

func (e effect) String() string {
	var s string
	switch e.Kind {
	case kindAmbient:
		s = e.Name
	case kindVar:
		s = e.Pkg + "." + e.Name
	case kindCtx:
		s = "ctx.Value"
	}
	if len(e.Via) > 0 {
		s += " via " + strings.Join(e.Via, ">")
	}
	return s
}

// funcFact summarises what a function of the module reads besides its arguments, itself and
// through every function of the module it calls (or refers to).
type funcFact struct {
	Effects []effect
}

// AFact marks funcFact as an analysis fact.
func (*funcFact) AFact() {}

func (f *funcFact) String() string {
	s := make([]string, len(f.Effects))
	for i, e := range f.Effects {
		s[i] = e.String()
	}
	return "reads(" + strings.Join(s, ", ") + ")"
}

// helperFact marks a function that passes its parameter number Param (from 0, receiver not
// counted), or its field Field, to cache.Load as compute, itself or through another such
// function: its callers' arguments are checked as computes.
type helperFact struct {
	Param int
	Field string
	// Also are the other function parameters that the wrapper literal calls (a hook):
	// what they read is what the compute reads.
	Also []int
}

// AFact marks helperFact as an analysis fact.
func (*helperFact) AFact() {}

func (f *helperFact) String() string {
	s := fmt.Sprintf("helper(%d)", f.Param)
	if f.Field != "" {
		s = fmt.Sprintf("helper(%d.%s)", f.Param, f.Field)
	}
	if len(f.Also) > 0 {
		s += fmt.Sprintf(" also%v", f.Also)
	}
	return s
}

// pkgFact is what a package tells the packages that import it.
type pkgFact struct {
	// Writes are the package-level variables (of any package of the module) that the
	// package assigns, or whose contents it changes, outside declarations and init.
	Writes []varRef
	// Reads are the package-level variables that a compute of the package reads and that
	// were not known to be assigned there: an importer that assigns one is reported.
	Reads []varRef
	// Met are the variables of Reads of dependencies whose writes this package reported:
	// its importers do not report them again.
	Met []string
	// Inits are what the package's initialisation stores in variables of other packages
	// reads of ambient inputs (func init() { conf.Level = os.Getenv("LEVEL") }).
	Inits []initTaint
}

// An initTaint is what a package's initialisation read to make the value of a variable of
// another package.
type initTaint struct {
	Pkg, Name string
	Effects   []effect
}

// A varRef names a package-level variable and a place: Pos is file:line, with the file's
// base name.
type varRef struct {
	Pkg, Name, Pos string
	// How says how the variable is changed when it is not assigned: "changed by
	// math/rand.Rand.Intn", "filled lazily under sync.Once".
	How string
}

// AFact marks pkgFact as an analysis fact.
func (*pkgFact) AFact() {}

func (f *pkgFact) String() string {
	var s []string
	for _, w := range f.Writes {
		s = append(s, "writes "+w.Pkg+"."+w.Name)
	}
	for _, r := range f.Reads {
		s = append(s, "computes read "+r.Pkg+"."+r.Name)
	}
	for _, k := range f.Met {
		s = append(s, "reported "+k)
	}
	for _, t := range f.Inits {
		s = append(s, "inits "+t.Pkg+"."+t.Name)
	}
	return strings.Join(s, ", ")
}
