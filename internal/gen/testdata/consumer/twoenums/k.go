package twoenums

import (
	amodel "example.com/consumer/a/model"
	"example.com/consumer/b/model"
)

//cachegen:key
type K struct {
	A amodel.Mode
	B model.Mode
	E amodel.Exported
}
