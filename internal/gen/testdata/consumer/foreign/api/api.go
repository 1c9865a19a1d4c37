// Package api stands for a package whose types a key uses but whose source its user does not
// own: no cachegen annotations, no HashKey methods.
package api

import "strconv"

// EngineName is a named string of another package.
type EngineName string

// Engine is a foreign struct with exported fields only.
type Engine struct {
	Name    EngineName
	Version string
}

// Target is a foreign enum with a String method.
type Target uint8

// The targets.
const (
	ES5 Target = iota
	ES2020
)

func (t Target) String() string {
	switch t {
	case ES5:
		return "ES5"
	case ES2020:
		return "ES2020"
	}
	return "Target(" + strconv.Itoa(int(t)) + ")"
}

// Loader is a foreign named uint16, used in values.
type Loader uint16

// Chain is a foreign struct that contains itself.
type Chain struct {
	Label string
	Next  *Chain
}

// Nested holds foreign structs in every kind of container.
type Nested struct {
	Engines []Engine
	ByName  map[string]Engine
	First   *Engine
	Pair    [2]Engine
	Inline  struct{ A, B int }
}

// Hidden has unexported state: it can be hashed only by a function of the user's.
type Hidden struct {
	Public string
	secret int
}

// NewHidden returns a Hidden with its secret set.
func NewHidden(public string, secret int) Hidden { return Hidden{Public: public, secret: secret} }

// Secret returns h's secret.
func (h Hidden) Secret() int { return h.secret }

// Expr is an interface that does not embed keyhash.Key, like an AST node.
type Expr interface{ isExpr() }

// Bool and Number are its implementations.
type (
	Bool   struct{ V bool }
	Number struct{ V float64 }
)

func (Bool) isExpr()   {}
func (Number) isExpr() {}

// Options is a struct the user cannot tag; two of its fields cannot be hashed.
type Options struct {
	Minify   bool
	Target   Target
	Engines  []Engine
	OnLoad   func(string) string
	Cache    map[string]any
	Defines  map[string]Expr
	LogLimit int
}
