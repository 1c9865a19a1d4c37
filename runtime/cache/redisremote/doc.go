// Package redisremote is the Redis engine of the cache's remote tier: importing it makes
// cache.OpenRemote (and so CACHEGEN_REMOTE) accept redis:// and rediss:// URLs.
//
//	import _ "github.com/cachegen/cachegen/runtime/cache/redisremote"
//
//	CACHEGEN_REMOTE='redis://:PASSWORD@cache.example.com:6379/0?prefix=myapp:&ttl=168h'
//
// Each entry is one string value, stored with SET key value EX ttl and read with a short
// Lua script that answers the value's length instead of the value when it is over the
// reader's limit, so that a value too large is never sent. The script returns values of up
// to 64 KiB itself; a larger one within the limit is then read with WATCH, STRLEN and a GET
// in MULTI/EXEC, which the server runs only if the key was not written since the WATCH:
// a value that passes through a script is copied several times on the server's one thread,
// which makes a hit of megabytes several times slower than a GET. Against a server that lies:
// go-redis allocates the length a reply announces before reading it, so the connections
// that this package dials read each reply's headers as they arrive and drop the connection
// at one announcing more than maxsize (or an aggregate of more than 4096 elements), before
// go-redis sees it. A client passed to New keeps its own dialer, without that guard. Every
// entry read is checked by the cache anyway (its tag before any byte is used), so a lying
// server can cost a lookup, not a wrong value.
//
// # URL
//
//	redis://[USER[:PASSWORD]@]HOST[:PORT][/DB][?PARAMETERS]
//	rediss://...   the same over TLS, verified against the system's roots
//
// The user, password, host (default localhost), port (default 6379) and database number
// (default 0) are those of go-redis's ParseURL, as are its parameters: dial_timeout,
// read_timeout, write_timeout, max_retries, pool_size, client_name, protocol, skip_verify
// (rediss only) and the others it documents. Those set in the URL win over the cache's
// RemoteConfig. This package adds three, which it removes before go-redis sees the URL:
//
//	prefix   put before every key (default "cachegen:"; "prefix=" for none), so that
//	         several programs or caches can share a database
//	ttl      how long an entry lives after it was stored: a Go duration such as 720h, or a
//	         number of seconds; 0 for no expiry (default 720h, 30 days)
//	maxsize  the largest value stored, in bytes or with a suffix K, M or G (binary, "64MiB"):
//	         larger puts are refused with cache.ErrRemoteTooLarge (default and limit 512MiB,
//	         Redis's proto-max-bulk-len)
//
// The password is never shown: errors name the server by its URL with the password
// redacted. Prefer a user of the ACL system, with only the commands the cache needs:
//
//	ACL SETUSER cachegen on >PASSWORD ~cachegen:* +get +strlen +set +eval +evalsha +watch +multi +exec +unwatch +hello +auth +select +ping
//
// Without +watch, +multi, +exec and +unwatch, large values are read by the script alone,
// as fast as the server copies them.
// A user without +set reads the shared cache and never writes to it (its puts are refused
// with cache.ErrRemoteDenied, after which the Cache stops uploading); NOAUTH, WRONGPASS and
// NOPERM replies are all cache.ErrRemoteDenied.
//
// # Server
//
// Give the server a memory bound and let it evict least recently used keys, so that the
// cache never fills up and never refuses a write:
//
//	maxmemory 4gb
//	maxmemory-policy allkeys-lru
//
// With the default policy, noeviction, a full server answers every SET with an OOM error
// (reported as a failure of the remote). Persistence is optional: losing the cache loses
// only time. A value is limited by the server's proto-max-bulk-len (512 MB by default) and
// by the client-query-buffer-limit (1 GB); keep entries well under both, and prefer a
// dedicated database or server, since allkeys-lru evicts other data too.
//
// # Timeouts and tuning
//
// DialTimeout of the RemoteConfig bounds connecting (default 1s); RequestTimeout (default 5s)
// is go-redis's read and write timeout, bounding the wait for the first bytes of a reply;
// once bytes flow, the connection is given up only when no byte came for IdleTimeout
// (default 5s), so a large value takes the time it needs on a slow link. Get and Put return
// when their context is done. A command is retried once (max_retries) on a connection the
// server closed, and a server that refuses connections fails at the first dial rather than
// after go-redis's five. go-redis logs its connection errors through its own logger, which
// redis.SetLogger replaces.
//
// A Remote's connections are pooled (pool_size, default ten per CPU): the Cache calls it from
// as many goroutines as it has concurrent misses and uploads.
//
// Programs that build their own client (a cluster, a sentinel, or custom TLS) pass it to New,
// which takes a redis.UniversalClient; its timeouts are then the client's own.
package redisremote
