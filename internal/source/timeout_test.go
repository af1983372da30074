package source

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/testimage"
)

// shortTimeouts are registry timeouts of a second, for tests.
func shortTimeouts() Options {
	return Options{
		Keychain:              authn.NewMultiKeychain(),
		DialTimeout:           time.Second,
		TLSHandshakeTimeout:   time.Second,
		ResponseHeaderTimeout: time.Second,
		IdleReadTimeout:       time.Second,
	}
}

// timeoutFacts are the fields of a *TimeoutError a test compares.
type timeoutFacts struct {
	Registry, What, Stage string
}

func timeoutOf(err error) (timeoutFacts, bool) {
	var te *TimeoutError
	if !errors.As(err, &te) {
		return timeoutFacts{}, false
	}
	return timeoutFacts{Registry: te.Registry, What: te.What, Stage: te.Stage}, true
}

// readLayer opens layer 0 of img and reads it to the end.
func readLayer(ctx context.Context, img *Image) error {
	rc, err := img.Layers[0].Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// A registry that does not answer, stalls mid-blob or trickles a byte a
// second fails the pull within the configured timeouts (a second here),
// with an error naming the registry and what was fetched. Without timeouts
// each of these waits forever (the test's safety deadline of 20s ends it).
func TestRegistryTimeouts(t *testing.T) {
	reg := testimage.StartMisbehavingRegistry(t)
	host := reg.Host
	l := layerOf(t, file{name: "etc/x", body: strings.Repeat("drydock ", 20000)})
	img := imageOf(t, "linux", "amd64", "", l)
	push(t, host+"/t/app:1", nil, img)
	layerDigest := digestOf(t, l)
	cfgName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		fault     testimage.Fault
		match     func(*http.Request) bool
		readLayer bool // the fault hits the layer, read after Open
		want      timeoutFacts
	}{
		{
			name: "manifest never answered", fault: testimage.NoAnswer, match: testimage.IsManifest,
			want: timeoutFacts{Registry: host, What: "manifest t/app:1", Stage: StageResponse},
		},
		{
			name: "manifest trickles", fault: testimage.Trickle, match: testimage.IsManifest,
			want: timeoutFacts{Registry: host, What: "manifest t/app:1", Stage: StageBody},
		},
		{
			name: "config stalls mid-blob", fault: testimage.StallMidBody, match: testimage.IsBlob(cfgName.String()),
			want: timeoutFacts{Registry: host, What: "blob " + cfgName.String() + " of t/app", Stage: StageBody},
		},
		{
			name: "layer never answered", fault: testimage.NoAnswer, match: testimage.IsBlob(layerDigest), readLayer: true,
			want: timeoutFacts{Registry: host, What: "blob " + layerDigest + " of t/app", Stage: StageResponse},
		},
		{
			name: "layer stalls mid-blob", fault: testimage.StallMidBody, match: testimage.IsBlob(layerDigest), readLayer: true,
			want: timeoutFacts{Registry: host, What: "blob " + layerDigest + " of t/app", Stage: StageBody},
		},
		{
			name: "layer trickles a byte a second", fault: testimage.Trickle, match: testimage.IsBlob(layerDigest), readLayer: true,
			want: timeoutFacts{Registry: host, What: "blob " + layerDigest + " of t/app", Stage: StageBody},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // safety net only
			defer cancel()
			reg.Misbehave(testimage.Behave, nil)
			if !tt.readLayer {
				reg.Misbehave(tt.fault, tt.match)
			}
			start := time.Now()
			src, err := Open(ctx, host+"/t/app:1", shortTimeouts())
			if tt.readLayer {
				if err != nil {
					t.Fatal(err)
				}
				reg.Misbehave(tt.fault, tt.match)
				start = time.Now()
				err = readLayer(ctx, src)
			}
			took := time.Since(start)
			t.Logf("after %v: %v", took.Round(time.Millisecond), err)
			switch hits := reg.Hits(); hits {
			case 0:
				t.Fatal("the fault was never triggered")
			case 1:
			default:
				t.Errorf("the request was made %d times: a timeout is not retried", hits)
			}
			if took > 5*time.Second {
				t.Errorf("failed after %v, want about 1s", took)
			}
			got, ok := timeoutOf(err)
			if !ok {
				t.Fatalf("got %v, want a *TimeoutError", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("timeout error (-want +got):\n%s", diff)
			}
			for _, s := range []string{host, tt.want.What} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if tt.readLayer && !strings.Contains(err.Error(), "layer 0 (") {
				t.Errorf("error %q does not name the layer", err)
			}
		})
	}
}

