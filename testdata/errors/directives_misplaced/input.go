package input

// cachegen:key
type Spaced struct{ A int }

/*cachegen:key*/
type Block struct{ A int }

// Cachegen:key
type Upper struct{ A int }

//cachegen:key

type Detached struct{ A int }

type Field struct {
	//cachegen:key
	A int
}

func f() {
	//cachegen:key
	type Local struct{ A int }
	_ = Local{}
}

//cachegen:value
func g() {}
