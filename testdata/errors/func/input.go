package input

//cachegen:key
type K struct {
	Name string
	Hook func(int) error
}
