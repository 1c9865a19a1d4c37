package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"sync"
	"time"
)

// A Remote is a store of entries shared by several machines: a Bazel HTTP cache, a Redis
// server, an S3 bucket, or a store of the program's own. The Cache addresses it by a key
// of 64 lowercase hexadecimal digits, which already covers the namespace, the program's
// version, the value type and its schema, and the key's digest, and stores in it signed
// entries: the Cache checks every entry's tag before it uses a byte of it, so a Remote need
// not be trusted, only available. Its methods are called concurrently; Close is called once,
// when none of the others runs.
type Remote interface {
	// Get returns the entry stored under key. A missing entry is an error wrapping
	// ErrRemoteMiss; an entry larger than limit bytes is an error wrapping
	// ErrRemoteTooLarge, found without reading more than limit bytes of it. Get should
	// return when ctx is done: the Cache stops waiting for it then (see
	// Options.RemoteLookupTimeout) and drops its result. The bytes returned are the
	// caller's: the Remote must not reuse them.
	Get(ctx context.Context, key string, limit int64) ([]byte, error)
	// Put stores data under key, replacing what is there. A store that refuses this
	// client's writes returns an error wrapping ErrRemoteDenied; one that refuses the
	// entry's size, an error wrapping ErrRemoteTooLarge.
	Put(ctx context.Context, key string, data []byte) error
	// Close releases the Remote's connections. The Cache calls it from its own Close, or,
	// when a Get or Put ignores its cancellation past Close, once the last of them returns.
	Close() error
}

// Errors that a Remote's methods wrap, which the Cache acts on. Any other error is counted
// as a failure of the remote (see Options.Remote).
var (
	// ErrRemoteMiss: the remote holds no entry under the key.
	ErrRemoteMiss = errors.New("cache: no such remote entry")
	// ErrRemoteTooLarge: the entry is larger than the limit asked for (a lookup's entry
	// refused, not a failure), or than the store accepts (HTTP 413 to an upload).
	ErrRemoteTooLarge = errors.New("cache: remote entry too large")
	// ErrRemoteDenied: the store refused the client's credentials (HTTP 401 or 403). A
	// Cache whose upload is denied stops uploading; a denied lookup is counted as a failed
	// one (Stats.RemoteErrors, the lookups' breaker) and does not stop the uploads.
	ErrRemoteDenied = errors.New("cache: remote access denied")
)

// RemoteConfig is what an opener of remote URLs receives besides the URL.
type RemoteConfig struct {
	// DialTimeout bounds connecting to the server.
	DialTimeout time.Duration
	// RequestTimeout bounds a request until its response starts (and the whole of a
	// small one).
	RequestTimeout time.Duration
	// IdleTimeout bounds the pauses in a large transfer: a body whose bytes stop flowing
	// for this long is abandoned, however long the whole transfer takes.
	IdleTimeout time.Duration
	// Logger receives the opener's messages.
	Logger *slog.Logger
	// Token is a bearer token for engines whose servers take one (the HTTP engine sends
	// it when the URL has no userinfo). Open sets it from CACHEGEN_REMOTE_TOKEN. Engines
	// must never log it.
	Token string
}

// withDefaults returns cfg with its zero durations replaced by the defaults of the Options
// fields they come from, and a nil Logger by slog.Default().
func (cfg RemoteConfig) withDefaults() RemoteConfig {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultRemoteDialTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRemoteTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultRemoteIdleTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// An OpenRemoteFunc returns the Remote that a URL of its scheme names.
type OpenRemoteFunc func(u *url.URL, cfg RemoteConfig) (Remote, error)

// remoteSchemes is the registry of RegisterRemote: the one piece of package state besides
// the file slots, written by the init functions of the engine packages a program imports, as
// database/sql's drivers are.
var remoteSchemes struct {
	sync.RWMutex
	m map[string]OpenRemoteFunc
}

// RegisterRemote makes Open accept CACHEGEN_REMOTE URLs of the given scheme, opening them
// with open. Engine packages call it from their init function (runtime/cache/redisremote
// registers redis and rediss, runtime/cache/s3remote registers s3), so that a program links
// only the clients it imports. It panics if the scheme is registered already or open is nil.
func RegisterRemote(scheme string, open OpenRemoteFunc) {
	if open == nil {
		panic("cache: RegisterRemote with a nil opener for " + scheme)
	}
	remoteSchemes.Lock()
	defer remoteSchemes.Unlock()
	if remoteSchemes.m == nil {
		remoteSchemes.m = map[string]OpenRemoteFunc{}
	}
	if _, dup := remoteSchemes.m[scheme]; dup {
		panic("cache: RegisterRemote called twice for scheme " + scheme)
	}
	remoteSchemes.m[scheme] = open
}

// RemoteSchemes returns the URL schemes that Open accepts in CACHEGEN_REMOTE, sorted.
func RemoteSchemes() []string {
	remoteSchemes.RLock()
	defer remoteSchemes.RUnlock()
	s := make([]string, 0, len(remoteSchemes.m))
	for k := range remoteSchemes.m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// OpenRemote opens the Remote that rawURL names, with the opener registered for its scheme.
// Its errors never show the URL's password.
func OpenRemote(rawURL string, cfg RemoteConfig) (Remote, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		return nil, errors.New("cache: the remote URL does not parse")
	}
	remoteSchemes.RLock()
	open := remoteSchemes.m[u.Scheme]
	remoteSchemes.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("cache: no remote engine for scheme %q (registered: %v; import the package of its engine)", u.Scheme, RemoteSchemes())
	}
	return open(u, cfg)
}
