package input

//cachegen:key
type Hidden struct{ A int }
