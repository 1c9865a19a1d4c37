package input

//cachegen:value
type V struct {
	PP **int
}
