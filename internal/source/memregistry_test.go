package source

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// staticKeychain hands the same credentials to every registry.
type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return &authn.Basic{Username: k.user, Password: k.pass}, nil
}

// multiArch builds an index of a linux/amd64 and a linux/arm64/v8 image whose
// /etc/arch says which is which.
func multiArch(t testing.TB) (v1.ImageIndex, v1.Image, v1.Image) {
	t.Helper()
	amd := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "etc/arch", body: "amd64"}), layerOf(t, file{name: "etc/os-release", body: "ID=alpine\n"}))
	arm := imageOf(t, "linux", "arm64", "v8", layerOf(t, file{name: "etc/arch", body: "arm64"}))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	return idx, amd, arm
}

// memRegistry serves ggcr's in-memory registry, wrapped by wrap if set.
func memRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func push(t testing.TB, ref string, idx v1.ImageIndex, img v1.Image, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if idx != nil {
		err = remote.WriteIndex(r, idx, opts...)
	} else {
		err = remote.Write(r, img, opts...)
	}
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

func TestMemRegistry(t *testing.T) {
	host := memRegistry(t, nil)
	idx, amd, arm := multiArch(t)
	push(t, host+"/team/multi:1", idx, nil)
	single := imageOf(t, "linux", "arm64", "", layerOf(t, file{name: "etc/arch", body: "single"}))
	push(t, host+"/team/single:latest", nil, single)
	idxDigest := digestOf(t, idx)

	tests := []struct {
		name, ref, platform string
		wantArch, wantFile  string
		wantDigest          string
		wantTags            []string
		wantRepoDigest      string
	}{
		{name: "default platform", ref: host + "/team/multi:1", wantArch: "amd64", wantFile: "amd64", wantDigest: digestOf(t, amd),
			wantTags: []string{host + "/team/multi:1"}, wantRepoDigest: host + "/team/multi@" + idxDigest},
		{name: "arm64", ref: "registry:" + host + "/team/multi:1", platform: "linux/arm64", wantArch: "arm64", wantFile: "arm64", wantDigest: digestOf(t, arm),
			wantTags: []string{host + "/team/multi:1"}, wantRepoDigest: host + "/team/multi@" + idxDigest},
		{name: "by index digest", ref: host + "/team/multi@" + idxDigest, platform: "linux/arm64/v8", wantArch: "arm64", wantFile: "arm64", wantDigest: digestOf(t, arm),
			wantRepoDigest: host + "/team/multi@" + idxDigest},
		{name: "single image, implicit latest", ref: host + "/team/single", wantArch: "arm64", wantFile: "single", wantDigest: digestOf(t, single),
			wantTags: []string{host + "/team/single:latest"}, wantRepoDigest: host + "/team/single@" + digestOf(t, single)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Open(context.Background(), tt.ref, Options{Platform: tt.platform, Keychain: authn.NewMultiKeychain()})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Kind != KindRegistry || img.Arch != tt.wantArch || img.ManifestDigest != tt.wantDigest || img.V1 == nil {
				t.Errorf("kind %q arch %q digest %q; want arch %q digest %q", img.Kind, img.Arch, img.ManifestDigest, tt.wantArch, tt.wantDigest)
			}
			if img.Name != repoOf(strings.TrimPrefix(tt.ref, "registry:")) {
				t.Errorf("Name = %q", img.Name)
			}
			if strings.Join(img.RepoTags, ",") != strings.Join(tt.wantTags, ",") || len(img.RepoDigests) != 1 || img.RepoDigests[0] != tt.wantRepoDigest {
				t.Errorf("RepoTags %v RepoDigests %v; want %v, %s", img.RepoTags, img.RepoDigests, tt.wantTags, tt.wantRepoDigest)
			}
			files, _, err := walkLayer(t, img.Layers[0])
			if err != nil {
				t.Fatal(err)
			}
			if files["/etc/arch"] != tt.wantFile {
				t.Errorf("/etc/arch = %q, want %q", files["/etc/arch"], tt.wantFile)
			}
			if img.Layers[0].CreatedBy != "RUN step 0" || img.Layers[0].Size == 0 || img.Layers[0].Digest == "" {
				t.Errorf("layer 0: %+v", img.Layers[0].Layer)
			}
		})
	}

	errTests := []struct {
		name, ref, platform, want string
	}{
		{name: "no such platform", ref: host + "/team/multi:1", platform: "linux/s390x",
			want: `choosing a platform of "` + host + `/team/multi:1": no image for platform linux/s390x; available: linux/amd64, linux/arm64/v8`},
		{name: "unknown tag", ref: host + "/team/multi:nope", want: `pulling "` + host + `/team/multi:nope": not found in the registry (HTTP 404)`},
		{name: "unknown repo", ref: host + "/nothing/here:1", want: `pulling "` + host + `/nothing/here:1": not found in the registry (HTTP 404)`},
		{name: "single image, wrong platform", ref: host + "/team/single", platform: "linux/amd64", want: "image is for platform linux/arm64, not linux/amd64"},
		{name: "bad reference", ref: "registry:UPPER/Case::x", want: `parsing image reference "UPPER/Case::x"`},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), tt.ref, Options{Platform: tt.platform, Keychain: authn.NewMultiKeychain()})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// basicAuth wraps a registry with HTTP basic authentication (a memRegistry
