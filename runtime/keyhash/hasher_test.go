package keyhash_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// encode runs write on a recording Hasher and returns the bytes it fed to SHA-256.
func encode(t testing.TB, write func(h *keyhash.Hasher)) []byte {
	t.Helper()
	h, buf := keyhash.NewRecording()
	write(h)
	h.Sum()
	return bytes.Clone(buf.Bytes())
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestEncoding(t *testing.T) {
	negZero := math.Copysign(0, -1)
	tests := []struct {
		name  string
		write func(h *keyhash.Hasher)
		want  []byte
	}{
		{"bool", func(h *keyhash.Hasher) { h.Bool("", true); h.Bool("", false) }, []byte{1, 0}},
		{"int is 64-bit", func(h *keyhash.Hasher) { h.Int("", -2) }, le64(math.MaxUint64 - 1)},
		{"int8", func(h *keyhash.Hasher) { h.Int8("", -1) }, []byte{0xff}},
		{"int16", func(h *keyhash.Hasher) { h.Int16("", 0x0102) }, []byte{2, 1}},
		{"uint32", func(h *keyhash.Hasher) { h.Uint32("", 0x01020304) }, []byte{4, 3, 2, 1}},
		{"uintptr is 64-bit", func(h *keyhash.Hasher) { h.Uintptr("", 7) }, le64(7)},
		{"float64 bits", func(h *keyhash.Hasher) { h.Float64("", 1.5) }, le64(math.Float64bits(1.5))},
		{"negative zero", func(h *keyhash.Hasher) { h.Float64("", negZero) }, le64(1 << 63)},
		{"complex", func(h *keyhash.Hasher) { h.Complex128("", complex(1, 2)) }, cat(le64(math.Float64bits(1)), le64(math.Float64bits(2)))},
		{"string", func(h *keyhash.Hasher) { h.String("", "ab") }, cat(le64(2), []byte("ab"))},
		{"bytes", func(h *keyhash.Hasher) { h.Bytes("", []byte{9}) }, cat(le64(1), []byte{9})},
		{"byte array has no length", func(h *keyhash.Hasher) { h.ByteArray("", []byte{1, 2, 3}) }, []byte{1, 2, 3}},
		{"nil pointer", func(h *keyhash.Hasher) { h.Ptr("", false) }, []byte{0}},
		{"present pointer", func(h *keyhash.Hasher) {
			if h.Ptr("", true) {
				h.Int("", 0)
			}
		}, cat([]byte{1}, le64(0))},
		{"list", func(h *keyhash.Hasher) {
			h.List("", 2)
			h.Elem(0)
			h.Uint8("", 5)
			h.Elem(1)
			h.Uint8("", 6)
			h.EndList()
		}, cat(le64(2), []byte{5, 6})},
		{"map entries sorted by encoding", func(h *keyhash.Hasher) {
			h.Map("", 2)
			h.Entry()
			h.String("", "b")
			h.Uint8("", 2)
			h.Entry()
			h.String("", "a")
			h.Uint8("", 1)
			h.EndMap()
		}, cat(le64(2), le64(1), []byte("a"), []byte{1}, le64(1), []byte("b"), []byte{2})},
		{"set keeps duplicates", func(h *keyhash.Hasher) {
			h.Set("", 3)
			for _, v := range []uint8{2, 1, 2} {
				h.Entry()
				h.Uint8("", v)
			}
			h.EndSet()
		}, cat(le64(3), []byte{1, 2, 2})},
		{"time", func(h *keyhash.Hasher) { h.Time("", time.Unix(5, 6).UTC()) }, cat(le64(5), []byte{6, 0, 0, 0}, le64(3), []byte("UTC"), le64(3), []byte("UTC"), []byte{0, 0, 0, 0})},
		{"time zone offset", func(h *keyhash.Hasher) { h.Time("", time.Unix(5, 0).In(time.FixedZone("Z", -60))) }, cat(le64(5), []byte{0, 0, 0, 0}, le64(1), []byte("Z"), le64(1), []byte("Z"), []byte{0xc4, 0xff, 0xff, 0xff})},
		{"fingerprint", func(h *keyhash.Hasher) { h.Begin("T", 1, 2, 3, 4); h.End() }, cat(le64(1), le64(2), le64(3), le64(4))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := encode(t, tt.write); !bytes.Equal(got, tt.want) {
				t.Errorf("encoding\n got %x\nwant %x", got, tt.want)
			}
		})
	}
}

