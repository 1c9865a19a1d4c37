package input

//cachegen:key
type K struct {
	M Mode
	S Size
}
