package input

//cachegen:key
type K[T any] struct {
	V T
}
