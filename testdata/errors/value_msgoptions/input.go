package input

// Options that refuse on decode what encode wrote, or change what is encoded.
//
//cachegen:value
type W struct {
	L []int  `msg:",limit=2"`
	F string `msgpack:"f,flatten"`
	O string `msg:"o,omitempty"`
}
