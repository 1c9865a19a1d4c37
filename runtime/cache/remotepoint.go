package cache

import (
	"crypto/ed25519"
	"math/big"
)

// Ed25519 public keys are checked when a Cache is configured, because crypto/ed25519's
// Verify accepts any 32 bytes as a key: with a key of small order (the identity point, for
// one), a fixed signature verifies on every message, so anyone could sign entries. A key is
// accepted only when it is the canonical encoding of a point of the curve that lies in the
// subgroup of prime order ℓ, as every key made from a seed does: decoded, its y coordinate is
// below p and x is not a "negative zero", and [ℓ]A is the identity while A is not. That
// rejects the 8 points of small order in all their encodings, non-canonical encodings and
// points with a torsion component. The arithmetic (math/big, extended coordinates) runs once
// per key, at Open; it handles public values only, so it need not be constant time.

var (
	edP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// edD is -121665/121666 mod p.
	edD = func() *big.Int {
		d := new(big.Int).ModInverse(big.NewInt(121666), edP)
		d.Mul(d, big.NewInt(-121665))
		return d.Mod(d, edP)
	}()
	edD2 = new(big.Int).Mod(new(big.Int).Lsh(edD, 1), edP)
	// edSqrtM1 is a square root of -1: 2^((p-1)/4).
	edSqrtM1 = new(big.Int).Exp(big.NewInt(2), new(big.Int).Rsh(new(big.Int).Sub(edP, big.NewInt(1)), 2), edP)
	// edL is the order of the base point: 2^252 + 27742317777372353535851937790883648493.
	edL = func() *big.Int {
		l, _ := new(big.Int).SetString("27742317777372353535851937790883648493", 10)
		return l.Add(l, new(big.Int).Lsh(big.NewInt(1), 252))
	}()
)

// edPoint is a point in extended coordinates: x = X/Z, y = Y/Z, xy = T/Z.
type edPoint struct{ X, Y, Z, T *big.Int }

// edDecode decodes a point's encoding as RFC 8032 says, refusing non-canonical ones.
func edDecode(b []byte) (edPoint, bool) {
	if len(b) != ed25519.PublicKeySize {
		return edPoint{}, false
	}
	le := make([]byte, 32)
	for i := range le {
		le[i] = b[31-i]
	}
	sign := le[0] >> 7
	le[0] &= 0x7f
	y := new(big.Int).SetBytes(le)
	if y.Cmp(edP) >= 0 {
		return edPoint{}, false
	}
	mod := func(z *big.Int) *big.Int { return z.Mod(z, edP) }
	y2 := mod(new(big.Int).Mul(y, y))
	u := mod(new(big.Int).Sub(y2, big.NewInt(1)))
	v := mod(new(big.Int).Add(new(big.Int).Mul(edD, y2), big.NewInt(1)))
	// x = (u/v)^((p+3)/8), times sqrt(-1) if its square is -u/v.
	x2 := mod(new(big.Int).Mul(u, new(big.Int).ModInverse(v, edP)))
	x := new(big.Int).Exp(x2, new(big.Int).Rsh(new(big.Int).Add(edP, big.NewInt(3)), 3), edP)
	if mod(new(big.Int).Mul(x, x)).Cmp(x2) != 0 {
		mod(x.Mul(x, edSqrtM1))
		if mod(new(big.Int).Mul(x, x)).Cmp(x2) != 0 {
			return edPoint{}, false // not on the curve
		}
	}
	if x.Sign() == 0 && sign == 1 {
		return edPoint{}, false // -0: non-canonical
	}
	if x.Bit(0) != uint(sign) {
		x.Sub(edP, x)
	}
	return edPoint{X: x, Y: y, Z: big.NewInt(1), T: mod(new(big.Int).Mul(x, y))}, true
}

// edAdd returns p+q (the complete addition of twisted Edwards curves with a = -1).
func edAdd(p, q edPoint) edPoint {
	mod := func(z *big.Int) *big.Int { return z.Mod(z, edP) }
	mul := func(a, b *big.Int) *big.Int { return mod(new(big.Int).Mul(a, b)) }
	a := mul(new(big.Int).Sub(p.Y, p.X), new(big.Int).Sub(q.Y, q.X))
	b := mul(new(big.Int).Add(p.Y, p.X), new(big.Int).Add(q.Y, q.X))
	c := mul(mul(p.T, edD2), q.T)
	d := mul(new(big.Int).Lsh(p.Z, 1), q.Z)
	e := mod(new(big.Int).Sub(b, a))
	f := mod(new(big.Int).Sub(d, c))
	g := mod(new(big.Int).Add(d, c))
	h := mod(new(big.Int).Add(b, a))
	return edPoint{X: mul(e, f), Y: mul(g, h), Z: mul(f, g), T: mul(e, h)}
}

// edIsIdentity reports whether p is the neutral point (0, 1).
func edIsIdentity(p edPoint) bool {
	return new(big.Int).Mod(p.X, edP).Sign() == 0 && new(big.Int).Mod(new(big.Int).Sub(p.Y, p.Z), edP).Sign() == 0
}

// edMul returns [k]p.
func edMul(k *big.Int, p edPoint) edPoint {
	r := edPoint{X: big.NewInt(0), Y: big.NewInt(1), Z: big.NewInt(1), T: big.NewInt(0)}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = edAdd(r, r)
		if k.Bit(i) == 1 {
			r = edAdd(r, p)
		}
	}
	return r
}

// validEd25519Public reports whether pub is the canonical encoding of a point of prime order
// ℓ: a key that some seed makes (see above).
func validEd25519Public(pub []byte) bool {
	a, ok := edDecode(pub)
	return ok && !edIsIdentity(a) && edIsIdentity(edMul(edL, a))
}
