package b

//go:generate go tool cachegen

//cachegen:key
type BK struct {
	N  int
	In Inner
}

type Inner struct{ S string }

// SK embeds a key and adds a field: its own HashKey covers both.
//
//cachegen:key
type SK struct {
	BK
	Extra int
}
