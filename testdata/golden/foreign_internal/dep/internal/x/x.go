// Package x is internal to dep: only dep's tree can import it.
package x

import "github.com/tinylib/msgp/msgp"

// Addr has an encoding of its own.
type Addr struct{ S string }

func (a Addr) MarshalText() ([]byte, error) { return []byte(a.S), nil }

func (a *Addr) UnmarshalText(b []byte) error { a.S = string(b); return nil }

// Wire has msgp methods.
type Wire struct{ A int }

func (z *Wire) DecodeMsg(dc *msgp.Reader) (err error) { z.A, err = dc.ReadInt(); return err }
func (z Wire) EncodeMsg(en *msgp.Writer) error        { return en.WriteInt(z.A) }
func (z Wire) MarshalMsg(b []byte) ([]byte, error)    { return msgp.AppendInt(b, z.A), nil }
func (z *Wire) UnmarshalMsg(b []byte) (o []byte, err error) {
	z.A, o, err = msgp.ReadIntBytes(b)
	return o, err
}
func (z Wire) Msgsize() int { return msgp.IntSize }
