package gen

import (
	"cmp"
	"go/token"
	"slices"
	"strings"
)

// An Error is a problem found in the input, at a position in its source.
type Error struct {
	Pos token.Position
	Msg string
}

// Error returns the message, prefixed with file:line:col when the position is known.
func (e *Error) Error() string {
	if !e.Pos.IsValid() {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// An ErrorList holds every Error of one run, so that a user fixes them all in one pass.
type ErrorList []*Error

// Error returns the errors one per line, as file:line:col: message.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sort orders the list by position and drops exact duplicates (the fields of an anonymous
// struct in a type that is both a key and a value have their tags checked twice).
func (l ErrorList) sort() ErrorList {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.Filename, b.Pos.Filename),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	return slices.CompactFunc(l, func(a, b *Error) bool { return *a == *b })
}

// addErr appends e, if it is not nil.
func (l *ErrorList) addErr(e *Error) {
	if e != nil {
		*l = append(*l, e)
	}
}
