package generic

type ID[T any] int64
type User struct{}
type Order struct{}
type List[T any] []T

//cachegen:key
type K struct {
	U ID[User]
	O ID[Order]
	L List[int]
}
