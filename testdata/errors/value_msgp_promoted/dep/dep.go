// Package dep stands for a dependency with hand-written msgp methods.
package dep

import "github.com/tinylib/msgp/msgp"

// Wire has msgp methods of its own.
type Wire struct{ A int }

func (z *Wire) DecodeMsg(dc *msgp.Reader) (err error) { z.A, err = dc.ReadInt(); return err }
func (z Wire) EncodeMsg(en *msgp.Writer) error        { return en.WriteInt(z.A) }
func (z Wire) MarshalMsg(b []byte) ([]byte, error)    { return msgp.AppendInt(b, z.A), nil }
func (z *Wire) UnmarshalMsg(b []byte) (o []byte, err error) {
	z.A, o, err = msgp.ReadIntBytes(b)
	return o, err
}
func (z Wire) Msgsize() int { return msgp.IntSize }

// Wrapped has them only by promotion: they would drop Extra.
type Wrapped struct {
	Wire
	Extra string
}

// Codec is an interface with msgp's methods.
type Codec interface {
	msgp.Encodable
	msgp.Decodable
	msgp.Marshaler
	msgp.Unmarshaler
	msgp.Sizer
}
