package cache

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// putCounter is an HTTP remote that counts PUTs and answers every GET with status get.
func putCounter(t *testing.T, get int) (*httptest.Server, *atomic.Int64) {
	var puts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			puts.Add(1)
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.WriteHeader(get)
	}))
	t.Cleanup(srv.Close)
	return srv, &puts
}

// TestRemoteReadOnlyEnvValues: CACHEGEN_REMOTE_READONLY takes the usual spellings of a
// boolean; anything else is logged, and read-only.
func TestRemoteReadOnlyEnvValues(t *testing.T) {
	srv, puts := putCounter(t, http.StatusNotFound)
	for _, tt := range []struct {
		val      string
		readOnly bool
		logged   bool
	}{
		{"1", true, false}, {"true", true, false}, {"TRUE", true, false}, {" yes ", true, false}, {"On", true, false},
		{"", false, false}, {"0", false, false}, {"false", false, false}, {"No", false, false}, {" off", false, false},
		{"maybe", true, true}, {"2", true, true},
	} {
		t.Run(fmt.Sprintf("%q", tt.val), func(t *testing.T) {
			t.Setenv(RemoteEnv, srv.URL)
			t.Setenv(RemoteSecretEnv, "k1:0123456789abcdef-team-secret")
			t.Setenv(RemoteReadOnlyEnv, tt.val)
			logs := &logCounter{}
			c, err := Open(Options{Dir: t.TempDir(), Namespace: "ro", Logger: logs.logger()})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			puts.Store(0)
			mustLoad(t, c, testKey{"ro", 1}, computeSmall)
			flush(t, c)
			if got := puts.Load() == 0; got != tt.readOnly {
				t.Fatalf("%d PUTs, want read-only %v", puts.Load(), tt.readOnly)
			}
			logs.mu.Lock()
			defer logs.mu.Unlock()
			if logged := len(logs.msgs) > 0; logged != tt.logged || logged && !strings.Contains(logs.msgs[0], RemoteReadOnlyEnv) {
				t.Fatalf("logged %q", logs.msgs)
			}
		})
	}
}

// TestRemoteSecretEnvNeverLogged: an item of CACHEGEN_REMOTE_SECRET that is refused is named
// by its position, never by its content, and an item written secret first is refused, so
// that its secret is never written as a key id in the entries.
func TestRemoteSecretEnvNeverLogged(t *testing.T) {
	srv, puts := putCounter(t, http.StatusNotFound)
	secret := hex.EncodeToString([]byte("hunter2-hunter2-hunter2-hunter2!"))
	for _, item := range []string{
		secret + ":ci",                     // swapped: a short "secret"
		secret + ":team-ci-key-2026",       // swapped: a 16-byte "secret"
		"hunter2+/=secretvalue:" + secret,  // not an id before the ':'
		"ci:" + secret + ",ci:" + secret,   // twice
		"hunter2hunter2:ci",                // swapped: a secret shorter than its id
		"hunter2 hunter2:0123456789abcdef", // not an id
	} {
		t.Setenv(RemoteEnv, srv.URL)
		t.Setenv(RemoteSecretEnv, item)
		logs := &logCounter{}
		c, err := Open(Options{Dir: t.TempDir(), Namespace: "s", Logger: logs.logger()})
		if err != nil {
			t.Fatal(err)
		}
		mustLoad(t, c, testKey{"s", 1}, computeSmall)
		flush(t, c)
		c.Close()
		if c.remote != nil || puts.Load() != 0 {
			t.Fatalf("%q: a remote tier (%d PUTs), want the item refused", item, puts.Load())
		}
		logs.mu.Lock()
		if len(logs.msgs) != 1 || strings.Contains(logs.msgs[0], "hunter2") || strings.Contains(logs.msgs[0], secret[:16]) {
			t.Errorf("%q: logged %q, want one message without the secret", item, logs.msgs)
		}
		logs.mu.Unlock()
	}
}

