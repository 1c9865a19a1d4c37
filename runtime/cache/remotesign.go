package cache

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"regexp"
)

// A remote blob is an entry file (see entry.go) followed by a trailer that carries its tag.
// All integers are little-endian.
//
//	entry      the entry file's bytes, exactly as the disk tier stores them
//	key id     I bytes: the id of the key that made the tag
//	tag        G bytes: HMAC-SHA256 (32) or Ed25519 signature (64)
//	footer     16 bytes:
//	  0  1  algorithm: 1 HMAC-SHA256, 2 Ed25519
//	  1  1  I
//	  2  2  G
//	  4  1  trailer version (trailerVersion)
//	  5  3  reserved, 0
//	  8  8  magic "cgremote"
//
// The tag is computed over tagDigest: a SHA-256 of the domain string, the entry format and
// trailer versions, the namespace, the remote address, the value type identity (with its
// schema digest), the algorithm, the key id and the whole entry, each length-prefixed. The
// entry's header holds its entry digest (key digest, version, value type), which the reader
// checks against the one it asked for once the tag holds, so an entry moved to another
// address or namespace, or to another type, is refused.
const (
	remoteDomain   = "cachegen remote entry"
	trailerVersion = 1
	footerSize     = 16
	footerMagic    = "cgremote"
	maxKeyIDLen    = 64
	maxTrailer     = footerSize + maxKeyIDLen + ed25519.SignatureSize

	algHMAC    = 1
	algEd25519 = 2

	// minHMACSecret is the shortest HMAC secret accepted without a warning, in bytes.
	minHMACSecret = 16
)

// errRemoteTag is why a remote blob is refused before any of its entry is looked at: no
// trailer, an unknown algorithm or key id, or a tag that does not hold.
var errRemoteTag = errors.New("cache: remote entry without a valid tag")

var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// A RemoteKey signs or verifies the entries of the remote tier (see Options.RemoteKeys). Set
// ID and exactly one of HMAC, Ed25519Public and Ed25519Private.
type RemoteKey struct {
	// ID names the key in the entries it signs, so that readers pick the key to check
	// with, and keys can be rotated: 1 to 64 letters, digits, '.', '_' or '-'. An HMAC key
	// and an Ed25519 key may share an id; two keys of one algorithm may not.
	ID string
	// HMAC is a shared secret (of at least 32 random bytes, better; under 16 is accepted
	// with a warning), at least as long as ID when ID
	// has 32 characters or more (else ID and the secret look swapped): HMAC-SHA256 tags,
	// which anyone holding the secret can make and check. For teams whose writers are all
	// trusted.
	HMAC []byte
	// Ed25519Public verifies Ed25519 signatures and cannot sign: for readers only. It
	// must be a key made from a seed (a point of the prime-order subgroup, canonically
	// encoded): a key of small order, which would accept signatures made by anyone, is
	// refused.
	Ed25519Public ed25519.PublicKey
	// Ed25519Private signs (and verifies) with Ed25519. Its public half must be that
	// of its seed.
	Ed25519Private ed25519.PrivateKey
}

// A remoteKey is a RemoteKey checked and resolved.
type remoteKey struct {
	alg    byte
	id     string
	secret []byte
	pub    ed25519.PublicKey
	priv   ed25519.PrivateKey
}

// A keyRef is what a trailer names: an algorithm and a key id.
type keyRef struct {
	alg byte
	id  string
}

// A keyRing holds the keys a Cache verifies with and the one it signs with.
type keyRing struct {
	verify map[keyRef]*remoteKey
	signer *remoteKey // nil when no key can sign: the remote is then read-only
	// warnings are about keys accepted but weak, to be logged; they never quote a key.
	warnings []string
}

// newKeyRing checks keys. The first key that can sign (an HMAC secret or an Ed25519
// private key) signs; every key verifies. Its errors name a key by its position, never by
// its id, which may be a secret written in the wrong place.
func newKeyRing(keys []RemoteKey) (*keyRing, error) {
	kr := &keyRing{verify: map[keyRef]*remoteKey{}}
	for i, k := range keys {
		fail := func(format string, args ...any) (*keyRing, error) {
			return nil, fmt.Errorf("cache: remote key %d: %s", i+1, fmt.Sprintf(format, args...))
		}
		if !keyIDRE.MatchString(k.ID) {
			return fail("invalid id (1 to 64 letters, digits, '.', '_' or '-')")
		}
		n := 0
		rk := &remoteKey{id: k.ID}
		if k.HMAC != nil {
			n++
			if len(k.HMAC) == 0 {
				return fail("empty HMAC secret")
			}
			if len(k.HMAC) < minHMACSecret {
				// Weak, but the operator's choice, and still a key: a warning, not a
				// remote turned off.
				kr.warnings = append(kr.warnings, fmt.Sprintf("remote key %d: HMAC secret of %d bytes is easy to guess: use at least 32 random bytes", i+1, len(k.HMAC)))
			}
			if looksSwapped(k.ID, k.HMAC) {
				return fail("the id (%d characters) is longer than the HMAC secret (%d bytes): are the id and the secret swapped? Ids are written in every entry, in clear", len(k.ID), len(k.HMAC))
			}
			rk.alg, rk.secret = algHMAC, append([]byte(nil), k.HMAC...)
		}
		if k.Ed25519Public != nil {
			n++
			if len(k.Ed25519Public) != ed25519.PublicKeySize {
				return fail("Ed25519 public key of %d bytes, want %d", len(k.Ed25519Public), ed25519.PublicKeySize)
			}
			if !validEd25519Public(k.Ed25519Public) {
				return fail("not a valid Ed25519 public key (a point of small order, off the curve, or not canonically encoded: signatures would not mean anything)")
			}
			rk.alg, rk.pub = algEd25519, append(ed25519.PublicKey(nil), k.Ed25519Public...)
		}
		if k.Ed25519Private != nil {
			n++
			if len(k.Ed25519Private) != ed25519.PrivateKeySize {
				return fail("Ed25519 private key of %d bytes, want %d", len(k.Ed25519Private), ed25519.PrivateKeySize)
			}
			// The last 32 bytes of a private key are the public key of its seed: a key
			// whose halves do not match signs entries that no reader verifies.
			full := ed25519.NewKeyFromSeed(k.Ed25519Private.Seed())
			if !bytes.Equal(full, k.Ed25519Private) {
				return fail("Ed25519 private key whose public half is not that of its seed")
			}
			rk.alg, rk.priv = algEd25519, full
			rk.pub = full.Public().(ed25519.PublicKey)
		}
		if n != 1 {
			return fail("set exactly one of HMAC, Ed25519Public and Ed25519Private")
		}
		ref := keyRef{rk.alg, rk.id}
		if _, dup := kr.verify[ref]; dup {
			return fail("its id is given twice for one algorithm")
		}
		kr.verify[ref] = rk
		if kr.signer == nil && (rk.secret != nil || rk.priv != nil) {
			kr.signer = rk
		}
	}
	if len(kr.verify) == 0 {
		return nil, errors.New("cache: no remote key: unsigned entries are never accepted")
	}
	return kr, nil
}

