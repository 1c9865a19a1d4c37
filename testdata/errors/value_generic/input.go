package input

//cachegen:value
type V[T any] struct {
	Item T
}
