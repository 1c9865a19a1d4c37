package redisremote

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/cache/internal/remoteparam"
	"github.com/redis/go-redis/v9"
)

func init() {
	cache.RegisterRemote("redis", Open)
	cache.RegisterRemote("rediss", Open)
}

const (
	// DefaultPrefix is put before every key when the URL has no prefix parameter.
	DefaultPrefix = "cachegen:"
	// DefaultTTL is how long an entry is kept after it was stored, when the URL has no
	// ttl parameter.
	DefaultTTL = 30 * 24 * time.Hour
	// MaxValueSize is the largest value Redis accepts (its proto-max-bulk-len default),
	// and the default and upper bound of the maxsize parameter.
	MaxValueSize = 512 << 20

	defaultDialTimeout    = time.Second
	defaultRequestTimeout = 5 * time.Second
	defaultIdleTimeout    = 5 * time.Second
)

// Parameters of the URL that this package reads and removes before go-redis parses the rest.
const (
	paramPrefix  = "prefix"
	paramTTL     = "ttl"
	paramMaxSize = "maxsize"
)

// Remote is a cache.Remote on a Redis server.
type Remote struct {
	client  redis.UniversalClient
	own     bool // Close closes client
	prefix  string
	ttl     time.Duration
	maxSize int64
	name    string      // the server's URL without its password, for errors
	noTx    atomic.Bool // the user may not WATCH, MULTI or EXEC: Get uses the script alone
}

// New returns a Remote that stores entries in client under prefix+key, each for ttl (0: no
// expiry, leaving eviction to the server's maxmemory-policy), refusing values larger than
// MaxValueSize. The caller keeps ownership of client: the Remote's Close does not close it.
// Its timeouts are the client's own: the idle timeout of URLs opened with Open applies only
// to the clients that Open makes.
func New(client redis.UniversalClient, prefix string, ttl time.Duration) *Remote {
	return &Remote{client: client, prefix: prefix, ttl: ttl, maxSize: MaxValueSize, name: "redis"}
}

// Open opens a redis:// or rediss:// URL, as described in the package documentation. It is
// registered with cache.RegisterRemote for both schemes.
func Open(u *url.URL, cfg cache.RemoteConfig) (cache.Remote, error) {
	name := u.Redacted()
	r, opt, err := parseURL(u)
	if err != nil {
		return nil, fmt.Errorf("redisremote: %s: %w", name, err)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	// The URL's own go-redis parameters win over cfg.
	if opt.DialTimeout == 0 {
		opt.DialTimeout = cfg.DialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = cfg.RequestTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = cfg.RequestTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = cfg.RequestTimeout
	}
	if opt.MaxRetries == 0 {
		// One retry, for a pooled connection that the server closed meanwhile.
		opt.MaxRetries = 1
	}
	// A cache gives up on an unreachable server at once rather than after go-redis's five
	// dials.
	opt.DialerRetries = 1
	// A reply may hold a value of maxsize, and the error or status lines around it.
	opt.Dialer = dialer(opt.DialTimeout, opt.TLSConfig, cfg.IdleTimeout, r.maxSize+64<<10)
	r.client = redis.NewClient(opt)
	r.own = true
	r.name = name
	return r, nil
}

// parseURL reads this package's parameters from u and gives the rest to redis.ParseURL.
func parseURL(u *url.URL) (*Remote, *redis.Options, error) {
	r := &Remote{prefix: DefaultPrefix, ttl: DefaultTTL, maxSize: MaxValueSize}
	q := u.Query()
	if q.Has(paramPrefix) {
		r.prefix = q.Get(paramPrefix)
		q.Del(paramPrefix)
	}
	if q.Has(paramTTL) {
		ttl, err := parseTTL(q.Get(paramTTL))
		if err != nil {
			return nil, nil, err
		}
		r.ttl = ttl
		q.Del(paramTTL)
	}
	if q.Has(paramMaxSize) {
		n, err := remoteparam.ParseSize(q.Get(paramMaxSize))
		if err != nil {
			return nil, nil, fmt.Errorf("parameter %s: %w", paramMaxSize, err)
		}
		if n > MaxValueSize {
			return nil, nil, fmt.Errorf("parameter %s: %d is over Redis's limit of %d bytes", paramMaxSize, n, MaxValueSize)
		}
		r.maxSize = n
		q.Del(paramMaxSize)
	}
	rest := *u
	rest.RawQuery = q.Encode()
	rest.ForceQuery = false
	opt, err := redis.ParseURL(rest.String())
	if err != nil {
		// A url.Error would quote the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, err
	}
	return r, opt, nil
}

// parseTTL reads a ttl parameter: a Go duration ("720h") or a number of seconds, of at least
// a second, or 0 for no expiry.
func parseTTL(s string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= int64(1<<63-1)/int64(time.Second) {
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(s); err != nil || d < 0 {
		return 0, fmt.Errorf("parameter %s: %q is not a duration such as 720h, or a number of seconds", paramTTL, s)
	}
	if d != 0 && d < time.Second {
		return 0, fmt.Errorf("parameter %s: %v is under Redis's resolution of a second", paramTTL, d)
	}
	return d, nil
}

// dialer connects as go-redis's own dialer does, and wraps the connection so that a large
// transfer is bounded by idle, the longest pause between its bytes, rather than by one
// deadline for the whole reply.
func dialer(timeout time.Duration, tlsConfig *tls.Config, idle time.Duration, maxBulk int64) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: timeout, KeepAlive: 15 * time.Second}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tlsConfig == nil {
			return newIdleConn(c, idle, maxBulk), nil
		}
		tc := tls.Client(c, tlsConfig)
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			c.Close()
			return nil, err
		}
		return newIdleConn(tc, idle, maxBulk), nil
	}
}

