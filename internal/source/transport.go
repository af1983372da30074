package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Defaults of the registry timeouts in Options.
const (
	DefaultDialTimeout           = 30 * time.Second
	DefaultTLSHandshakeTimeout   = 30 * time.Second
	DefaultResponseHeaderTimeout = 60 * time.Second
	DefaultIdleReadTimeout       = 60 * time.Second
	// DefaultMinReadRate is 1 KiB/s: a body must deliver 60 KiB in each
	// minute spent waiting for it (with DefaultIdleReadTimeout).
	DefaultMinReadRate = 1024
)

// retry policy of registry requests: what go-containerregistry does by
// default (3 attempts, 1s then 3s apart, on 408, 429, 5xx and dropped
// connections), but the waits end when the request's ctx does, and a
// timeout is never retried: a registry that does not answer within the
// Options' timeouts is not asked again.
const (
	retryAttempts = 3
	retryFirst    = time.Second
	retryFactor   = 3
)

// timeouts are the Options' registry timeouts with the defaults filled in; a
// zero field is disabled.
type timeouts struct {
	dial, tls, header, idle time.Duration
	minRate                 int64 // bytes/s; 0: a pure idle timeout
}

func timeoutsOf(opt Options) timeouts {
	pick := func(d, def time.Duration) time.Duration {
		switch {
		case d == 0:
			return def
		case d < 0:
			return 0
		}
		return d
	}
	to := timeouts{
		dial:    pick(opt.DialTimeout, DefaultDialTimeout),
		tls:     pick(opt.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout),
		header:  pick(opt.ResponseHeaderTimeout, DefaultResponseHeaderTimeout),
		idle:    pick(opt.IdleReadTimeout, DefaultIdleReadTimeout),
		minRate: opt.MinReadRate,
	}
	switch {
	case to.minRate == 0:
		to.minRate = DefaultMinReadRate
	case to.minRate < 0:
		to.minRate = 0
	}
	return to
}

// registryTransport is the HTTP transport of the registry client: the
// Options' transport (or remote.DefaultTransport, with TLS verification off
// if Insecure) bounded by the Options' timeouts, with a retry that honours
// ctx. An *http.Transport is cloned and given the dial, TLS handshake and
// response header timeouts; any other RoundTripper is bounded by their sum
// from sending the request to receiving the headers. Response bodies fail
// when they stall (IdleReadTimeout, MinReadRate). Timeout errors are
// *TimeoutError and name the registry and what was fetched.
func registryTransport(opt Options) http.RoundTripper {
	to := timeoutsOf(opt)
	base := opt.Transport
	if base == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
		if opt.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with Insecure
		}
		base = t
	}
	var bound time.Duration // the whole round trip, for RoundTrippers we cannot configure
	if t, ok := base.(*http.Transport); ok {
		t = t.Clone()
		if to.dial > 0 {
			t.DialContext = dialWithTimeout(t.DialContext, to.dial)
		}
		t.TLSHandshakeTimeout = to.tls
		t.ResponseHeaderTimeout = to.header
		base = t
	} else if to.dial > 0 && to.tls > 0 && to.header > 0 {
		bound = to.dial + to.tls + to.header
	}
	tt := &timeoutTransport{next: base, to: to, bound: bound}
	attempts := retryAttempts
	if opt.noRetry {
		attempts = 1
	}
	return &retryTransport{next: tt, attempts: attempts}
}

// dialWithTimeout bounds dial (nil: a plain net.Dialer) by d.
func dialWithTimeout(dial func(context.Context, string, string) (net.Conn, error), d time.Duration) func(context.Context, string, string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		dctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		c, err := dial(dctx, network, addr)
		if err != nil && ctx.Err() == nil && dctx.Err() != nil {
			return nil, &TimeoutError{Registry: addr, Stage: StageConnect, Limit: d, Err: err}
		}
		return c, err
	}
}

// Stages of a registry request a TimeoutError names.
const (
	StageConnect  = "connecting"
	StageTLS      = "TLS handshake"
	StageResponse = "waiting for the response headers"
	StageBody     = "reading the response body"
)

