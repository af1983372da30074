package source

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// handles is what an opened Image keeps for later stages, in comparable form.
type handles struct {
	Ref            string // Ref.Name(), "" if nil
	ManifestDigest string
	IndexDigest    string
	Digest         string // Digest(), "" if not ok
	Remote         bool
}

func handlesOf(img *Image) handles {
	h := handles{ManifestDigest: img.ManifestDigest, IndexDigest: img.IndexDigest}
	if img.Ref != nil {
		h.Ref = img.Ref.Name()
	}
	if d, ok := img.Digest(); ok {
		h.Digest = d.String()
	}
	_, h.Remote = img.Remote()
	return h
}

func TestImageHandles(t *testing.T) {
	host := memRegistry(t, nil)
	idx, amd, arm := multiArch(t)
	push(t, host+"/team/multi:1", idx, nil)
	single := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "etc/arch", body: "single"}))
	push(t, host+"/team/single:1", nil, single)
	idxD, amdD, armD, singleD := digestOf(t, idx), digestOf(t, amd), digestOf(t, arm), digestOf(t, single)

	// An OCI layout whose index.json names the multi-arch index (what
	// buildx and skopeo write), and the same as an archive.
	nested := t.TempDir()
	lp, err := layout.Write(nested, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{annRefName: "multi"})); err != nil {
		t.Fatal(err)
	}
	nestedArchive := filepath.Join(t.TempDir(), "nested.tar")
	if err := os.WriteFile(nestedArchive, tarDirBytes(t, nested), 0o644); err != nil {
		t.Fatal(err)
	}
	// An OCI layout whose index.json lists the platform images directly.
	flat := t.TempDir()
	lp, err = layout.Write(flat, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []v1.Image{amd, arm} {
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if err := lp.AppendImage(img, layout.WithPlatform(*cfg.Platform())); err != nil {
			t.Fatal(err)
		}
	}
	// A docker archive written from an image (gzip layers: its manifest
	// digest is the image's).
	tag, err := name.NewTag("tools:2")
	if err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(t.TempDir(), "img.tar")
	if err := tarball.WriteToFile(docker, tag, single); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, ref, platform string
		want                handles
	}{
		{name: "registry index, default platform", ref: host + "/team/multi:1",
			want: handles{Ref: host + "/team/multi:1", ManifestDigest: amdD, IndexDigest: idxD, Digest: host + "/team/multi@" + amdD, Remote: true}},
		{name: "registry index, arm64", ref: host + "/team/multi:1", platform: "linux/arm64",
			want: handles{Ref: host + "/team/multi:1", ManifestDigest: armD, IndexDigest: idxD, Digest: host + "/team/multi@" + armD, Remote: true}},
		{name: "registry index by digest", ref: host + "/team/multi@" + idxD, platform: "linux/arm64/v8",
			want: handles{Ref: host + "/team/multi@" + idxD, ManifestDigest: armD, IndexDigest: idxD, Digest: host + "/team/multi@" + armD, Remote: true}},
		{name: "registry platform manifest by digest", ref: host + "/team/multi@" + armD,
			want: handles{Ref: host + "/team/multi@" + armD, ManifestDigest: armD, Digest: host + "/team/multi@" + armD, Remote: true}},
		{name: "registry single manifest", ref: "registry:" + host + "/team/single:1",
			want: handles{Ref: host + "/team/single:1", ManifestDigest: singleD, Digest: host + "/team/single@" + singleD, Remote: true}},
		{name: "OCI layout, nested index", ref: nested,
			want: handles{ManifestDigest: amdD, IndexDigest: idxD}},
		{name: "OCI layout, nested index by tag, arm64", ref: "oci:" + nested + ":multi", platform: "linux/arm64",
			want: handles{ManifestDigest: armD, IndexDigest: idxD}},
		{name: "OCI layout, nested index by digest", ref: "oci:" + nested + "@" + idxD, platform: "linux/arm64",
			want: handles{ManifestDigest: armD, IndexDigest: idxD}},
		{name: "OCI archive, nested index", ref: "oci-archive:" + nestedArchive, platform: "linux/arm64",
			want: handles{ManifestDigest: armD, IndexDigest: idxD}},
		{name: "OCI layout, images in index.json", ref: flat, platform: "linux/arm64",
			want: handles{ManifestDigest: armD}},
		{name: "OCI archive, single manifest", ref: busyboxArchive,
			want: handles{ManifestDigest: busyboxManifest}},
		{name: "docker archive, tag chosen", ref: "docker-archive:" + docker + ":tools:2",
			want: handles{Ref: "index.docker.io/library/tools:2", ManifestDigest: singleD}},
		{name: "docker archive, only image", ref: docker,
			want: handles{ManifestDigest: singleD}},
		{name: "dir", ref: "dir:" + t.TempDir(), want: handles{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Open(context.Background(), tt.ref, Options{Platform: tt.platform, Keychain: authn.NewMultiKeychain()})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if d := cmp.Diff(tt.want, handlesOf(img)); d != "" {
				t.Errorf("handles (-want +got):\n%s", d)
			}
		})
	}
}

