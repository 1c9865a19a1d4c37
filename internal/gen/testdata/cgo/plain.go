package input

// Plain builds without cgo.
type Plain struct{ A int }
