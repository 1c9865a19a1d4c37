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

/*
BlockDoc is the key of the compile step.
//cachegen:key
*/
type BlockDoc struct{ N int }

// cachegen-key
type Dashed struct{ N int }

// Cachegen=key
type Dotted struct{ N int }

// Prose mentions cachegen keys without being a directive.
type Prose struct{ N int }

//go:cachegen:key
type GoPrefixed struct{ N int }

func h() int {
	//cachegen:allow is cachegen-vet's exception, which the generator leaves alone
	return 1
}