// inlineMax is the largest value that getScript returns itself. Redis copies a value that
// a script returns several times (into the script's reply, into a Lua string, back into the
// client's reply), all on its one thread: at 16 MiB that costs it more time than sending the
// value, and makes a large hit several times slower than a GET. A larger value is read with
// GET in a transaction that watches the key (getTx), sent as it is stored.
const inlineMax = 64 << 10

// getScript returns the value under KEYS[1] if it is at most ARGV[1] bytes long, its length
// (an integer) if it is longer, so that a value over the limit is never sent, and nil if
// there is none. It reads only, so it runs on replicas and under read-only ACLs that allow
// EVAL. Get gives ARGV[1] as at most inlineMax, and reads a longer value within its own
// limit with getTx.
var getScript = redis.NewScript(`
local n = redis.call('STRLEN', KEYS[1])
if n > tonumber(ARGV[1]) then return n end
return redis.call('GET', KEYS[1])
`)

// errChanged is getTx's error when the value changed between its length and its read.
var errChanged = errors.New("redisremote: the value changed while it was read")

// Get implements cache.Remote.
func (r *Remote) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	if err := remoteparam.CheckKey("redisremote", key); err != nil {
		return nil, err
	}
	limit = max(min(limit, r.maxSize), 0)
	inline := limit
	if !r.noTx.Load() {
		inline = min(limit, inlineMax)
	}
	var val any
	err := r.do(ctx, func(ctx context.Context) error {
		var err error
		val, err = getScript.Run(ctx, r.client, []string{r.prefix + key}, inline).Result()
		if n, ok := val.(int64); ok && err == nil && n <= limit && inline < limit {
			// Over the script's inline bound but within the limit.
			for range 3 {
				if val, err = r.getTx(ctx, r.prefix+key, limit); !errors.Is(err, errChanged) {
					break
				}
			}
			if errors.Is(err, errChanged) || redis.IsPermissionError(err) {
				// Changing faster than it is read, or a user without WATCH, MULTI or
				// EXEC (as documented before those): the script alone, within limit.
				if redis.IsPermissionError(err) {
					r.noTx.Store(true)
				}
				val, err = getScript.Run(ctx, r.client, []string{r.prefix + key}, limit).Result()
			}
		}
		return err
	})
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("redisremote: get %s: %w", key, cache.ErrRemoteMiss)
		}
		return nil, r.wrap("get", key, err)
	}
	switch v := val.(type) {
	case string:
		if int64(len(v)) > limit {
			return nil, fmt.Errorf("redisremote: get %s: %d bytes, over the limit of %d: %w", key, len(v), limit, cache.ErrRemoteTooLarge)
		}
		return []byte(v), nil
	case []byte:
		if int64(len(v)) > limit {
			return nil, fmt.Errorf("redisremote: get %s: %d bytes, over the limit of %d: %w", key, len(v), limit, cache.ErrRemoteTooLarge)
		}
		return v, nil
	case int64:
		return nil, fmt.Errorf("redisremote: get %s: %d bytes, over the limit of %d: %w", key, v, limit, cache.ErrRemoteTooLarge)
	default:
		return nil, fmt.Errorf("redisremote: get %s from %s: unexpected reply of type %T", key, r.name, val)
	}
}

