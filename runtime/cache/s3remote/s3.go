package s3remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/cache/internal/remoteparam"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func init() {
	cache.RegisterRemote("s3", Open)
}

const (
	// DefaultEndpoint is the endpoint of URLs without an endpoint parameter: Amazon S3.
	DefaultEndpoint = "s3.amazonaws.com"
	// MaxObjectSize is the largest object one PUT may store (S3's limit), and the default
	// and upper bound of the maxsize parameter.
	MaxObjectSize = 5 << 30

	defaultDialTimeout    = time.Second
	defaultRequestTimeout = 5 * time.Second
	defaultIdleTimeout    = 5 * time.Second
)

// Remote is a cache.Remote on an S3 bucket.
type Remote struct {
	client    *minio.Client
	bucket    string
	prefix    string
	maxSize   int64
	idle      time.Duration
	transport *http.Transport // the one Open made, closed by Close; nil for New
	name      string          // s3://bucket/prefix, for errors
}

// New returns a Remote that stores entries in bucket as objects named prefix+key, with
// client (whose transport and retries are the caller's). Reads stop when no byte came for
// idle (0: 5 seconds).
func New(client *minio.Client, bucket, prefix string, idle time.Duration) *Remote {
	if idle <= 0 {
		idle = defaultIdleTimeout
	}
	return &Remote{client: client, bucket: bucket, prefix: prefix, maxSize: MaxObjectSize, idle: idle,
		name: "s3://" + bucket + "/" + prefix}
}

// Open opens an s3:// URL, as described in the package documentation. It is registered with
// cache.RegisterRemote for the scheme s3.
func Open(u *url.URL, cfg cache.RemoteConfig) (cache.Remote, error) {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	name := u.Redacted()
	fail := func(format string, args ...any) (cache.Remote, error) {
		return nil, fmt.Errorf("s3remote: %s: %w", name, fmt.Errorf(format, args...))
	}
	if u.User != nil {
		return fail("credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a shared credentials file or an IAM role")
	}
	bucket := u.Host
	if bucket == "" {
		return fail("no bucket: the URL is s3://BUCKET/PREFIX")
	}
	prefix := strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	q := u.Query()
	known := map[string]bool{"endpoint": true, "tls": true, "region": true, "lookup": true, "maxsize": true}
	for k := range q {
		if !known[k] {
			return fail("unknown parameter %q (known: endpoint, tls, region, lookup, maxsize)", k)
		}
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	secure := true
	if s := q.Get("tls"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fail("parameter tls: %q is not true or false", s)
		}
		secure = b
	}
	region := q.Get("region")
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	lookup := minio.BucketLookupAuto
	switch s := q.Get("lookup"); s {
	case "", "auto":
	case "path":
		lookup = minio.BucketLookupPath
	case "dns":
		lookup = minio.BucketLookupDNS
	default:
		return fail("parameter lookup: %q is not auto, path or dns", s)
	}
	maxSize := int64(MaxObjectSize)
	if s := q.Get("maxsize"); s != "" {
		n, err := remoteparam.ParseSize(s)
		if err != nil {
			return fail("parameter maxsize: %w", err)
		}
		if n > MaxObjectSize {
			return fail("parameter maxsize: %d is over the limit of one PUT, %d bytes", n, int64(MaxObjectSize))
		}
		maxSize = n
	}

	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return fail("%w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 15 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = cfg.DialTimeout + cfg.RequestTimeout
	tr.ResponseHeaderTimeout = cfg.RequestTimeout
	tr.IdleConnTimeout = 90 * time.Second
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        DefaultCredentials(),
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
		Transport:    tr,
		// No retries: a cache computes rather than wait for a struggling store.
		MaxRetries: 1,
	})
	if err != nil {
		return fail("%w", err)
	}
	r := New(client, bucket, prefix, cfg.IdleTimeout)
	r.maxSize = maxSize
	r.transport = tr
	return r, nil
}

