package input

//cachegen:key
type K struct {
	A Undefined
	B []Missing
	C Excluded `cache:"-"`
	D int
}
