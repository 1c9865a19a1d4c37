package cache

// This file holds the msgp methods of Artifact, written by hand in the style of msgp's
// generated code (structs as maps keyed by field name). cachegen will generate them; the
// file can then be replaced by its output.

import "github.com/tinylib/msgp/msgp"

// MarshalMsg implements msgp.Marshaler.
func (z *Artifact) MarshalMsg(b []byte) ([]byte, error) {
	b = msgp.AppendMapHeader(b, 4)
	b = msgp.AppendString(b, "Code")
	b = msgp.AppendBytes(b, z.Code)
	b = msgp.AppendString(b, "Relocs")
	b = msgp.AppendArrayHeader(b, uint32(len(z.Relocs)))
	for i := range z.Relocs {
		r := &z.Relocs[i]
		b = msgp.AppendMapHeader(b, 3)
		b = msgp.AppendString(b, "Offset")
		b = msgp.AppendUint32(b, r.Offset)
		b = msgp.AppendString(b, "Symbol")
		b = msgp.AppendString(b, r.Symbol)
		b = msgp.AppendString(b, "Kind")
		b = msgp.AppendUint8(b, r.Kind)
	}
	b = msgp.AppendString(b, "Traps")
	b = msgp.AppendArrayHeader(b, uint32(len(z.Traps)))
	for i := range z.Traps {
		t := &z.Traps[i]
		b = msgp.AppendMapHeader(b, 2)
		b = msgp.AppendString(b, "Offset")
		b = msgp.AppendUint32(b, t.Offset)
		b = msgp.AppendString(b, "Code")
		b = msgp.AppendUint8(b, t.Code)
	}
	b = msgp.AppendString(b, "Names")
	b = msgp.AppendMapHeader(b, uint32(len(z.Names)))
	for k, v := range z.Names {
		b = msgp.AppendUint32(b, k)
		b = msgp.AppendString(b, v)
	}
	return b, nil
}

// UnmarshalMsg implements msgp.Unmarshaler.
func (z *Artifact) UnmarshalMsg(bts []byte) (o []byte, err error) {
	var n uint32
	n, bts, err = msgp.ReadMapHeaderBytes(bts)
	if err != nil {
		return bts, msgp.WrapError(err)
	}
	for ; n > 0; n-- {
		var field []byte
		field, bts, err = msgp.ReadMapKeyZC(bts)
		if err != nil {
			return bts, msgp.WrapError(err)
		}
		switch msgp.UnsafeString(field) {
		case "Code":
			z.Code, bts, err = msgp.ReadBytesBytes(bts, z.Code[:0])
			if err != nil {
				return bts, msgp.WrapError(err, "Code")
			}
		case "Relocs":
			var m uint32
			m, bts, err = msgp.ReadArrayHeaderBytes(bts)
			if err != nil {
				return bts, msgp.WrapError(err, "Relocs")
			}
			if uint32(cap(z.Relocs)) >= m {
				z.Relocs = z.Relocs[:m]
			} else {
				z.Relocs = make([]Reloc, m)
			}
			for i := range z.Relocs {
				if bts, err = z.Relocs[i].unmarshalMsg(bts); err != nil {
					return bts, msgp.WrapError(err, "Relocs", i)
				}
			}
		case "Traps":
			var m uint32
			m, bts, err = msgp.ReadArrayHeaderBytes(bts)
			if err != nil {
				return bts, msgp.WrapError(err, "Traps")
			}
			if uint32(cap(z.Traps)) >= m {
				z.Traps = z.Traps[:m]
			} else {
				z.Traps = make([]Trap, m)
			}
			for i := range z.Traps {
				if bts, err = z.Traps[i].unmarshalMsg(bts); err != nil {
					return bts, msgp.WrapError(err, "Traps", i)
				}
			}
		case "Names":
			var m uint32
			m, bts, err = msgp.ReadMapHeaderBytes(bts)
			if err != nil {
				return bts, msgp.WrapError(err, "Names")
			}
			if z.Names == nil {
				z.Names = make(map[uint32]string, m)
			} else {
				clear(z.Names)
			}
			for ; m > 0; m-- {
				var k uint32
				var v string
				if k, bts, err = msgp.ReadUint32Bytes(bts); err != nil {
					return bts, msgp.WrapError(err, "Names")
				}
				if v, bts, err = msgp.ReadStringBytes(bts); err != nil {
					return bts, msgp.WrapError(err, "Names", k)
				}
				z.Names[k] = v
			}
		default:
			if bts, err = msgp.Skip(bts); err != nil {
				return bts, msgp.WrapError(err)
			}
		}
	}
	return bts, nil
}

func (r *Reloc) unmarshalMsg(bts []byte) (o []byte, err error) {
	var n uint32
	n, bts, err = msgp.ReadMapHeaderBytes(bts)
	if err != nil {
		return bts, err
	}
	for ; n > 0; n-- {
		var field []byte
		if field, bts, err = msgp.ReadMapKeyZC(bts); err != nil {
			return bts, err
		}
		switch msgp.UnsafeString(field) {
		case "Offset":
			r.Offset, bts, err = msgp.ReadUint32Bytes(bts)
		case "Symbol":
			r.Symbol, bts, err = msgp.ReadStringBytes(bts)
		case "Kind":
			r.Kind, bts, err = msgp.ReadUint8Bytes(bts)
		default:
			bts, err = msgp.Skip(bts)
		}
		if err != nil {
			return bts, msgp.WrapError(err, string(field))
		}
	}
	return bts, nil
}

func (t *Trap) unmarshalMsg(bts []byte) (o []byte, err error) {
	var n uint32
	n, bts, err = msgp.ReadMapHeaderBytes(bts)
	if err != nil {
		return bts, err
	}
	for ; n > 0; n-- {
		var field []byte
		if field, bts, err = msgp.ReadMapKeyZC(bts); err != nil {
			return bts, err
		}
		switch msgp.UnsafeString(field) {
		case "Offset":
			t.Offset, bts, err = msgp.ReadUint32Bytes(bts)
		case "Code":
			t.Code, bts, err = msgp.ReadUint8Bytes(bts)
		default:
			bts, err = msgp.Skip(bts)
		}
		if err != nil {
			return bts, msgp.WrapError(err, string(field))
		}
	}
	return bts, nil
}

// Msgsize implements msgp.Sizer: an upper bound of the encoding's size.
func (z *Artifact) Msgsize() int {
	s := msgp.MapHeaderSize + msgp.StringPrefixSize + 4 + msgp.BytesPrefixSize + len(z.Code) +
		msgp.StringPrefixSize + 6 + msgp.ArrayHeaderSize +
		msgp.StringPrefixSize + 5 + msgp.ArrayHeaderSize +
		msgp.StringPrefixSize + 5 + msgp.MapHeaderSize
	for i := range z.Relocs {
		s += msgp.MapHeaderSize + 3*msgp.StringPrefixSize + 6 + 6 + 4 +
			msgp.Uint32Size + msgp.StringPrefixSize + len(z.Relocs[i].Symbol) + msgp.Uint8Size
	}
	s += len(z.Traps) * (msgp.MapHeaderSize + 2*msgp.StringPrefixSize + 6 + 4 + msgp.Uint32Size + msgp.Uint8Size)
	for _, v := range z.Names {
		s += msgp.Uint32Size + msgp.StringPrefixSize + len(v)
	}
	return s
}
