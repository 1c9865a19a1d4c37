package input

//cachegen:key
type InTest struct{ A int }
