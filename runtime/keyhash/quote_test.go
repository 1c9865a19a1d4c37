package keyhash

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendQuoted: the quick quoting of plain strings gives strconv.AppendQuote's bytes for
// every string, plain or not.
func TestAppendQuoted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", " ", "~", "\"", "\\", "\n", "\x00", "\x7f", "é", "\xff", "😀"}
	for range 5000 {
		var s string
		for range r.IntN(12) {
			s += alphabet[r.IntN(len(alphabet))]
		}
		if got, want := string(appendQuoted([]byte("x"), s)), string(strconv.AppendQuote([]byte("x"), s)); got != want {
			t.Fatalf("appendQuoted(%q) = %s, want %s", s, got, want)
		}
	}
}
