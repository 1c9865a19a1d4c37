package input

//cachegen:key
type K struct {
	Done chan struct{}
}
