// Package dep has exported API made of the types of its internal package.
package dep

import "github.com/cachegen/cachegen/testdata/golden/foreign_internal/dep/internal/x"

// OuterAddr's field has an encoding, of a type its users cannot import.
type OuterAddr struct{ Ad x.Addr }

// Addr and Wire name types of the internal package for its users.
type (
	Addr = x.Addr
	Wire = x.Wire
)
