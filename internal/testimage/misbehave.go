package testimage

// A registry that misbehaves, for timeout tests: go-containerregistry's
// in-memory registry on 127.0.0.1 whose GET requests matching a rule hang,
// stall mid-body or trickle.

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Fault is how a MisbehavingRegistry answers the requests it matches.
type Fault int

const (
	// Behave answers normally.
	Behave Fault = iota
	// NoAnswer reads the request and never sends a response.
	NoAnswer
	// StallMidBody sends the headers (with the full Content-Length) and
	// half of the body, then nothing.
	StallMidBody
	// Trickle sends the headers, then the body one byte a second.
	Trickle
)

// MisbehavingRegistry is an in-memory registry on 127.0.0.1. Push images
// to Host with go-containerregistry's remote package, then set a fault:
// GET requests the rule matches misbehave; everything else is served
// normally. Handlers that stall stop when the client goes away or the test
// ends.
type MisbehavingRegistry struct {
	// Host is "127.0.0.1:PORT".
	Host string

	mu    sync.Mutex
	fault Fault
	match func(*http.Request) bool
	hits  int
	done  chan struct{}
}

// StartMisbehavingRegistry serves a registry that behaves until Misbehave is
// called, and stops it when the test ends.
func StartMisbehavingRegistry(t testing.TB) *MisbehavingRegistry {
	t.Helper()
	r := &MisbehavingRegistry{done: make(chan struct{})}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.serve(inner, w, req)
	}))
	// Cleanups run last-in first-out: the stalled handlers are released
	// before the server waits for them.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(r.done) })
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// Misbehave makes the GET requests that match (nil: every GET) fail as f.
func (r *MisbehavingRegistry) Misbehave(f Fault, match func(*http.Request) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fault, r.match, r.hits = f, match, 0
}

// Hits is how many requests misbehaved since the last Misbehave.
func (r *MisbehavingRegistry) Hits() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

// IsManifest matches manifest requests (any repository, tag or digest).
func IsManifest(req *http.Request) bool {
	return strings.Contains(req.URL.Path, "/manifests/")
}

// IsBlob returns a rule matching requests for the blob of digest d
// ("sha256:…").
func IsBlob(d string) func(*http.Request) bool {
	return func(req *http.Request) bool {
		return strings.HasSuffix(req.URL.Path, "/blobs/"+d)
	}
}

func (r *MisbehavingRegistry) serve(inner http.Handler, w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	f := r.fault
	if f == Behave || req.Method != http.MethodGet || (r.match != nil && !r.match(req)) {
		f = Behave
	} else {
		r.hits++
	}
	r.mu.Unlock()

	stall := func() {
		select {
		case <-req.Context().Done():
		case <-r.done:
		}
	}
	switch f {
	case NoAnswer:
		stall()
		return
	case Behave:
		inner.ServeHTTP(w, req)
		return
	}
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	switch f {
	case StallMidBody:
		_, _ = w.Write(body[:len(body)/2])
		flush()
		stall()
	case Trickle:
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			flush()
			select {
			case <-tick.C:
			case <-req.Context().Done():
				return
			case <-r.done:
				return
			}
		}
	}
}
