package source

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// noNetwork is a transport that fails every request and counts them: a
// test using it never reaches a registry.
type noNetwork struct{ calls atomic.Int32 }

func (n *noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.calls.Add(1)
	return nil, errors.New("network disabled in tests: " + r.URL.String())
}

// A reference that looks like a path and does not exist is "no such file",
// never a registry pull; a bare name:tag stays a registry reference.
func TestMissingPath(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "app.tar")
	tests := []struct {
		ref  string
		path string // named in the error
		hint bool   // the error suggests registry:REF
	}{
		{ref: "./build/app.tar", path: "./build/app.tar"},
		{ref: "../x/app.tar", path: "../x/app.tar"},
		{ref: abs, path: abs},
		{ref: "/abs/app.tar", path: "/abs/app.tar"},
		{ref: "app.tar", path: "app.tar", hint: true},
		{ref: "build/app.tar.gz", path: "build/app.tar.gz", hint: true},
		{ref: "app.tgz", path: "app.tgz", hint: true},
		{ref: "app.tar.zst", path: "app.tar.zst", hint: true},
		{ref: "APP.TAR", path: "APP.TAR"},
		{ref: "~/app.tar", path: "~/app.tar"},
		{ref: "./rootfs", path: "./rootfs"},
		{ref: "../layout", path: "../layout"},
		{ref: "/abs/rootfs", path: "/abs/rootfs"},
		{ref: ".", path: "."}, // exists: a dir source, not an error
		{ref: "docker-archive:./build/app.tar", path: "./build/app.tar"},
		{ref: "docker-archive:./build/app.tar:app:1", path: "./build/app.tar"},
		{ref: "oci-archive:/abs/app.tar", path: "/abs/app.tar"},
		{ref: "oci:./layout", path: "./layout"},
		{ref: "dir:./rootfs", path: "./rootfs"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			if tt.ref == "." {
				kind, _, err := detect(context.Background(), tt.ref, &archiveFiles{tempDir: t.TempDir()})
				if err != nil || kind != KindDir {
					t.Errorf("detect(%q) = %q, %v; want dir", tt.ref, kind, err)
				}
				return
			}
			tr := &noNetwork{}
			img, err := Open(context.Background(), tt.ref, Options{Transport: tr})
			if err == nil {
				img.Close()
				t.Fatalf("Open(%q) succeeded", tt.ref)
			}
			if n := tr.calls.Load(); n != 0 {
				t.Errorf("Open(%q) made %d registry requests; err = %v", tt.ref, n, err)
			}
			want := "no such file or directory: " + `"` + tt.path + `"`
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Open(%q) = %v, want an error starting with %q", tt.ref, err, want)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open(%q) = %v, want errors.Is fs.ErrNotExist", tt.ref, err)
			}
			if hint := strings.Contains(err.Error(), "registry:"+tt.ref); hint != tt.hint {
				t.Errorf("Open(%q) = %v; hint registry:%s given: %v, want %v", tt.ref, err, tt.ref, hint, tt.hint)
			}
		})
	}
}

// Bare names are registry references, also when a file of another name
// exists; registry: and docker:// force one even for a path-like name.
func TestRegistryReferences(t *testing.T) {
	for _, ref := range []string{"alpine", "alpine:3.16", "app", "team/app:1.0", "localhost:5000/app:1",
		"ghcr.io/org/app@sha256:" + strings.Repeat("a", 64), "app:1.tar.d", "registry:app.tar", "docker://app.tar"} {
		t.Run(ref, func(t *testing.T) {
			kind, _, err := detect(context.Background(), ref, &archiveFiles{tempDir: t.TempDir()})
			if err != nil || kind != KindRegistry {
				t.Errorf("detect(%q) = %q, %v; want %q", ref, kind, err, KindRegistry)
			}
		})
	}
}