// TimeoutError is a registry request that ran out of time: the registry did
// not accept the connection, complete the TLS handshake, send the response
// headers, or keep sending the body within the Options' timeouts. Such
// requests are not retried.
type TimeoutError struct {
	// Registry is the registry's host[:port] as addressed.
	Registry string
	// What is what was being fetched: "manifest team/app:1", "blob sha256:…
	// of team/app", "API version check (/v2/)", or the URL path.
	What string
	// Stage is one of the Stage* constants.
	Stage string
	// Limit is the timeout that expired.
	Limit time.Duration
	// MinBytes, for StageBody, is what the body had to deliver within Limit
	// (1: any byte at all).
	MinBytes int64
	// Err is the underlying error, if any.
	Err error
}

func (e *TimeoutError) Error() string {
	var detail string
	switch e.Stage {
	case StageBody:
		if e.MinBytes > 1 {
			detail = fmt.Sprintf("the body stalled: less than %d bytes in %v", e.MinBytes, e.Limit)
		} else {
			detail = fmt.Sprintf("the body stalled: no data for %v", e.Limit)
		}
	case StageConnect:
		detail = fmt.Sprintf("no connection within %v", e.Limit)
	case StageTLS:
		detail = fmt.Sprintf("no TLS handshake within %v", e.Limit)
	case StageResponse:
		detail = fmt.Sprintf("no response within %v", e.Limit)
	default:
		detail = fmt.Sprintf("timed out after %v", e.Limit)
	}
	what := e.What
	if what == "" {
		what = "request"
	}
	return fmt.Sprintf("registry %s: %s: %s", e.Registry, what, detail)
}

// Timeout reports true (net.Error's convention).
func (e *TimeoutError) Timeout() bool { return true }

func (e *TimeoutError) Unwrap() error { return e.Err }

// timeoutTransport turns timeouts into *TimeoutError naming the request,
// bounds round trips by bound (if set) and bodies by the idle-read timeout.
type timeoutTransport struct {
	next  http.RoundTripper
	to    timeouts
	bound time.Duration
}

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithCancelCause(parent)
	registry, what := describeRequest(req)
	var timer *time.Timer
	if t.bound > 0 {
		timer = time.AfterFunc(t.bound, func() {
			cancel(&TimeoutError{Registry: registry, What: what, Stage: StageResponse, Limit: t.bound})
		})
	}
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if timer != nil && !timer.Stop() && err == nil {
		// The bound expired as the response arrived: the body is cut.
		resp.Body.Close()
		err = context.Cause(ctx)
	}
	if err != nil {
		cause := context.Cause(ctx)
		cancel(nil)
		return nil, t.classify(parent, cause, err, registry, what)
	}
	if t.to.idle <= 0 {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	}
	need := max(1, int64(float64(t.to.minRate)*t.to.idle.Seconds()))
	b := &idleBody{rc: resp.Body, ctx: ctx, cancel: cancel, window: t.to.idle, need: need,
		template: TimeoutError{Registry: registry, What: what, Stage: StageBody, Limit: t.to.idle, MinBytes: need}}
	// Created stopped, here: Close may run while a Read waits (a reader
	// closed to unblock it), and timers are safe to use concurrently.
	b.timer = time.AfterFunc(time.Hour, b.fire)
	b.timer.Stop()
	resp.Body = b
	return resp, nil
}

// classify makes err, from a round trip under parent, a *TimeoutError when
// a timeout ended it, or an error matching parent's error when parent ended
// it.
func (t *timeoutTransport) classify(parent context.Context, cause, err error, registry, what string) error {
	if perr := parent.Err(); perr != nil {
		if !errors.Is(err, perr) {
			err = fmt.Errorf("%w: %w", err, perr)
		}
		return err
	}
	var te *TimeoutError
	switch {
	case errors.As(cause, &te), errors.As(err, &te):
		out := *te
		out.Registry, out.What = registry, what
		if out.Err == nil {
			out.Err = err
		}
		return &out
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return err
	}
	out := &TimeoutError{Registry: registry, What: what, Stage: StageResponse, Limit: t.to.header, Err: err}
	switch msg := err.Error(); {
	case strings.Contains(msg, "TLS handshake timeout"):
		out.Stage, out.Limit = StageTLS, t.to.tls
	case strings.Contains(msg, "dial "):
		out.Stage, out.Limit = StageConnect, t.to.dial
	}
	return out
}

