// Package mutual holds key shapes that msgp cannot serialize: the key gets its HashKey and a
// note instead of serializers.
package mutual

// A and B contain each other.
type A struct {
	B *B
	N int
}

// B points back to A.
type B struct {
	A *A
	M int
}

type err int

//cachegen:key
type K struct {
	A  A
	PA *[3]int
	PM *map[string]int
	E  err
}
