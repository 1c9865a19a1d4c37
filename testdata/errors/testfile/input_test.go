package input

//cachegen:key
type InTest struct{ A int }

func allowed() int {
	//cachegen:allow is cachegen-vet's exception, which the generator leaves alone
	return 1
}