// iamTimeout bounds each request to the instance metadata service for credentials.
const iamTimeout = 2 * time.Second

// DefaultCredentials returns the credentials that Open uses, the first of: the environment
// variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), the shared
// credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE
// or default), and the IAM role of the machine, container or pod.
func DefaultCredentials() *credentials.Credentials {
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		// The metadata service answers in milliseconds where there is one; where there is
		// none, or it hangs, each request would wait for it (minio-go asks it without the
		// request's context, under one lock): a short timeout bounds that.
		&credentials.IAM{Client: &http.Client{Timeout: iamTimeout}},
	})
}

// Get implements cache.Remote: one GET, whose body is left unread when its length is over
// limit.
func (r *Remote) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	if err := remoteparam.CheckKey("s3remote", key); err != nil {
		return nil, err
	}
	limit = max(min(limit, r.maxSize), 0)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body, info, _, err := minio.Core{Client: r.client}.GetObject(ctx, r.bucket, r.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, r.wrap("get", key, err)
	}
	defer body.Close()
	if info.Size > limit {
		return nil, fmt.Errorf("s3remote: get %s: %d bytes, over the limit of %d: %w", key, info.Size, limit, cache.ErrRemoteTooLarge)
	}
	if info.Size < 0 {
		return nil, fmt.Errorf("s3remote: get %s from %s: no Content-Length", key, r.name)
	}
	data, err := readIdle(body, info.Size, r.idle, cancel)
	if err != nil {
		return nil, fmt.Errorf("s3remote: get %s from %s: %w", key, r.name, err)
	}
	return data, nil
}

// Put implements cache.Remote: one PUT of exactly len(data) bytes.
func (r *Remote) Put(ctx context.Context, key string, data []byte) error {
	if err := remoteparam.CheckKey("s3remote", key); err != nil {
		return err
	}
	if int64(len(data)) > r.maxSize {
		return fmt.Errorf("s3remote: put %s: %d bytes, over the limit of %d: %w", key, len(data), r.maxSize, cache.ErrRemoteTooLarge)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body := newIdleReader(bytes.NewReader(data), r.idle, cancel)
	defer body.stop()
	_, err := r.client.PutObject(ctx, r.bucket, r.prefix+key, body, int64(len(data)), minio.PutObjectOptions{
		ContentType:      "application/octet-stream",
		DisableMultipart: true,
	})
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errIdle) {
			err = cause
		}
		return r.wrap("put", key, err)
	}
	return nil
}

// Close implements cache.Remote: it closes the idle connections of the transport that Open
// made.
func (r *Remote) Close() error {
	if r.transport != nil {
		r.transport.CloseIdleConnections()
	}
	return nil
}

// wrap returns err with context, wrapping the cache error that it stands for.
func (r *Remote) wrap(op, key string, err error) error {
	var kind error
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch {
		case deniedCodes[resp.Code] || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
			kind = cache.ErrRemoteDenied
		// Only a missing object is a miss: a 404 for a missing bucket or an unknown user
		// (which some servers answer so) is a failure of the remote.
		case resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound && resp.Code == "" && op == "get":
			kind = cache.ErrRemoteMiss
		case resp.Code == "EntityTooLarge" || resp.StatusCode == http.StatusRequestEntityTooLarge:
			kind = cache.ErrRemoteTooLarge
		}
	}
	if kind != nil {
		return fmt.Errorf("s3remote: %s %s on %s: %w: %w", op, key, r.name, kind, err)
	}
	return fmt.Errorf("s3remote: %s %s on %s: %w", op, key, r.name, err)
}

// deniedCodes are the S3 error codes of a refusal of the client's credentials or rights.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AllAccessDisabled":     true,
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"XAdminUserNotFound":    true, // versitygw's answer to an unknown access key
}

var _ io.ReadSeeker = (*idleReader)(nil)
