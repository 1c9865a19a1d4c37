// Package dep has exported API made of the types of its internal package.
package dep

import "github.com/cachegen/cachegen/testdata/errors/foreign_internal/dep/internal/x"

// Outer's exported fields have types its users cannot import.
type Outer struct {
	M  x.Mode
	I  x.Inner
	IS []x.Inner
}
