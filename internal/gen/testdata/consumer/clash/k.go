package clash

import stdtime "time"

var keyhash = 1
var msgp = 2
var time = 3

//cachegen:key
type K struct {
	D stdtime.Duration
	N int
}
