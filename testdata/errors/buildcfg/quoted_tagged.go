//go:build !cachegen_other

package input

import (
	"strconv"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// HashKey hashes the quoted form.
func (q Quoted) HashKey(h *keyhash.Hasher) { h.String("q", strconv.Quote(string(q))) }