// TestNestedMaps checks that a map inside a map entry is sorted in place and that the outer
// entries are then sorted by their complete encoding.
func TestNestedMaps(t *testing.T) {
	write := func(outer []string, inner [][]string) func(h *keyhash.Hasher) {
		return func(h *keyhash.Hasher) {
			h.Map("", len(outer))
			for i, k := range outer {
				h.Entry()
				h.String("", k)
				h.Set("", len(inner[i]))
				for _, v := range inner[i] {
					h.Entry()
					h.String("", v)
				}
				h.EndSet()
			}
			h.EndMap()
		}
	}
	a := encode(t, write([]string{"x", "y"}, [][]string{{"1", "2"}, {"3"}}))
	b := encode(t, write([]string{"y", "x"}, [][]string{{"3"}, {"2", "1"}}))
	if !bytes.Equal(a, b) {
		t.Fatalf("order changed the encoding:\n%x\n%x", a, b)
	}
	c := encode(t, write([]string{"x", "y"}, [][]string{{"1"}, {"2", "3"}}))
	if bytes.Equal(a, c) {
		t.Fatal("moving an element between inner sets did not change the encoding")
	}
}

// TestLargeWrites covers the paths that bypass the buffer: a digest must not depend on how the
// stream was split.
func TestLargeWrites(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<12) // 64 KiB
	for _, n := range []int{0, 1, 511, 512, 513, 4095, 4096, 4097, len(big)} {
		want := keyhash.New()
		want.Bytes("", big[:n])
		want.String("", string(big[:n]))
		want.ByteArray("", big[:n])
		wd := want.Sum()

		h, buf := keyhash.NewRecording()
		h.Bytes("", big[:n])
		h.String("", string(big[:n]))
		h.ByteArray("", big[:n])
		if got := h.Sum(); got != wd {
			t.Errorf("n=%d: digests differ", n)
		}
		exp := cat(le64(uint64(n)), big[:n], le64(uint64(n)), big[:n], big[:n])
		if !bytes.Equal(buf.Bytes(), exp) {
			t.Errorf("n=%d: stream of %d bytes, want %d", n, buf.Len(), len(exp))
		}
	}
}

func TestLargeValuesInsideMap(t *testing.T) {
	big := strings.Repeat("z", 10000)
	a := encode(t, func(h *keyhash.Hasher) {
		h.Map("", 2)
		h.Entry()
		h.String("", big)
		h.Entry()
		h.String("", "a")
		h.EndMap()
	})
	want := cat(le64(2), le64(1), []byte("a"), le64(uint64(len(big))), []byte(big))
	if !bytes.Equal(a, want) {
		t.Fatalf("large entry not sorted into place: got %d bytes", len(a))
	}
}

func TestSumPanicsInsideMap(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Sum inside an open map did not panic")
		}
	}()
	h := keyhash.New()
	h.Map("", 1)
	h.Sum()
}

func TestReset(t *testing.T) {
	h := keyhash.New()
	h.String("", "first")
	h.Sum()
	h.Reset()
	h.String("", "second")
	got := h.Sum()
	fresh := keyhash.New()
	fresh.String("", "second")
	if want := fresh.Sum(); got != want {
		t.Fatalf("after Reset got %v, want %v", got, want)
	}
}

func TestDigestString(t *testing.T) {
	var d keyhash.Digest
	d[0], d[31] = 0xAB, 0x01
	s := d.String()
	if len(s) != 64 || !strings.HasPrefix(s, "ab") || !strings.HasSuffix(s, "01") {
		t.Fatalf("String() = %q", s)
	}
}

// TestStrings pins Strings to the encoding of the generic calls it replaces.
func TestStrings(t *testing.T) {
	list := []string{"", "a", strings.Repeat("b", 600), "c"}
	generic := encode(t, func(h *keyhash.Hasher) {
		h.List("", len(list))
		for i, s := range list {
			h.Elem(i)
			h.String("", s)
		}
		h.EndList()
	})
	if special := encode(t, func(h *keyhash.Hasher) { h.Strings("", list) }); !bytes.Equal(generic, special) {
		t.Fatalf("Strings encodes differently:\n%x\n%x", generic, special)
	}
}

// TestShortStrings covers every length of the inline copy of short strings.
func TestShortStrings(t *testing.T) {
	for n := range 40 {
		s := strings.Repeat("x", n)
		if n > 0 {
			s = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"[:n]
		}
		got := encode(t, func(h *keyhash.Hasher) { h.String("", s) })
		if want := cat(le64(uint64(n)), []byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("len %d: got %x, want %x", n, got, want)
		}
	}
}

