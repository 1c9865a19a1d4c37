// Package x is internal to dep: only dep's tree can import it.
package x

// Mode is an enum.
type Mode uint8

// Inner is a plain struct.
type Inner struct{ A int }