// getTx reads the value under key as getScript does, without the script's copies: it
// watches key, reads its length, and only if that is within limit sends GET in a MULTI
// that the server runs only if the key was not written since the WATCH, so that a value
// over the limit is never sent. It returns the value ([]byte), its length (int64) when
// over the limit, redis.Nil when there is none, and errChanged when the key was written
// meanwhile.
func (r *Remote) getTx(ctx context.Context, key string, limit int64) (any, error) {
	var val any
	err := r.client.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.StrLen(ctx, key).Result()
		if err != nil {
			return err
		}
		if n > limit {
			val = n
			return nil
		}
		var get *redis.StringCmd
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			get = p.Get(ctx, key)
			return nil
		})
		if errors.Is(err, redis.TxFailedErr) {
			return errChanged
		}
		if err != nil {
			return err
		}
		val, err = get.Bytes()
		return err
	}, key)
	return val, err
}

// Put implements cache.Remote.
func (r *Remote) Put(ctx context.Context, key string, data []byte) error {
	if err := remoteparam.CheckKey("redisremote", key); err != nil {
		return err
	}
	if int64(len(data)) > r.maxSize {
		return fmt.Errorf("redisremote: put %s: %d bytes, over the limit of %d: %w", key, len(data), r.maxSize, cache.ErrRemoteTooLarge)
	}
	err := r.do(ctx, func(ctx context.Context) error {
		return r.client.Set(ctx, r.prefix+key, data, r.ttl).Err()
	})
	if err != nil {
		return r.wrap("put", key, err)
	}
	return nil
}

// Close implements cache.Remote. It closes the client that Open made; a Remote of New
// leaves its client open.
func (r *Remote) Close() error {
	if !r.own {
		return nil
	}
	if err := r.client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redisremote: close %s: %w", r.name, err)
	}
	return nil
}

// do runs f, returning when ctx is done even if go-redis is still waiting on the server:
// f then goes on in the background until the connection's deadlines end it.
func (r *Remote) do(ctx context.Context, f func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() == nil {
		// Never done: no goroutine, whose hand-off costs a small Get a fair part of its time.
		return f(ctx)
	}
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// wrap returns err with context, wrapping the cache error that it stands for.
func (r *Remote) wrap(op, key string, err error) error {
	var kind error
	switch {
	case redis.IsAuthError(err), redis.IsPermissionError(err),
		redis.HasErrorPrefix(err, "AUTH") && strings.Contains(err.Error(), "without any password configured"):
		kind = cache.ErrRemoteDenied
	case redis.HasErrorPrefix(err, "Protocol error: invalid bulk length"),
		redis.HasErrorPrefix(err, "string exceeds maximum allowed size"):
		kind = cache.ErrRemoteTooLarge
	case redis.IsOOMError(err):
		return fmt.Errorf("redisremote: %s %s on %s: %w (the server is out of memory: set maxmemory-policy allkeys-lru)", op, key, r.name, err)
	}
	if kind != nil {
		return fmt.Errorf("redisremote: %s %s on %s: %w: %w", op, key, r.name, kind, err)
	}
	return fmt.Errorf("redisremote: %s %s on %s: %w", op, key, r.name, err)
}