// TestStringBoundaries writes runs of strings of every short length, and some long ones,
// across many buffer flushes at depth 0 and across the growth of the buffer inside a set
// (one entry, so nothing is reordered), one by one and through Strings: the stream must be
// their plain concatenation. String and Strings write into the buffer without bounds checks,
// so this pins where they may write.
func TestStringBoundaries(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var strs []string
	for range 3000 {
		n := r.IntN(24)
		if r.IntN(50) == 0 {
			n = r.IntN(9000)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		strs = append(strs, string(b))
	}
	var want []byte
	for _, s := range strs {
		want = cat(want, le64(uint64(len(s))), []byte(s))
	}
	flat := encode(t, func(h *keyhash.Hasher) {
		for _, s := range strs {
			h.String("", s)
		}
	})
	if !bytes.Equal(flat, want) {
		t.Fatalf("depth 0: stream differs from the concatenation (%d and %d bytes)", len(flat), len(want))
	}
	nested := encode(t, func(h *keyhash.Hasher) {
		h.Set("", 1)
		h.Entry()
		for _, s := range strs {
			h.String("", s)
		}
		h.EndSet()
	})
	if !bytes.Equal(nested, cat(le64(1), want)) {
		t.Fatalf("inside a set: stream differs from the concatenation (%d and %d bytes)", len(nested), 8+len(want))
	}
	// Strings has its own copy of String's fast path.
	list := encode(t, func(h *keyhash.Hasher) {
		h.Strings("", strs)
		h.Set("", 1)
		h.Entry()
		h.Strings("", strs)
		h.EndSet()
	})
	if want := cat(le64(uint64(len(strs))), want, le64(1), le64(uint64(len(strs))), want); !bytes.Equal(list, want) {
		t.Fatalf("Strings: stream differs from the concatenation (%d and %d bytes)", len(list), len(want))
	}
}

// TestEmptyStringAtBufferEnd writes an empty string into exactly the last 8 bytes of the
// buffer, at depth 0 and inside a set whose buffer has grown, through String and Strings.
// The empty string must not form an address past the buffer (under -race, checkptr aborts
// the test if it does).
func TestEmptyStringAtBufferEnd(t *testing.T) {
	for _, inSet := range []bool{false, true} {
		for _, viaStrings := range []bool{false, true} {
			var fill string
			got := encode(t, func(h *keyhash.Hasher) {
				if inSet {
					h.Set("", 1)
					h.Entry()
					h.String("", strings.Repeat("g", 80000)) // grows the buffer to fit exactly,
					h.String("", "h")                        // then to twice that
				}
				if viaStrings {
					fill = strings.Repeat("x", keyhash.Room(h)-24) // count, fill, then 8 bytes
					h.Strings("", []string{fill, ""})
				} else {
					fill = strings.Repeat("x", keyhash.Room(h)-16) // fill, then 8 bytes
					h.String("", fill)
					h.String("", "")
				}
				if room := keyhash.Room(h); room != 0 {
					t.Fatalf("inSet=%v viaStrings=%v: %d bytes left, want 0", inSet, viaStrings, room)
				}
				if inSet {
					h.EndSet()
				}
			})
			want := cat(le64(uint64(len(fill))), []byte(fill), le64(0))
			if viaStrings {
				want = cat(le64(2), want)
			}
			if inSet {
				want = cat(le64(1), le64(80000), []byte(strings.Repeat("g", 80000)), le64(1), []byte("h"), want)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("inSet=%v viaStrings=%v: stream differs (%d and %d bytes)", inSet, viaStrings, len(got), len(want))
			}
		}
	}
}

// TestBytesBeforeFirstEntry pins what a hand-written HashKey gets when it writes between Set
// and the first Entry: those bytes stay in place, before the sorted entries, whatever order
// the entries came in.
func TestBytesBeforeFirstEntry(t *testing.T) {
	write := func(a, b string) []byte {
		return encode(t, func(h *keyhash.Hasher) {
			h.Set("", 2)
			h.Uint8("", 0xAA)
			h.Entry()
			h.String("", a)
			h.Entry()
			h.String("", b)
			h.EndSet()
		})
	}
	want := cat(le64(2), []byte{0xAA}, le64(1), []byte("a"), le64(1), []byte("b"))
	for _, got := range [][]byte{write("a", "b"), write("b", "a")} {
		if !bytes.Equal(got, want) {
			t.Fatalf("got %x, want %x", got, want)
		}
	}
}

// TestMapSortSizes checks both sorting paths (insertion for small groups, pdqsort for larger
// ones), on entries that differ early and on entries that share a long prefix (so that those
// of one length agree on their first 16 bytes): any insertion order, sorted ones included,
// gives the encoding of the entries in byte order.
func TestMapSortSizes(t *testing.T) {
	for _, n := range []int{0, 1, 2, 12, 13, 50, -2, -12, -13, -50} {
		long := n < 0
		n = max(n, -n)
		entries := make([]string, n)
		for i := range entries {
			entries[i] = fmt.Sprintf("%c%d", 'a'+rune(i%7), i*7919%1000) // shared prefixes, mixed lengths
			if long {
				entries[i] = "a shared prefix of 16+ bytes/" + entries[i]
			}
		}
		write := func(order []string) []byte {
			return encode(t, func(h *keyhash.Hasher) {
				h.Set("", len(order))
				for _, e := range order {
					h.Entry()
					h.String("", e)
				}
				h.EndSet()
			})
		}
		sorted := slices.Clone(entries)
		slices.SortFunc(sorted, func(a, b string) int {
			return bytes.Compare(cat(le64(uint64(len(a))), []byte(a)), cat(le64(uint64(len(b))), []byte(b)))
		})
		want := le64(uint64(n))
		for _, e := range sorted {
			want = cat(want, le64(uint64(len(e))), []byte(e))
		}
		if got := write(sorted); !bytes.Equal(got, want) {
			t.Fatalf("n=%d long=%v: sorted entries moved", n, long)
		}
		for range 5 {
			shuffled := slices.Clone(entries)
			rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if got := write(shuffled); !bytes.Equal(got, want) {
				t.Fatalf("n=%d long=%v: entries not in byte order", n, long)
			}
		}
	}
}

// TestCustomIsFramed: what a hand-written hash function writes is framed by its length, so
// that a function writing a variable number of values (here strings, without their count)
// cannot make two fields it hashes trade values: {X: [a], Y: [b c]} and {X: [a b], Y: [c]}.
func TestCustomIsFramed(t *testing.T) {
	fn := func(h *keyhash.Hasher, parts []string) {
		for _, p := range parts {
			h.String("", p)
		}
	}
	key := func(x, y []string) []byte {
		return encode(t, func(h *keyhash.Hasher) {
			fn(h.Custom("X", "fn"), x)
			h.EndCustom()
			fn(h.Custom("Y", "fn"), y)
			h.EndCustom()
		})
	}
	if bytes.Equal(key([]string{"a"}, []string{"b", "c"}), key([]string{"a", "b"}, []string{"c"})) {
		t.Fatal("two keys share an encoding: a function's writes are not framed")
	}
	// The frame is the length, then the bytes.
	got := encode(t, func(h *keyhash.Hasher) {
		fn(h.Custom("X", "fn"), []string{"ab"})
		h.EndCustom()
	})
	if want := cat(le64(10), le64(2), []byte("ab")); !bytes.Equal(got, want) {
		t.Fatalf("encoding %x, want %x", got, want)
	}
	// A frame inside a map entry, and one the function leaves a map open in.
	inMap := encode(t, func(h *keyhash.Hasher) {
		h.Map("M", 1)
		h.Entry()
		fn(h.Custom("value", "fn"), []string{"x"})
		h.EndCustom()
		h.EndMap()
	})
	if want := cat(le64(1), le64(9), le64(1), []byte("x")); !bytes.Equal(inMap, want) {
		t.Fatalf("encoding in a map %x, want %x", inMap, want)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a function that left a map open was not caught")
		}
	}()
	encode(t, func(h *keyhash.Hasher) {
		h.Custom("X", "fn").Map("open", 0)
		h.EndCustom()
	})
}

