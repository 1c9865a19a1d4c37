package input

//cachegen:key
type WindowsKey struct{ A int }
