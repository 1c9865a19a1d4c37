package cache

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
)

// smallOrderEncodings are the encodings of the Ed25519 points of small order, as libsodium's
// blocklist gives them (y only: each also with the sign bit set), including the
// non-canonical encodings p and p+1 of y = 0 and y = 1.
var smallOrderEncodings = []string{
	"0000000000000000000000000000000000000000000000000000000000000000", // y = 0, order 4
	"0100000000000000000000000000000000000000000000000000000000000000", // the identity
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = -1, order 2
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p (0), non-canonical
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1 (1), non-canonical
}

func edEncode(p edPoint) []byte {
	zi := new(big.Int).ModInverse(p.Z, edP)
	x := new(big.Int).Mod(new(big.Int).Mul(p.X, zi), edP)
	y := new(big.Int).Mod(new(big.Int).Mul(p.Y, zi), edP)
	be := y.FillBytes(make([]byte, 32))
	b := make([]byte, 32)
	for i := range b {
		b[i] = be[31-i]
	}
	b[31] |= byte(x.Bit(0)) << 7
	return b
}

// TestRemoteEd25519WeakKeys: a public key of small order, off the curve, non-canonical or
// with a torsion component is refused; so is a private key whose halves do not match. Keys
// made from seeds are accepted.
func TestRemoteEd25519WeakKeys(t *testing.T) {
	refused := func(what string, pub []byte) {
		t.Helper()
		if _, err := newKeyRing([]RemoteKey{{ID: "ci", Ed25519Public: pub}}); err == nil || !strings.Contains(err.Error(), "not a valid Ed25519 public key") {
			t.Errorf("%s %x: %v, want it refused", what, pub, err)
		}
	}
	var torsion []edPoint
	for _, h := range smallOrderEncodings {
		b, _ := hex.DecodeString(h)
		for _, sign := range []byte{0, 0x80} {
			k := append([]byte(nil), b...)
			k[31] |= sign
			refused("small-order point", k)
			if p, ok := edDecode(k); ok {
				if !edIsIdentity(edMul(big.NewInt(8), p)) {
					t.Errorf("%x decodes to a point of large order", k)
				}
				if !edIsIdentity(p) {
					torsion = append(torsion, p)
				}
			}
		}
	}
	if len(torsion) != 7 {
		t.Errorf("%d points of small order but the identity decoded, want 7", len(torsion))
	}
	// Why it matters: with the identity as key, R = identity and S = 0 verify everything.
	id := make([]byte, 32)
	id[0] = 1
	sig := make([]byte, 64)
	sig[0] = 1
	if !ed25519.Verify(id, []byte("any message"), sig) {
		t.Log("crypto/ed25519 refuses the identity key by itself now")
	}
	// Every y >= p is a non-canonical encoding.
	for k := range int64(19) {
		y := new(big.Int).Add(edP, big.NewInt(k))
		be := y.FillBytes(make([]byte, 32))
		b := make([]byte, 32)
		for i := range b {
			b[i] = be[31-i]
		}
		refused("non-canonical", b)
	}
	for i := range 20 {
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newKeyRing([]RemoteKey{{ID: "ci", Ed25519Public: pub}}); err != nil {
			t.Fatalf("a generated key is refused: %v", err)
		}
		if _, err := newKeyRing([]RemoteKey{{ID: "ci", Ed25519Private: priv}}); err != nil {
			t.Fatalf("a generated private key is refused: %v", err)
		}
		a, ok := edDecode(pub)
		if !ok || !bytes32Equal(edEncode(a), pub) {
			t.Fatalf("%x does not decode and encode back", pub)
		}
		// A generated key plus a point of small order: a valid point, but not in the
		// subgroup that keys come from.
		refused("mixed-order point", edEncode(edAdd(a, torsion[i%len(torsion)])))
		// y on no point of the curve: flip bits until the decoding fails.
		for j := range 32 {
			b := append([]byte(nil), pub...)
			b[j] ^= 0x55
			if _, ok := edDecode(b); !ok {
				refused("off the curve", b)
				break
			}
		}
	}
	_, priv1, _ := ed25519.GenerateKey(nil)
	pub2, _, _ := ed25519.GenerateKey(nil)
	mixed := append(append(ed25519.PrivateKey(nil), priv1.Seed()...), pub2...)
	if _, err := newKeyRing([]RemoteKey{{ID: "ci", Ed25519Private: mixed}}); err == nil || !strings.Contains(err.Error(), "public half") {
		t.Errorf("a private key with a foreign public half: %v, want it refused", err)
	}
}

func bytes32Equal(a, b []byte) bool { return string(a) == string(b) }

// TestRemoteEd25519SmallOrderForgery: an attacker without any key plants an entry signed for
// the identity point (R = identity, S = 0). A Cache configured with that key as public key has
// no remote tier at all, so the entry is never used.
func TestRemoteEd25519SmallOrderForgery(t *testing.T) {
	weak := make([]byte, 32)
	weak[0] = 1
	key := testKey{"victim", 1}
	src := newFakeRemote()
	cw := remoteCache(t, src, []RemoteKey{hmacKey("x", "attacker-own-secret-123")}, nil)
	mustLoad(t, cw, key, wrongCompute)
	flush(t, cw)
	b := src.blob(addressOf(cw, key))
	foot := b[len(b)-footerSize:]
	entry := b[:len(b)-footerSize-int(foot[1])-int(foot[2])]
	sig := make([]byte, 64)
	sig[0] = 1
	forged := append(append(append([]byte(nil), entry...), "ci"...), sig...)
	forged = append(forged, algEd25519, 2, 64, 0, trailerVersion, 0, 0, 0)
	forged = append(forged, footerMagic...)
	r := newFakeRemote()
	logs := &logCounter{}
	c := remoteCache(t, r, []RemoteKey{{ID: "ci", Ed25519Public: weak}}, func(o *Options) { o.Logger = logs.logger() })
	r.set(addressOf(c, key), forged)
	v, err := Load(context.Background(), c, key, computeSmall)
	if err != nil {
		t.Fatal(err)
	}
	if v.Name == "planted" || c.Stats().RemoteHits != 0 {
		t.Fatalf("forged entry accepted with a small-order public key: %q, %+v", v.Name, c.Stats())
	}
	if c.remote != nil {
		t.Fatal("a remote tier with a small-order key")
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.msgs) != 1 || !strings.Contains(logs.msgs[0], "no remote tier") {
		t.Fatalf("logged %q, want why there is no remote tier", logs.msgs)
	}
}