// wrap function).
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func TestMemRegistryAuth(t *testing.T) {
	host := memRegistry(t, basicAuth("alice", "s3cret"))
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "a", body: "a"}))
	push(t, host+"/private/app:1", nil, img, remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"}))

	if _, err := Open(context.Background(), host+"/private/app:1", Options{Keychain: staticKeychain{"alice", "s3cret"}}); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, kc := range []authn.Keychain{staticKeychain{"alice", "wrong"}, authn.NewMultiKeychain()} {
		_, err := Open(context.Background(), host+"/private/app:1", Options{Keychain: kc})
		want := `pulling "` + host + `/private/app:1": access denied (HTTP 401)`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error containing %q", err, want)
		}
	}
}

func TestMemRegistryServerError(t *testing.T) {
	host := memRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodGet {
				http.Error(w, "boom", http.StatusInternalServerError)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	_, err := Open(context.Background(), host+"/x/y:1", Options{Keychain: authn.NewMultiKeychain(), noRetry: true})
	want := `pulling "` + host + `/x/y:1": registry error (HTTP 500)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error containing %q", err, want)
	}
}

// A registry that serves a tampered layer blob: reading it fails with an
// error naming the layer.
func TestMemRegistryTamperedBlob(t *testing.T) {
	var tamper v1.Hash
	host := memRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tamper.Hex != "" && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+tamper.String()) {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				b := rec.Body.Bytes()
				b[len(b)/2] ^= 0xff
				w.WriteHeader(rec.Code)
				_, _ = w.Write(b)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	l := layerOf(t, file{name: "etc/x", body: strings.Repeat("x", 5000)})
	img := imageOf(t, "linux", "amd64", "", l)
	push(t, host+"/t/app:1", nil, img)
	tamper, _ = l.Digest()
	diffID, _ := l.DiffID()

	src, err := Open(context.Background(), host+"/t/app:1", Options{Keychain: authn.NewMultiKeychain(), noRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := src.Layers[0].Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	want := "reading layer 0 (" + diffID.String() + ")"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "verifying") {
		t.Errorf("got %v, want a verification error containing %q", err, want)
	}
}

// Cancelling the ctx given to Layer.Open aborts a stalled blob download.
func TestMemRegistryCancelLayer(t *testing.T) {
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	var stalling atomic.Bool
	host := memRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if stalling.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				w.Header().Set("Content-Length", "100000")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(bytes.Repeat([]byte{0}, 10))
				w.(http.Flusher).Flush()
				select {
				case <-stall:
				case <-r.Context().Done():
				}
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "a", body: "a"}))
	push(t, host+"/c/app:1", nil, img)
	src, err := Open(context.Background(), host+"/c/app:1", Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	stalling.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	rc, err := src.Layers[0].Open(ctx)
	if err == nil {
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
	}
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("got %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}
