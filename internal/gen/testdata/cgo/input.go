package input

// #include <stdint.h>
import "C"

//cachegen:key
type K struct{ A int }
