package b

//go:generate go tool cachegen

//cachegen:key
type BK struct {
	N  int
	In Inner
}

type Inner struct{ S string }