// TestMarshaledPanicsOnError: an encoding error cannot be hashed as a value: two values that
// fail would share a digest.
func TestMarshaledPanicsOnError(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "MarshalText failed") {
			t.Fatalf("recovered %v", r)
		}
	}()
	encode(t, func(h *keyhash.Hasher) { h.Marshaled("Re", "MarshalText", nil, errors.New("bad")) })
}

// panicky is an enum whose String panics for values without a name, as hand-written ones do.
type panicky uint8

func (p panicky) String() string { return [...]string{"a", "b"}[p] }

// TestNoteStringRecovers: tracing calls String only for the trace, and a String that panics
// is shown in it rather than crashing a program that hashes fine untraced.
func TestNoteStringRecovers(t *testing.T) {
	hash := func(trace io.Writer) keyhash.Digest {
		h := keyhash.New()
		if trace != nil {
			h.Trace(trace)
		}
		h.Begin("T", 0, 0, 0, 0)
		v := panicky(7)
		if h.Tracing() {
			h.NoteString(v.String)
		}
		h.Uint8("P p.Panicky", uint8(v))
		h.End()
		return h.Sum()
	}
	var out strings.Builder
	if traced, plain := hash(&out), hash(nil); traced != plain {
		t.Errorf("tracing changed the digest")
	}
	if !strings.Contains(out.String(), "P p.Panicky = 7 (String panicked: runtime error: index out of range") {
		t.Errorf("trace lacks the panic of String:\n%s", out.String())
	}
	called := false
	h := keyhash.New()
	h.NoteString(func() string { called = true; return "" })
	if called {
		t.Error("NoteString called String without a trace")
	}
}