// looksSwapped reports whether an HMAC key seems written the wrong way round, secret first:
// an id of 32 characters or more (a generated secret's length) with a shorter secret. Taken
// as given, the secret would be published as the id of every entry.
func looksSwapped(id string, secret []byte) bool {
	return len(id) >= 32 && len(secret) < len(id)
}

// remoteAddress returns the key of an entry in the remote store: 64 hex digits of a SHA-256
// over a domain string, the namespace and the entry digest (which covers the namespace, the
// version, the key type, the value type and its schema, and the key's digest).
func remoteAddress(namespace string, ek *entryKey) string {
	h := sha256.New()
	writeField(h, []byte("cachegen remote address"))
	writeField(h, []byte(namespace))
	h.Write(ek[:])
	return hex.EncodeToString(h.Sum(nil))
}

// writeField writes b to h after its length, so that a sequence of fields is injective.
func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// tagDigest is what a tag is computed over (see the blob format above).
func tagDigest(namespace, addr, typ string, alg byte, id string, entry []byte) []byte {
	h := sha256.New()
	writeField(h, []byte(remoteDomain))
	var v [3]byte
	binary.LittleEndian.PutUint16(v[:], formatVersion)
	v[2] = trailerVersion
	writeField(h, v[:])
	writeField(h, []byte(namespace))
	writeField(h, []byte(addr))
	writeField(h, []byte(typ))
	writeField(h, []byte{alg})
	writeField(h, []byte(id))
	writeField(h, entry)
	return h.Sum(nil)
}

// tag returns k's tag of the digest d.
func (k *remoteKey) tag(d []byte) []byte {
	if k.alg == algHMAC {
		m := hmac.New(sha256.New, k.secret)
		m.Write(d)
		return m.Sum(nil)
	}
	return ed25519.Sign(k.priv, d)
}

// check reports whether tag is k's tag of d, in constant time.
func (k *remoteKey) check(d, tag []byte) bool {
	if k.alg == algHMAC {
		return hmac.Equal(k.tag(d), tag)
	}
	return len(tag) == ed25519.SignatureSize && ed25519.Verify(k.pub, d, tag)
}

// sealEntry returns entry followed by the trailer of k's tag over it: entry itself, extended,
// when its capacity has room for the trailer (the bytes past its length are overwritten).
func sealEntry(k *remoteKey, namespace, addr, typ string, entry []byte) []byte {
	tag := k.tag(tagDigest(namespace, addr, typ, k.alg, k.id, entry))
	b := entry
	if n := len(entry) + len(k.id) + len(tag) + footerSize; cap(entry) < n {
		b = make([]byte, 0, n)
		b = append(b, entry...)
	}
	b = append(b, k.id...)
	b = append(b, tag...)
	b = append(b, k.alg, byte(len(k.id)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(tag)))
	b = append(b, trailerVersion, 0, 0, 0)
	return append(b, footerMagic...)
}

// unsealEntry checks the trailer of the blob b fetched from addr with the keys of kr, and
// returns the entry it carries (a slice of b). It looks at nothing of the entry but its
// bytes as the tag covers them: no header is parsed and nothing is decompressed before the
// tag holds. Every failure is errRemoteTag.
func unsealEntry(kr *keyRing, namespace, addr, typ string, b []byte) ([]byte, error) {
	if len(b) < footerSize {
		return nil, errRemoteTag
	}
	foot := b[len(b)-footerSize:]
	if string(foot[8:]) != footerMagic || foot[4] != trailerVersion || foot[5] != 0 || foot[6] != 0 || foot[7] != 0 {
		return nil, errRemoteTag
	}
	alg, idLen, tagLen := foot[0], int(foot[1]), int(binary.LittleEndian.Uint16(foot[2:]))
	if idLen == 0 || idLen > maxKeyIDLen || tagLen > ed25519.SignatureSize || len(b) < footerSize+idLen+tagLen {
		return nil, errRemoteTag
	}
	end := len(b) - footerSize - idLen - tagLen
	id := string(b[end : end+idLen])
	tag := b[end+idLen : end+idLen+tagLen]
	k := kr.verify[keyRef{alg, id}]
	if k == nil {
		return nil, errRemoteTag
	}
	entry := b[:end]
	if !k.check(tagDigest(namespace, addr, typ, alg, id, entry), tag) {
		return nil, errRemoteTag
	}
	return entry, nil
}
