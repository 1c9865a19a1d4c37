package input

// Inner is reached from V: its error names the path.
type Inner struct {
	C chan bool
}

//cachegen:value
type V struct {
	In   Inner
	Anon struct {
		A int
		B int `msg:"-"` // the generated file lists only a named struct's dropped fields
	}
}
