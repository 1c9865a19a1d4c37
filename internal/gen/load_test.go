package gen

import (
	"go/token"
	"testing"
)

func TestParsePos(t *testing.T) {
	tests := []struct {
		in   string
		want token.Position
	}{
		{"", token.Position{}},
		{"-", token.Position{}},
		{"a.go:3:7", token.Position{Filename: "a.go", Line: 3, Column: 7}},
		{"c:/x/a.go:3:7", token.Position{Filename: "c:/x/a.go", Line: 3, Column: 7}},
		{"a.go:12", token.Position{Filename: "a.go", Line: 12}},
		{"a.go", token.Position{Filename: "a.go"}},
		{"dir:name/a.go:x", token.Position{Filename: "dir:name/a.go:x"}},
	}
	for _, tt := range tests {
		if got := parsePos(tt.in); got != tt.want {
			t.Errorf("parsePos(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