// Connecting and the TLS handshake are bounded too: a dial that never
// completes, and a server that accepts the connection and says nothing.
func TestRegistryConnectTimeouts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-accepted:
				c.Close()
			default:
				return
			}
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case accepted <- c: // held open, never answered
			default:
				c.Close()
			}
		}
	}()
	silent := ln.Addr().String()

	blackhole := remote.DefaultTransport.(*http.Transport).Clone()
	blackhole.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tests := []struct {
		name      string
		ref       string
		transport http.RoundTripper
		want      []string
	}{
		{name: "dial never completes", ref: "registry.invalid:5000/t/app:1", transport: blackhole,
			want: []string{"registry registry.invalid:5000", "API version check (/v2/)", "no connection within 1s"}},
		{name: "silent server", ref: silent + "/t/app:1",
			want: []string{"registry " + silent, "API version check (/v2/)", "within 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // safety net only
			defer cancel()
			opt := shortTimeouts()
			opt.Transport = tt.transport
			start := time.Now()
			_, err := Open(ctx, tt.ref, opt)
			t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("failed after %v, want about 1s", took)
			}
			if _, ok := timeoutOf(err); !ok {
				t.Fatalf("got %v, want a *TimeoutError", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// A deadline on ctx (the CLI's --timeout) stops every registry operation
// promptly, with the default (long) timeouts, and the error matches
// context.DeadlineExceeded: a manifest that never comes, a layer that
// stalls, and the wait before retrying a 503 (go-containerregistry's retry
// slept through the deadline: 1s, then 3s).
func TestRegistryDeadline(t *testing.T) {
	reg := testimage.StartMisbehavingRegistry(t)
	host := reg.Host
	l := layerOf(t, file{name: "etc/x", body: strings.Repeat("drydock ", 20000)})
	push(t, host+"/t/app:1", nil, imageOf(t, "linux", "amd64", "", l))
	layerDigest := digestOf(t, l)

	unavailable := memRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
				http.Error(w, "try later", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})

	tests := []struct {
		name      string
		ref       string
		fault     testimage.Fault
		match     func(*http.Request) bool
		readLayer bool
	}{
		{name: "manifest never answered", ref: host + "/t/app:1", fault: testimage.NoAnswer, match: testimage.IsManifest},
		{name: "layer stalls mid-blob", ref: host + "/t/app:1", fault: testimage.StallMidBody, match: testimage.IsBlob(layerDigest), readLayer: true},
		{name: "layer trickles", ref: host + "/t/app:1", fault: testimage.Trickle, match: testimage.IsBlob(layerDigest), readLayer: true},
		{name: "waiting to retry a 503", ref: unavailable + "/t/app:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg.Misbehave(testimage.Behave, nil)
			opt := Options{Keychain: authn.NewMultiKeychain()}
			var (
				src *Image
				err error
			)
			if tt.readLayer {
				if src, err = Open(context.Background(), tt.ref, opt); err != nil {
					t.Fatal(err)
				}
			}
			reg.Misbehave(tt.fault, tt.match)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			if tt.readLayer {
				err = readLayer(ctx, src)
			} else {
				_, err = Open(ctx, tt.ref, opt)
			}
			if took := time.Since(start); took > 700*time.Millisecond {
				t.Errorf("took %v with a deadline of 300ms", took)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want an error matching context.DeadlineExceeded", err)
			}
		})
	}
}

// A 503 is retried (after a second), and the pull then succeeds.
func TestRegistryRetry(t *testing.T) {
	var failed atomic.Int32
	host := memRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") && failed.Add(1) == 1 {
				http.Error(w, "try later", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	push(t, host+"/t/app:1", nil, imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "a", body: "a"})))
	failed.Store(0)
	if _, err := Open(context.Background(), host+"/t/app:1", Options{Keychain: authn.NewMultiKeychain()}); err != nil {
		t.Fatal(err)
	}
	if n := failed.Load(); n < 2 {
		t.Errorf("%d manifest requests, want a retry", n)
	}
}

func TestDescribePath(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/v2/", "API version check (/v2/)"},
		{"/v2/team/app/manifests/1.0", "manifest team/app:1.0"},
		{"/v2/team/app/manifests/sha256:abc", "manifest team/app@sha256:abc"},
		{"/v2/library/alpine/blobs/sha256:abc", "blob sha256:abc of library/alpine"},
		{"/token", "/token"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, "https://r.example"+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := describeRequest(req); got != tt.want {
			t.Errorf("describeRequest(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
