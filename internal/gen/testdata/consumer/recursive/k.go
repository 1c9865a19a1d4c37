package recursive

type Tree map[string]Tree
type Forest []struct{ Kids Forest }
type A []B
type B []A

// SetForest is a recursive slice of anonymous structs whose recursive field is a set.
type SetForest []struct {
	Kids SetForest `cache:"set"`
	N    int
}

//cachegen:key
type K struct {
	T Tree
	F Forest
	A A
	B B
	S SetForest
}