// TestRemoteKeysEnvEdgeCases: white space around ids and secrets is ignored; Ed25519 keys in
// base64 with or without padding, standard or URL-safe; a public key under the private key's
// id must be its public key.
func TestRemoteKeysEnvEdgeCases(t *testing.T) {
	t.Setenv(RemoteEd25519PrivateEnv, "")
	t.Setenv(RemoteEd25519PublicEnv, "")
	t.Setenv(RemoteSecretEnv, " k1 : 0123456789abcdef-team-secret ")
	keys, err := remoteKeysFromEnv()
	if err != nil || len(keys) != 1 || keys[0].ID != "k1" || string(keys[0].HMAC) != "0123456789abcdef-team-secret" {
		t.Fatalf("%+v, %v", keys, err)
	}
	t.Setenv(RemoteSecretEnv, "")
	pub, priv, _ := ed25519.GenerateKey(nil)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		t.Setenv(RemoteEd25519PublicEnv, "ci:"+enc.EncodeToString(pub))
		t.Setenv(RemoteEd25519PrivateEnv, "ci:"+enc.EncodeToString(priv.Seed()))
		keys, err := remoteKeysFromEnv()
		if err != nil || len(keys) != 1 || !keys[0].Ed25519Private.Equal(priv) {
			t.Fatalf("%v: %+v, %v", enc, keys, err)
		}
	}
	other, _, _ := ed25519.GenerateKey(nil)
	t.Setenv(RemoteEd25519PublicEnv, "ci:"+base64.StdEncoding.EncodeToString(other))
	if _, err := remoteKeysFromEnv(); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("a different public key under the private key's id: %v", err)
	}
	// A 64-byte private key whose halves do not match is refused at Open.
	t.Setenv(RemoteEd25519PublicEnv, "")
	t.Setenv(RemoteEd25519PrivateEnv, "ci:"+base64.StdEncoding.EncodeToString(append(priv.Seed(), other...)))
	keys, err = remoteKeysFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newKeyRing(keys); err == nil {
		t.Fatal("a private key whose public half is another key's was accepted")
	}
}

// TestRemoteGetStatuses: a lookup refused for its credentials, or answered 413, is a failed
// lookup: counted as an error, and the uploads go on.
func TestRemoteGetStatuses(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge} {
		srv, puts := putCounter(t, status)
		r, err := OpenRemote(srv.URL, RemoteConfig{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		c := remoteCache(t, r, []RemoteKey{teamKey}, nil)
		for i := range 3 {
			mustLoad(t, c, testKey{"st", i}, computeSmall)
			flush(t, c)
		}
		if st := c.Stats(); st.RemoteErrors != 3 || st.RemoteRejected != 0 || st.Uploads != 3 || puts.Load() != 3 {
			t.Fatalf("GET %d: %+v, %d PUTs", status, st, puts.Load())
		}
	}
}

// TestRemoteShortSecretWarns: a short secret is weak but still a key: the remote tier runs,
// and one warning says so without quoting it.
func TestRemoteShortSecretWarns(t *testing.T) {
	srv, puts := putCounter(t, http.StatusNotFound)
	t.Setenv(RemoteEnv, srv.URL)
	t.Setenv(RemoteSecretEnv, "ci:hunter2")
	logs := &logCounter{}
	c, err := Open(Options{Dir: t.TempDir(), Namespace: "s", Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	mustLoad(t, c, testKey{"s", 1}, computeSmall)
	flush(t, c)
	c.Close()
	if c.remote == nil || puts.Load() != 1 {
		t.Fatalf("remote tier %v, %d PUTs: want a remote tier and one upload", c.remote != nil, puts.Load())
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.msgs) != 1 || !strings.Contains(logs.msgs[0], "easy to guess") || strings.Contains(logs.msgs[0], "hunter2") {
		t.Fatalf("logged %q, want one warning without the secret", logs.msgs)
	}
}
