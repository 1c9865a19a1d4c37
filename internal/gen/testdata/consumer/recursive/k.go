package recursive

type Tree map[string]Tree
type Forest []struct{ Kids Forest }
type A []B
type B []A

//cachegen:key
type K struct {
	T Tree
	F Forest
	A A
	B B
}