// describeRequest names the registry and what req fetches, from the first
// request of a redirect chain (a blob redirected to a CDN is still the
// registry's blob).
func describeRequest(req *http.Request) (registry, what string) {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	registry, what = first.URL.Host, describePath(first.URL)
	if first != req {
		what += " (redirected to " + req.URL.Host + ")"
	}
	return registry, what
}

func describePath(u *url.URL) string {
	rest, ok := strings.CutPrefix(u.Path, "/v2/")
	if !ok {
		return u.Path
	}
	if rest == "" {
		return "API version check (/v2/)"
	}
	if i := strings.LastIndex(rest, "/manifests/"); i >= 0 {
		repo, ref := rest[:i], rest[i+len("/manifests/"):]
		if strings.Contains(ref, ":") {
			return "manifest " + repo + "@" + ref
		}
		return "manifest " + repo + ":" + ref
	}
	if i := strings.LastIndex(rest, "/blobs/"); i >= 0 {
		return "blob " + rest[i+len("/blobs/"):] + " of " + rest[:i]
	}
	return u.Path
}

// cancelBody releases the request's ctx when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// idleBody fails a body that stalls: while the reader waits in Read, the
// body must deliver need bytes within each window of waiting (time the
// reader spends elsewhere does not count), else the request is cancelled and
// reads fail with a *TimeoutError. need is 1 for a pure idle timeout; more
// also stops a registry that trickles a byte at a time.
type idleBody struct {
	rc       io.ReadCloser
	ctx      context.Context
	cancel   context.CancelCauseFunc
	window   time.Duration
	need     int64
	got      int64         // bytes since the window started
	waited   time.Duration // time spent waiting since the window started
	timer    *time.Timer   // reset while a Read waits
	template TimeoutError
}

func (b *idleBody) fire() {
	te := b.template
	b.cancel(&te)
}

func (b *idleBody) Read(p []byte) (int, error) {
	if te := b.timedOut(); te != nil {
		return 0, te
	}
	left := b.window - b.waited
	start := time.Now()
	b.timer.Reset(left)
	n, err := b.rc.Read(p)
	fired := !b.timer.Stop()
	b.waited += time.Since(start)
	b.got += int64(n)
	if b.got >= b.need {
		b.got, b.waited = 0, 0
	}
	if err != nil && err != io.EOF {
		if te := b.timedOut(); te != nil {
			return n, te
		}
		return n, err
	}
	if fired && err == nil {
		// The window ran out as this read returned: the request is
		// cancelled, the next read would fail anyway.
		return n, b.timedOut()
	}
	return n, err
}

// timedOut is the *TimeoutError that cancelled the request, if any.
func (b *idleBody) timedOut() error {
	var te *TimeoutError
	if errors.As(context.Cause(b.ctx), &te) {
		return te
	}
	return nil
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// retryTransport retries a request that failed in a way that may pass (the
// connection dropped, 408, 429, 5xx), waiting 1s then 3s, and stops waiting
// when the request's ctx ends. Timeouts and ctx errors are not retried.
type retryTransport struct {
	next     http.RoundTripper
	attempts int
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	wait := retryFirst
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			if req.Body != nil && req.Body != http.NoBody {
				if req.GetBody == nil {
					return nil, fmt.Errorf("retrying %s %s: the request body cannot be sent again", req.Method, req.URL.Redacted())
				}
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r = req.Clone(ctx)
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if attempt >= t.attempts || !retryable(ctx, resp, err) {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("%s %s: waiting to retry: %w", req.Method, req.URL.Redacted(), ctx.Err())
		case <-timer.C:
		}
		wait *= retryFactor
	}
}

// retryable reports whether a round trip's outcome may change when tried
// again.
func retryable(ctx context.Context, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		var te *TimeoutError
		if errors.As(err, &te) {
			return false
		}
		var tmp interface{ Temporary() bool }
		return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
			errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
			errors.Is(err, net.ErrClosed) || (errors.As(err, &tmp) && tmp.Temporary())
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
