package input

// Every error of a run is reported, sorted by position.
//
//cachegen:key
type K struct {
	F1 func()
	C1 chan int
	OK string
	F2 func()
}
