package randval

import (
	"math"
	"testing"
	"time"
)

type sample struct {
	F   float64
	S   []int
	M   map[string][]int
	P   *float32
	T   time.Time
	low string
}

func TestEqual(t *testing.T) {
	nan, otherNaN := math.NaN(), math.Float64frombits(math.Float64bits(math.NaN())^1)
	negZero := math.Copysign(0, -1)
	one := float32(1)
	at := time.Unix(100, 5)
	tests := []struct {
		name string
		a, b sample
		want bool
	}{
		{"zero values", sample{}, sample{}, true},
		{"NaN with the same bits", sample{F: nan}, sample{F: nan}, true},
		{"NaNs with different bits", sample{F: nan}, sample{F: otherNaN}, false},
		{"-0 and +0", sample{F: negZero}, sample{F: 0}, false},
		{"nil and empty slice", sample{S: nil}, sample{S: []int{}}, true},
		{"nil and empty map", sample{M: nil}, sample{M: map[string][]int{}}, true},
		{"empty slice inside a map", sample{M: map[string][]int{"a": nil}}, sample{M: map[string][]int{"a": {}}}, true},
		{"different map values", sample{M: map[string][]int{"a": {1}}}, sample{M: map[string][]int{"a": {2}}}, false},
		{"pointers to equal values", sample{P: &one}, sample{P: new(float32(1))}, true},
		{"nil and non-nil pointer", sample{P: nil}, sample{P: &one}, false},
		{"monotonic reading ignored", sample{T: at}, sample{T: time.Unix(100, 5)}, true},
		{"location counts", sample{T: at.UTC()}, sample{T: at.In(time.FixedZone("X", 60))}, false},
		{"unexported field counts", sample{low: "a"}, sample{low: "b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Fatalf("Equal = %t, want %t", got, tt.want)
			}
		})
	}
}

func TestFillIsDeterministicAndCoversUnexported(t *testing.T) {
	var a, b sample
	New(7).Fill(&a)
	New(7).Fill(&b)
	if !Equal(a, b) {
		t.Fatal("the same seed gave different values")
	}
	filled := false
	for seed := range uint64(20) {
		var c sample
		New(seed).Fill(&c)
		filled = filled || c.low != ""
	}
	if !filled {
		t.Fatal("unexported fields are never filled")
	}
	var x, y sample
	FromBytes([]byte("fuzz")).Fill(&x)
	FromBytes([]byte("fuzz")).Fill(&y)
	if !Equal(x, y) {
		t.Fatal("FromBytes is not deterministic")
	}
}
