//go:build cachegen_other

package input

import "github.com/cachegen/cachegen/runtime/keyhash"

// HashKey hashes a path case-insensitively.
func (p Path) HashKey(h *keyhash.Hasher) { h.String("path", string(p)) }
