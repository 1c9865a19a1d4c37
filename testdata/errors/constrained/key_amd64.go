package input

//cachegen:key
type ArchKey struct{ A int }
