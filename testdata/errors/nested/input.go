package input

// Inner is reached from K: its errors name the path that reaches it.
type Inner struct {
	Fn func()
}

//cachegen:key
type K struct {
	In   Inner
	List []map[string]chan int
}
