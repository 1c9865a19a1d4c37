package input

// msgp's own tag would drop a field silently: cachegen refuses it.
//
//cachegen:value
type V struct {
	Keep string
	Drop string `msg:"-"`
}

// Two fields with one msgp name.
//
//cachegen:value
type W struct {
	A int `msg:"x"`
	B int `msg:"x"`
	C int
	D int `msg:"C"`
}
