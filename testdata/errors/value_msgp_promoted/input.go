package input

import "github.com/cachegen/cachegen/testdata/errors/value_msgp_promoted/dep"

// V holds a foreign struct whose msgp methods are promoted from an embedded field, and an
// interface whose methods are msgp's: neither round-trips.
//
//cachegen:value
type V struct {
	W  dep.Wrapped
	C  dep.Codec
	OK dep.Wire
}
