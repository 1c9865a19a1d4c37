package group

//cachegen:key
type (
	A struct{ X int }
	B struct{ Y string }
	E int
)

type (
	// C is annotated inside the group.
	//
	//cachegen:key
	C struct{ Z bool }
	D struct{ W bool }
)
