// Package dep declares a func type with an encoding.
package dep

// Fn is a func type with an encoding: a func is refused whatever methods it has.
type Fn func() int

func (f Fn) MarshalBinary() ([]byte, error) { return []byte{byte(f())}, nil }

func (f *Fn) UnmarshalBinary([]byte) error { return nil }
