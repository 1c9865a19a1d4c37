// Package xsetup sets xconf's settings in its init: one from the environment. // want package:"inits example.com/xconf.Level"
package xsetup

import (
	"os"

	"example.com/xconf"
)

func init() {
	xconf.Level = os.Getenv("LEVEL")
	xconf.Name = "fixed"
}
