// Package deepcli sets deepvar.Mode from flags at run time. // want package:"writes example.com/deepvar.Mode"
package deepcli

import "example.com/deepvar"

type Flags struct{ M string }

func (f *Flags) Apply() { deepvar.Mode = f.M }
