package input

import "net/http"

// K holds a struct of another package whose fields are exported but not all hashable: the
// fixes are on K's field or a hash function, since http.Client cannot be tagged.
//
//cachegen:key
type K struct {
	Client http.Client
}
