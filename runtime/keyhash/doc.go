// Package keyhash turns cache keys into SHA-256 digests through a typed, injective encoding.
//
// A key is any type with a HashKey(*Hasher) method. cachegen generates that method for every
// struct annotated //cachegen:key: one Hasher call per field, in declaration order, so that the
// digest covers the whole key and a field cannot be forgotten. Hand-written keys use the same
// typed methods.
//
// # Encoding
//
// The Hasher feeds SHA-256 a byte stream that is a function of the key's type and value, and
// distinct values of one type give distinct streams (the encoding is injective). Each value is
// encoded as follows:
//
//   - A generated struct starts with a 32-byte schema fingerprint computed when the code was
//     generated from the package path, type name, type parameters, and each field's name,
//     tag options and type, where a type is described by its whole structure (a named type by
//     its name and what it is made of, recursively). Two key types never share a stream, and
//     any change to the shape of a key, at any depth, or to its exclusions changes every
//     digest of that type. Then every field follows, in declaration order, encoded by its
//     type. A recursive named type is encoded as if inlined, to the depth of the value.
//   - A generic struct writes, after its fingerprint, the identity of each type argument
//     (package path and name, as for interfaces below), so that its instances never share an
//     encoding.
//   - bool: one byte, 0 or 1.
//   - Integers: little-endian, at their declared width; int, uint and uintptr as 64 bits.
//   - float32, float64: their IEEE 754 bits (so -0 and +0 differ, and a NaN keeps its bits);
//     complex numbers as two floats, real part first.
//   - string, []byte: the length as a 64-bit integer, then the bytes.
//   - Slices and arrays: the length, then each element in order. Byte arrays are written as
//     their raw bytes (their length is part of the type).
//   - Maps and sets (slices tagged cache:"set"): the number of entries, then the encoding of
//     every entry (key then value, for maps), the entries sorted by their encoded bytes. The
//     order therefore does not depend on Go's map iteration order or on the slice's order, and
//     duplicates in a set count.
//   - nil and empty slices and maps encode the same way: a serialization round trip turns one
//     into the other.
//   - Pointers: a byte 0 for nil, or 1 followed by the pointed-to value, so nil differs from a
//     pointer to a zero value.
//   - Interfaces (whose type embeds Key): a byte 0 for nil; 1, the dynamic type's package path
//     and name, then the dynamic value's own HashKey encoding; or 2 and the type for a typed nil
//     pointer. Two implementations with equal fields never collide.
//   - time.Time: the instant as Unix seconds (64 bits) and nanoseconds (32 bits), the name of
//     its location, then the zone in effect at that instant: its abbreviation and its offset
//     in seconds (32 bits). The monotonic clock reading is ignored, and the same instant in
//     two locations gives two digests.
//   - time.Duration: its int64 nanoseconds.
//   - A type of another package hashed by its standard encoding (MarshalBinary or
//     MarshalText, each with its Unmarshal method, so that equal encodings mean equal
//     values): the encoding's length, then its bytes.
//   - A value hashed by a function marked //cachegen:hash: the length of what the function
//     writes, then those bytes, so that what it writes cannot run into what follows whatever
//     the function does.
//
// Each encoding is self-delimiting given the type, so a concatenation of them, which is what a
// struct is, parses back in exactly one way.
//
// Cyclic values (a pointer that leads back to itself) are the caller's responsibility: hashing
// one does not terminate.
//
// # Debugging a key
//
// When the environment variable CACHEGEN_TRACE is set to 1, every digest computed by Sum or
// Hasher.Sum is printed to standard error with the type, field path and value of everything
// that entered it, then the digest itself:
//
//	keyhash: example.com/cc.CompileKey                  fingerprint 7d1c0e...
//	keyhash:   CompileKey.CompilerVersion string = "v1.4.2"
//	keyhash:   CompileKey.OptLevel int = 2
//	keyhash: = 41f2a9...
//
// A value of a named type shows the type as the source declares it and, when it has a String
// method, its string: "Opts.Target api.Target = 8 (ES2020)". Diffing the traces of two runs
// shows which field made their digests differ.
// Hasher.Trace sends the same trace to any writer.
package keyhash
