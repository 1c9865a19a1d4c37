package keyhash_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cachegen/cachegen/testdata/golden/keys"
)

// byteSource is a rand.Source that reads the fuzzer's bytes, so the fuzzer steers every
// choice the value generator makes; once the bytes run out it continues with a fixed
// pseudo-random stream (a source stuck at zero would hang rand's rejection sampling).
type byteSource struct {
	data []byte
	rest rand.PCG
}

func (s *byteSource) Uint64() uint64 {
	if len(s.data) == 0 {
		return s.rest.Uint64()
	}
	var b [8]byte
	n := copy(b[:], s.data)
	s.data = s.data[n:]
	return binary.LittleEndian.Uint64(b[:])
}

func wideFrom(data []byte) keys.Wide {
	var w keys.Wide
	gen{rand.New(&byteSource{data: data})}.fill(reflect.ValueOf(&w).Elem(), 0)
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
		if bytes.Equal(ea, eb) != reflect.DeepEqual(normal(wa), normal(wb)) {
			t.Fatalf("encodings equal: %t, values equivalent: %t\n%#v\n%#v", bytes.Equal(ea, eb), !bytes.Equal(ea, eb), wa, wb)
		}
	})
}
