package main

import "github.com/tinylib/msgp/msgp"

// Result is the cached value. Its msgp methods are written by hand here; cachegen will
// generate them for structs annotated //cachegen:value.
type Result struct {
	Primes int64
}

// MarshalMsg implements msgp.Marshaler.
func (r *Result) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendInt64(b, r.Primes), nil }

// UnmarshalMsg implements msgp.Unmarshaler.
func (r *Result) UnmarshalMsg(b []byte) ([]byte, error) {
	var err error
	r.Primes, b, err = msgp.ReadInt64Bytes(b)
	return b, err
}

// Msgsize implements msgp.Sizer.
func (r *Result) Msgsize() int { return msgp.Int64Size }
