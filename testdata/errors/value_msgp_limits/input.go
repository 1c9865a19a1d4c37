package input

// A and B contain each other: msgp's inliner would recurse without end.
type A struct{ B *B }

// B points back to A.
type B struct{ A *A }

type err int

//cachegen:value
type V struct {
	A  A
	PA *[3]int
	PM *map[string]int
	F  float64 `msg:"f,omitzero"`
	E  err
}
