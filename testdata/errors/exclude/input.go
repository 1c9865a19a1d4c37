package input

import "net/http"

// Options adopts a struct it cannot tag; its exclusions must name real fields, once.
//
//cachegen:key exclude=Transport,Nope,Transport,1x
type Options http.Client

// Tagged excludes a field twice: by its tag and by the directive.
//
//cachegen:key exclude=Hook
type Tagged struct {
	Hook func() `cache:"-"`
	N    int
}

// Unknown has an option cachegen does not know.
//
//cachegen:key skip=N
type Unknown struct{ N int }

// A group's directive cannot name the fields of one struct.
//
//cachegen:key exclude=N
type (
	G1 struct{ N int }
	G2 struct{ N int }
)