// requestLog records the paths a registry serves (a memRegistry wrap
// function, outermost).
type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) wrap(next func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		inner := next(h)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l.mu.Lock()
			l.paths = append(l.paths, r.Method+" "+r.URL.Path)
			l.mu.Unlock()
			inner.ServeHTTP(w, r)
		})
	}
}

func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.paths
	l.paths = nil
	return p
}

// The registry handle reaches the same (authenticated) registry for exactly
// the scanned digest: its manifest, a signature tag, its referrers, and the
// index resolved to the scanned platform; the tag is never resolved again.
func TestRemoteHandle(t *testing.T) {
	const user, pass = "alice", "s3cret"
	var reqs requestLog
	host := memRegistry(t, reqs.wrap(basicAuth(user, pass)))
	auth := remote.WithAuth(&authn.Basic{Username: user, Password: pass})
	idx, _, arm := multiArch(t)
	push(t, host+"/team/multi:1", idx, nil, auth)
	armD := digestOf(t, arm)
	sig := imageOf(t, "", "", "", layerOf(t, file{name: "signature", body: "sig"}))
	push(t, host+"/team/multi:"+strings.Replace(armD, ":", "-", 1)+".sig", nil, sig, auth)
	armDesc, err := partial.Descriptor(arm)
	if err != nil {
		t.Fatal(err)
	}
	att, ok := mutate.Subject(imageOf(t, "", "", "", layerOf(t, file{name: "sbom", body: "{}"})), *armDesc).(v1.Image)
	if !ok {
		t.Fatal("mutate.Subject did not return an image")
	}
	push(t, host+"/team/multi:attestation", nil, att, auth)

	img, err := Open(context.Background(), host+"/team/multi:1", Options{Platform: "linux/arm64", Keychain: staticKeychain{user, pass}})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	rh, ok := img.Remote()
	if !ok {
		t.Fatal("no registry handle")
	}
	if d, _ := img.Digest(); d != rh.Digest || rh.Digest.DigestStr() != armD {
		t.Fatalf("Digest() %v, handle digest %v; want %s", d, rh.Digest, armD)
	}
	if d := cmp.Diff(&v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, rh.Platform); d != "" {
		t.Errorf("Platform (-want +got):\n%s", d)
	}
	reqs.take()

	ctx := context.Background()
	repo := rh.Digest.Context()
	tests := []struct {
		name  string
		fetch func() (string, error)
		want  string
	}{
		{name: "manifest by digest, Puller", want: armD, fetch: func() (string, error) {
			desc, err := rh.Puller.Get(ctx, rh.Digest)
			if err != nil {
				return "", err
			}
			return desc.Digest.String(), nil
		}},
		{name: "manifest by digest, Options", want: armD, fetch: func() (string, error) {
			desc, err := remote.Get(rh.Digest, rh.Options(ctx)...)
			if err != nil {
				return "", err
			}
			return desc.Digest.String(), nil
		}},
		{name: "signature tag", want: digestOf(t, sig), fetch: func() (string, error) {
			desc, err := rh.Puller.Get(ctx, repo.Tag(strings.Replace(rh.Digest.DigestStr(), ":", "-", 1)+".sig"))
			if err != nil {
				return "", err
			}
			return desc.Digest.String(), nil
		}},
		{name: "referrers", want: digestOf(t, att), fetch: func() (string, error) {
			// This registry has no referrers API, and the handle's silent
			// tag fallback is off (the verify stage must know and say so):
			// the query fails, naming that, and the sha256-<hex> tag is
			// read through the same handle.
			if _, err := remote.Referrers(rh.Digest, rh.Options(ctx)...); err == nil || !strings.Contains(err.Error(), "does not support the Referrers API") {
				return "", fmt.Errorf("referrers through the handle: %v, want the registry's lack of the API", err)
			}
			desc, err := rh.Puller.Get(ctx, repo.Tag(strings.Replace(rh.Digest.DigestStr(), ":", "-", 1)))
			if err != nil {
				return "", err
			}
			ri, err := desc.ImageIndex()
			if err != nil {
				return "", err
			}
			im, err := ri.IndexManifest()
			if err != nil {
				return "", err
			}
			var ds []string
			for _, m := range im.Manifests {
				ds = append(ds, m.Digest.String())
			}
			return strings.Join(ds, ","), nil
		}},
		{name: "index by digest, scanned platform", want: armD, fetch: func() (string, error) {
			i, err := remote.Image(repo.Digest(img.IndexDigest), rh.Options(ctx)...)
			if err != nil {
				return "", err
			}
			d, err := i.Digest()
			return d.String(), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fetch()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, p := range reqs.take() {
		if strings.HasSuffix(p, "/manifests/1") {
			t.Errorf("the handle resolved the tag again: %s", p)
		}
	}
	// The handle carries the credentials: the same fetch without it is refused.
	if _, err := remote.Get(rh.Digest); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("unauthenticated fetch: got %v, want UNAUTHORIZED", err)
	}
}

// sparseEntry is a regular file of a sparse tar: body, then zeros up to size
// (a hole in the tar file: no disk space).
type sparseEntry struct {
	name string
	body []byte
	size int64
}

// sparseTar writes a tar of entries to p, leaving the zeros as holes.
func sparseTar(t testing.TB, p string, entries ...sparseEntry) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, e := range entries {
		size := max(e.size, int64(len(e.body)))
		var hdr bytes.Buffer
		// The header blocks only: the content is written below.
		if err := tar.NewWriter(&hdr).WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(append(hdr.Bytes(), e.body...)); err != nil {
			t.Fatal(err)
		}
		skip := size - int64(len(e.body)) + (512-size%512)%512
		if _, err := f.Seek(skip, io.SeekCurrent); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Write(make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// Cancelling ctx aborts opening a huge archive promptly: hashing a docker
// archive's compressed layer (4 GiB) to compute its manifest, extracting an
// OCI archive's layer (4 GiB). Without cancellation either takes many seconds.
func TestOpenCancel(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	data := t.TempDir()

	cfg, err := json.Marshal(v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers",
		DiffIDs: []v1.Hash{{Algorithm: "sha256", Hex: strings.Repeat("1", 64)}}}})
	if err != nil {
		t.Fatal(err)
	}
	mf, err := json.Marshal([]tarball.Descriptor{{Config: "config.json", RepoTags: []string{"big:1"}, Layers: []string{"big/layer.tar"}}})
	if err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(data, "docker.tar")
	sparseTar(t, docker,
		sparseEntry{name: "manifest.json", body: mf},
		sparseEntry{name: "config.json", body: cfg},
		sparseEntry{name: "big/layer.tar", body: []byte{0x1f, 0x8b, 8, 0}, size: 4 << 30}) // gzip magic: hashed as compressed
	// An OCI archive whose manifest names a 4 GiB layer: extracting it is
	// what takes long (an unreferenced blob would be skipped).
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + strings.Repeat("1", 64) + `","size":2},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:` + strings.Repeat("2", 64) + `","size":4294967296}]}`)
	mdigest := fmt.Sprintf("sha256:%x", sha256.Sum256(manifest))
	oci := filepath.Join(data, "oci.tar")
	// The layer is a PAX sparse entry, so it is extracted (a plain tar's
	// contiguous layers are read in place, at no cost).
	writeTar(t, oci, false,
		entry{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		entry{name: "index.json", body: []byte(fmt.Sprintf(`{"schemaVersion":2,"manifests":[`+
			`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d}]}`, mdigest, len(manifest)))},
		entry{name: "blobs/sha256/" + strings.TrimPrefix(mdigest, "sha256:"), body: manifest},
		entry{name: "blobs/sha256/" + strings.Repeat("2", 64), body: []byte{0x1f, 0x8b}, size: 4 << 30, sparse: true})

	tests := []struct{ name, ref string }{
		{name: "docker archive", ref: "docker-archive:" + docker},
		{name: "docker archive, detected", ref: docker},
		{name: "OCI archive", ref: "oci-archive:" + oci},
		{name: "OCI archive, detected", ref: oci},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			img, err := Open(ctx, tt.ref, Options{})
			took := time.Since(start)
			if err == nil {
				img.Close()
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
			if took > 3*time.Second {
				t.Errorf("Open took %v after cancellation at 50ms", took)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left in TMPDIR: %v", ents)
			}
		})
	}
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, ref := range []string{"dir:" + data, "oci:" + data, docker, oci, "registry:127.0.0.1:1/x/y:1"} {
			if _, err := Open(ctx, ref, Options{}); !errors.Is(err, context.Canceled) {
				t.Errorf("Open(%q) = %v, want context.Canceled", ref, err)
			}
		}
	})
}
