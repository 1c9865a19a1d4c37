package bench

import (
	"bytes"
	"encoding/gob"
	"testing"

	"github.com/cachegen/cachegen/internal/randval"
)

// BenchmarkArtifact compares the generated msgp serializers with encoding/gob, the
// standard library's choice for Go values, on the representative artifact.
func BenchmarkArtifact(b *testing.B) {
	a := NewArtifact(0)
	enc, err := a.MarshalMsg(nil)
	if err != nil {
		b.Fatal(err)
	}
	var gobBuf bytes.Buffer
	if err := gob.NewEncoder(&gobBuf).Encode(&a); err != nil {
		b.Fatal(err)
	}
	gobData := gobBuf.Bytes()

	b.Run("Marshal/msgp", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		buf := make([]byte, 0, a.Msgsize())
		for b.Loop() {
			var err error
			if buf, err = a.MarshalMsg(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Marshal/gob", func(b *testing.B) {
		b.SetBytes(int64(len(gobData)))
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(&a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Unmarshal/msgp", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			var out Artifact
			if _, err := out.UnmarshalMsg(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Unmarshal/gob", func(b *testing.B) {
		b.SetBytes(int64(len(gobData)))
		b.ReportAllocs()
		for b.Loop() {
			var out Artifact
			if err := gob.NewDecoder(bytes.NewReader(gobData)).Decode(&out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestArtifactRoundTrip keeps the benchmark honest: both codecs must give the value back.
func TestArtifactRoundTrip(t *testing.T) {
	a := NewArtifact(0)
	enc, err := a.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	var viaMsgp, viaGob Artifact
	if _, err := viaMsgp.UnmarshalMsg(enc); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&a); err != nil {
		t.Fatal(err)
	}
	if err := gob.NewDecoder(&buf).Decode(&viaGob); err != nil {
		t.Fatal(err)
	}
	if !randval.Equal(a, viaMsgp) || !randval.Equal(a, viaGob) {
		t.Fatal("a codec changed the artifact")
	}
}
