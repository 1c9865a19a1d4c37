// Package dep stands for a dependency whose struct a user adopts.
package dep

// Hooked has a field that cannot be serialized.
type Hooked struct {
	A    int
	Hook func()
}