// A tag with a registry host, a port and a path: docker-archive:PATH:TAG and
// oci:DIR:TAG split at the archive's path, not after the tag's last slash.
func TestSelectorWithSlash(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	one := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "which", body: "tools"}))
	two := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "which", body: "app"}))
	tools, err := name.NewTag("registry.example/tools:2")
	if err != nil {
		t.Fatal(err)
	}
	app, err := name.NewTag("localhost:5000/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "with:colon")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "two:images.tar")
	if err := tarball.MultiWriteToFile(p, map[name.Tag]v1.Image{tools: one, app: two}); err != nil {
		t.Fatal(err)
	}
	gz := compressFile(t, p, dir, "gzip")
	lay := filepath.Join(dir, "layout")
	lp, err := layout.Write(lay, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for tag, img := range map[string]v1.Image{"registry.example/tools:2": one, "localhost:5000/team/app:1": two} {
		if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{annRefName: tag})); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct{ ref, want, wantRef string }{
		{ref: "docker-archive:" + p + ":registry.example/tools:2", want: "tools", wantRef: "registry.example/tools:2"},
		{ref: "docker-archive:" + p + ":localhost:5000/team/app:1", want: "app", wantRef: "localhost:5000/team/app:1"},
		{ref: "oci:" + lay + ":registry.example/tools:2", want: "tools"},
		{ref: "oci:" + lay + ":localhost:5000/team/app:1", want: "app"},
		// Without a scheme, when the path exists.
		{ref: p + ":registry.example/tools:2", want: "tools", wantRef: "registry.example/tools:2"},
		{ref: lay + ":localhost:5000/team/app:1", want: "app"},
		{ref: lay + "@" + digestOf(t, two), want: "app"},
		// Compressed.
		{ref: gz + ":registry.example/tools:2", want: "tools", wantRef: "registry.example/tools:2"},
		{ref: "docker-archive:" + gz + ":localhost:5000/team/app:1", want: "app", wantRef: "localhost:5000/team/app:1"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img, err := Open(context.Background(), tt.ref, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			files, _, err := walkLayer(t, img.Layers[0])
			if err != nil {
				t.Fatal(err)
			}
			var gotRef string
			if img.Ref != nil {
				gotRef = img.Ref.String()
			}
			if d := cmp.Diff([]string{tt.want, tt.wantRef}, []string{files["/which"], gotRef}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	t.Run("root filesystem with a selector", func(t *testing.T) {
		_, err := Open(context.Background(), dir+":app:1", Options{Transport: &noNetwork{}})
		want := "is a directory without an oci-layout file"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error containing %q", err, want)
		}
	})
}

func TestSplitPathSelector(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"img.tar", "a:b.tar"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	j := func(s string) string { return filepath.Join(dir, s) }
	tests := []struct{ in, path, sel string }{
		{in: j("img.tar"), path: j("img.tar")},
		{in: j("img.tar") + ":app:1", path: j("img.tar"), sel: "app:1"},
		{in: j("img.tar") + ":registry.example/tools:2", path: j("img.tar"), sel: "registry.example/tools:2"},
		{in: j("img.tar") + ":localhost:5000/team/app:1", path: j("img.tar"), sel: "localhost:5000/team/app:1"},
		{in: j("a:b.tar"), path: j("a:b.tar")},
		{in: j("a:b.tar") + ":x/y:1", path: j("a:b.tar"), sel: "x/y:1"},
		// Nothing exists: the path ends at the first colon.
		{in: "/nope/img.tar:registry.example/tools:2", path: "/nope/img.tar", sel: "registry.example/tools:2"},
		{in: "/nope/img.tar", path: "/nope/img.tar"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, sel := splitPathSelector(tt.in)
			if d := cmp.Diff([]string{tt.path, tt.sel}, []string{p, sel}); d != "" {
				t.Errorf("splitPathSelector(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

// oci:DIR@DIGEST finds a platform manifest inside a nested index (what
// buildx and skopeo write: index.json → image index → manifests).
func TestOCILayoutNestedDigest(t *testing.T) {
	amd := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "etc/arch", body: "amd64"}))
	arm := imageOf(t, "linux", "arm64", "v8", layerOf(t, file{name: "etc/arch", body: "arm64"}))
	inner := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}})
	// Two levels: an outer index holding the platform index.
	outer := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: inner})
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(inner, layout.WithAnnotations(map[string]string{annRefName: "example.com/app:1"})); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(t.TempDir(), "deep")
	lp2, err := layout.Write(deep, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp2.AppendIndex(outer); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		ref, platform       string
		wantArch, wantIndex string
		wantTags            []string
	}{
		{ref: "oci:" + dir + "@" + digestOf(t, arm), wantArch: "arm64", wantTags: []string{"example.com/app:1"}},
		{ref: "oci:" + dir + "@" + digestOf(t, amd), wantArch: "amd64", wantTags: []string{"example.com/app:1"}},
		{ref: "oci:" + deep + "@" + digestOf(t, arm), wantArch: "arm64"},
		// An index nested inside another: the platform chooses within it.
		{ref: "oci:" + deep + "@" + digestOf(t, inner), platform: "linux/arm64", wantArch: "arm64", wantIndex: digestOf(t, inner)},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img, err := Open(context.Background(), tt.ref, Options{Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			files, _, err := walkLayer(t, img.Layers[0])
			if err != nil {
				t.Fatal(err)
			}
			got := []any{img.Arch, files["/etc/arch"], img.IndexDigest, img.RepoTags}
			want := []any{tt.wantArch, tt.wantArch, tt.wantIndex, tt.wantTags}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	t.Run("unknown digest", func(t *testing.T) {
		_, err := Open(context.Background(), "oci:"+deep+"@sha256:"+strings.Repeat("0", 64), Options{})
		if err == nil || !strings.Contains(err.Error(), "no manifest sha256:000") {
			t.Errorf("got %v", err)
		}
	})
}
