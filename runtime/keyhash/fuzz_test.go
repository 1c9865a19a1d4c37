package keyhash_test

import (
	"bytes"
	"testing"

	"github.com/cachegen/cachegen/internal/randval"
	"github.com/cachegen/cachegen/testdata/golden/keys"
)

func wideFrom(data []byte) keys.Wide {
	var w keys.Wide
	filler(randval.FromBytes(data)).Fill(&w)
	return w
}

// FuzzInjective builds two keys from arbitrary bytes and checks that they share an encoding
// only when they are equivalent (equal up to nil versus empty).
func FuzzInjective(f *testing.F) {
	f.Add([]byte{}, []byte{1})
	f.Add([]byte("abcdefgh"), []byte("abcdefgi"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		wa, wb := wideFrom(a), wideFrom(b)
		ea, eb := encodeKey(t, wa), encodeKey(t, wb)
		if bytes.Equal(ea, eb) != randval.Equal(wa, wb) {
			t.Fatalf("encodings equal: %t, values equivalent: %t\n%#v\n%#v", bytes.Equal(ea, eb), !bytes.Equal(ea, eb), wa, wb)
		}
	})
}
