package input

//cachegen:kee
type K struct{ A int }

//cachegen:key
type NotAStruct int

//cachegen:key
type Alias = struct{ A int }
