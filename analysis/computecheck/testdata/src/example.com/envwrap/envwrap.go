// Package envwrap declares function values and variables that hold ambient inputs: reading
// them is reading the environment and the clock, in importers too.
package envwrap

import (
	"os"
	"time"
)

var Now = time.Now // want Now:`reads\(time.Now\)`

var Getenv = os.Getenv // want Getenv:`reads\(os.Getenv\)`

var Home = os.Getenv("HOME") // want Home:`reads\(os.Getenv\)`

// Version is set once from a constant: a table.
var Version = "v" + "1"

var Up = Upper

func Upper(s string) string { return s }
