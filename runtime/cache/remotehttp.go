package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The HTTP engine speaks the Bazel remote cache protocol's action cache: GET and PUT of
// {base}/ac/<64 hex>. It works with nginx's WebDAV module, bazel-remote (with AC
// validation off) and most HTTP caches. It is part of this package, which registers the
// schemes http and https.
func init() {
	RegisterRemote("http", openHTTPRemote)
	RegisterRemote("https", openHTTPRemote)
}

// httpRemote is the Remote of an http or https URL.
type httpRemote struct {
	base   string // scheme://host/path, without userinfo, query or a final '/'
	shown  string // base as it may be logged
	auth   string // the Authorization header, or ""
	client *http.Client
	tr     *http.Transport
	idle   time.Duration
}

// openHTTPRemote opens the Remote of u: basic authentication from u's userinfo, or a bearer
// token from cfg.Token; the path is the base under which entries go to ac/.
func openHTTPRemote(u *url.URL, cfg RemoteConfig) (Remote, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("cache: remote URL %s has no host", u.Redacted())
	}
	cfg = cfg.withDefaults()
	r := &httpRemote{idle: cfg.IdleTimeout}
	b := *u
	b.User, b.RawQuery, b.Fragment, b.ForceQuery = nil, "", "", false
	b.Path = strings.TrimRight(b.Path, "/")
	b.RawPath = ""
	r.base = b.String()
	r.shown = r.base
	switch {
	case u.User != nil:
		pw, _ := u.User.Password()
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(u.User.Username(), pw)
		r.auth = req.Header.Get("Authorization")
	case cfg.Token != "":
		r.auth = "Bearer " + cfg.Token
	}
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	r.tr = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
	}
	r.client = &http.Client{
		Transport: r.tr,
		// A redirect would resend the credentials elsewhere: not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return r, nil
}

// url returns the address of the entry key.
func (r *httpRemote) url(key string) (string, error) {
	if !validRemoteKey(key) {
		return "", fmt.Errorf("cache: invalid remote key %q", key)
	}
	return r.base + "/ac/" + key, nil
}

// validRemoteKey reports whether key is 64 lowercase hex digits.
func validRemoteKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for _, c := range key {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Get fetches {base}/ac/key: 200 is the entry, 404 a miss, 401 and 403 ErrRemoteDenied (a
// failed lookup for the Cache), any other status an error. A Content-Length over limit is ErrRemoteTooLarge without reading
// the body; a body without one is read up to limit+1 bytes. The response must start within
// the request timeout; its body may take longer while bytes keep coming (idle timeout).
func (r *httpRemote) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	u, err := r.url(key)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("cache: remote GET %s: %w", r.shown, err)
	}
	r.header(req)
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cache: remote GET: %w", redactErr(err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		drain(resp.Body)
		return nil, ErrRemoteMiss
	default:
		drain(resp.Body)
		return nil, statusError("GET", r.shown, resp.StatusCode)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("cache: remote GET %s: %d bytes, over the limit of %d: %w", r.shown, resp.ContentLength, limit, ErrRemoteTooLarge)
	}
	b, err := readRemoteBody(ctx, resp.Body, limit, r.idle, resp.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("cache: remote GET %s: %w", r.shown, err)
	}
	return b, nil
}

// Put stores data at {base}/ac/key with its Content-Length. 200, 201 and 204 are success
// (as for Bazel), 401 and 403 ErrRemoteDenied, 413 ErrRemoteTooLarge. The upload is
// abandoned when the server stops taking its bytes for the idle timeout.
func (r *httpRemote) Put(ctx context.Context, key string, data []byte) error {
	u, err := r.url(key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var body io.Reader = http.NoBody
	if len(data) > 0 {
		timer := time.AfterFunc(r.idle, func() { cancel(ErrRemoteStalled) })
		defer timer.Stop()
		body = &progressReader{b: data, timer: timer, idle: r.idle}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, body)
	if err != nil {
		return fmt.Errorf("cache: remote PUT %s: %w", r.shown, err)
	}
	req.ContentLength = int64(len(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	req.Header.Set("Content-Type", "application/octet-stream")
	r.header(req)
	resp, err := r.client.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrRemoteStalled) {
			err = cause
		}
		return fmt.Errorf("cache: remote PUT: %w", redactErr(err))
	}
	defer resp.Body.Close()
	drain(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusNoContent:
		return nil
	}
	return statusError("PUT", r.shown, resp.StatusCode)
}

// Close releases the idle connections.
func (r *httpRemote) Close() error {
	r.tr.CloseIdleConnections()
	return nil
}

// header sets the request's authorization and identifies the client.
func (r *httpRemote) header(req *http.Request) {
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	req.Header.Set("User-Agent", "cachegen")
}

// statusError is the error of an unexpected status, wrapping what the Cache acts on.
func statusError(method, shown string, code int) error {
	err := fmt.Errorf("cache: remote %s %s: %s", method, shown, http.StatusText(code))
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w (%d): %w", err, code, ErrRemoteDenied)
	case http.StatusRequestEntityTooLarge:
		if method == http.MethodPut {
			return fmt.Errorf("%w (%d): %w", err, code, ErrRemoteTooLarge)
		}
		// A 413 to a GET says nothing of the entry: a server error.
	}
	return fmt.Errorf("%w (status %d)", err, code)
}

// drain reads a little of a body that is not used, so that its connection can be reused.
func drain(body io.Reader) {
	io.CopyN(io.Discard, body, 4<<10)
}

// redactErr keeps the URL of a *url.Error from showing a password. The engine never puts
// credentials in request URLs; this is a second guard.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = u.Redacted()
		} else {
			ue.URL = "(remote URL)"
		}
	}
	return err
}
