package shapes

type Items []struct{ A int }
type IDs []int
type Table map[string]int
type Grid [2][3]int8
type Ref *int
type Mode int32

//cachegen:key
type K struct {
	Items Items
	IDs   IDs
	T     Table
	G     Grid
	R     Ref
	M     Mode
}
