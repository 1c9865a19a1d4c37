// Package sibset assigns sibvar.Level; it does not import sibread. // want package:"writes example.com/sibvar.Level"
package sibset

import "example.com/sibvar"

func Configure(n int) { sibvar.Level = n }
