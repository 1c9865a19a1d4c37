package input

// msgp's own tag would drop a field silently: cachegen refuses it.
//
//cachegen:value
type V struct {
	Keep string
	Drop string `msg:"-"`
}
