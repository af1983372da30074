package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const busyboxArchive = "testdata/busybox-1.38.0-musl-amd64.oci.tar"

// Facts of the busybox image, from its manifest and config (see testdata/README.md).
const (
	busyboxManifest = "sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"
	busyboxLayer    = "sha256:5c3b447848a98e48dce106cb3e6acbd4fb6f9b26ee778798137349ce01f4d3c1"
	busyboxDiffID   = "sha256:0f8918d0fe4f272ce8acece89916a9ba0b240584d3c1dd1943f343f69b0d0ffb"
)

func TestDetect(t *testing.T) {
	tmp := t.TempDir()
	ociDir := untar(t, busyboxArchive)
	rootfs := filepath.Join(tmp, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	docker := dockerSave(t, savedImage{tags: []string{"app:1"}, layers: [][]file{{{name: "a", body: "a"}}}})
	notArchive := filepath.Join(tmp, "plain.tar")
	if err := os.WriteFile(notArchive, tarOf(t, file{name: "etc/passwd", body: "root"}), 0o644); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(tmp, "image.tar.gz")
	if err := os.WriteFile(gz, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	dockerGz := compressFile(t, docker, tmp, "gzip")
	ociZst := compressFile(t, busyboxArchive, tmp, "zstd")

	tests := []struct {
		ref      string
		kind     string
		rest     string
		errMatch string
	}{
		{ref: "alpine:3.16", kind: KindRegistry, rest: "alpine:3.16"},
		{ref: "host:5000/team/app@sha256:" + strings.Repeat("a", 64), kind: KindRegistry, rest: "host:5000/team/app@sha256:" + strings.Repeat("a", 64)},
		{ref: "registry:alpine", kind: KindRegistry, rest: "alpine"},
		{ref: "docker://alpine", kind: KindRegistry, rest: "alpine"},
		{ref: "docker-archive:/x.tar", kind: KindDockerArchive, rest: "/x.tar"},
		{ref: "oci:/d:tag", kind: KindOCILayout, rest: "/d:tag"},
		{ref: "oci-archive:/x.tar", kind: KindOCIArchive, rest: "/x.tar"},
		{ref: "dir:/", kind: KindDir, rest: "/"},
		{ref: ociDir, kind: KindOCILayout, rest: ociDir},
		{ref: rootfs, kind: KindDir, rest: rootfs},
		{ref: busyboxArchive, kind: KindOCIArchive, rest: busyboxArchive},
		{ref: docker, kind: KindDockerArchive, rest: docker},
		{ref: notArchive, errMatch: "neither a docker archive"},
		{ref: dockerGz, kind: KindDockerArchive, rest: dockerGz},
		{ref: ociZst, kind: KindOCIArchive, rest: ociZst},
		{ref: gz, errMatch: `decompressing "` + gz + `" (gzip): unexpected EOF`},
		{ref: "oci:", errMatch: "empty oci-layout reference"},
		{ref: "", errMatch: "empty image reference"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			archives := &archiveFiles{tempDir: t.TempDir()}
			defer archives.close()
			kind, rest, err := detect(context.Background(), tt.ref, archives)
			if tt.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("detect(%q) error = %v, want one containing %q", tt.ref, err, tt.errMatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kind != tt.kind || rest != tt.rest {
				t.Errorf("detect(%q) = %q, %q; want %q, %q", tt.ref, kind, rest, tt.kind, tt.rest)
			}
		})
	}
}

// busyboxWant checks the facts of the real busybox image.
func checkBusybox(t *testing.T, img *Image, kind string) {
	t.Helper()
	if img.Kind != kind || img.ManifestDigest != busyboxManifest || img.OS != "linux" || img.Arch != "amd64" {
		t.Errorf("got kind %q digest %q platform %s/%s", img.Kind, img.ManifestDigest, img.OS, img.Arch)
	}
	if d := cmp.Diff([]string{"busybox:1.38.0-musl"}, img.RepoTags); d != "" {
		t.Errorf("RepoTags (-want +got):\n%s", d)
	}
	if img.Name != "busybox" {
		t.Errorf("Name = %q, want busybox", img.Name)
	}
	if img.Config == nil || img.Manifest == nil || img.V1 == nil {
		t.Fatal("Config, Manifest and V1 must be set")
	}
	want := []string{"0 " + busyboxDiffID + " " + busyboxLayer + " BusyBox 1.38.0 (musl), Alpine 3.23.5"}
	if d := cmp.Diff(want, layerIDs(img)); d != "" {
		t.Errorf("layers (-want +got):\n%s", d)
	}
	l := img.Layers[0]
	if l.Size != 886160 || l.MediaType != string(types.OCILayer) {
		t.Errorf("layer size %d media type %q", l.Size, l.MediaType)
	}
	files, res, err := walkLayer(t, l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(files["/etc/passwd"], "root:x:0:0:") {
		t.Errorf("/etc/passwd = %q", files["/etc/passwd"])
	}
	if _, ok := files["/bin/busybox"]; !ok {
		t.Errorf("no /bin/busybox among %d files", len(files))
	}
	if res.Files < 5 {
		t.Errorf("only %d files in the layer", res.Files)
	}
}

func TestOCIArchiveBusybox(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	extracted := func() []string {
		var out []string
		ents, _ := os.ReadDir(tmp)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "drydock-oci-") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	for _, ref := range []string{
		"oci-archive:" + busyboxArchive,
		busyboxArchive,
		"oci-archive:" + busyboxArchive + ":1.38.0-musl",
		"oci-archive:" + busyboxArchive + "@" + busyboxManifest,
	} {
		t.Run(ref, func(t *testing.T) {
			img, err := Open(context.Background(), ref, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkBusybox(t, img, KindOCIArchive)
			if got := extracted(); len(got) != 1 {
				t.Errorf("expected the extracted archive in TMPDIR, found %v", got)
			}
			if err := img.Close(); err != nil {
				t.Fatal(err)
			}
			if err := img.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if got := extracted(); len(got) != 0 {
				t.Errorf("Close left %v in TMPDIR", got)
			}
		})
	}
	t.Run("unknown tag", func(t *testing.T) {
		_, err := Open(context.Background(), "oci-archive:"+busyboxArchive+":nope", Options{})
		if err == nil || !strings.Contains(err.Error(), `no image tagged "nope"`) || !strings.Contains(err.Error(), "busybox:1.38.0-musl") {
			t.Errorf("got %v, want an error listing the available tags", err)
		}
		if got := extracted(); len(got) != 0 {
			t.Errorf("a failed Open left %v in TMPDIR", got)
		}
	})
	t.Run("wrong platform", func(t *testing.T) {
		_, err := Open(context.Background(), busyboxArchive, Options{Platform: "linux/arm64"})
		if err == nil || !strings.Contains(err.Error(), "image is for platform linux/amd64, not linux/arm64") {
			t.Errorf("got %v, want a platform mismatch", err)
		}
	})
}

func TestOCILayout(t *testing.T) {
	dir := untar(t, busyboxArchive)
	for _, ref := range []string{"oci:" + dir, dir, "oci:" + dir + ":1.38.0-musl", "oci:" + dir + ":busybox:1.38.0-musl", "oci:" + dir + "@" + busyboxManifest} {
		t.Run(ref, func(t *testing.T) {
			img, err := Open(context.Background(), ref, Options{Platform: "linux/amd64"})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			checkBusybox(t, img, KindOCILayout)
		})
	}
	t.Run("unknown digest", func(t *testing.T) {
		_, err := Open(context.Background(), "oci:"+dir+"@sha256:"+strings.Repeat("0", 64), Options{})
		if err == nil || !strings.Contains(err.Error(), "no manifest sha256:000") {
			t.Errorf("got %v", err)
		}
	})
}

// A layout with several images (ggcr-written, multi-platform plus a tagged
// extra) — choose by platform and by tag.
func TestOCILayoutSeveralImages(t *testing.T) {
	dir := t.TempDir()
	amd := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "etc/arch", body: "amd64"}))
	arm := imageOf(t, "linux", "arm64", "v8", layerOf(t, file{name: "etc/arch", body: "arm64"}))
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(amd, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}), layout.WithAnnotations(map[string]string{annRefName: "amd"})); err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(arm, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}), layout.WithAnnotations(map[string]string{annRefName: "arm"})); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref, platform, wantArch, wantErr string
	}{
		{ref: dir, wantArch: "amd64"},
		{ref: dir, platform: "linux/arm64", wantArch: "arm64"},
		{ref: "oci:" + dir + ":arm", wantArch: "arm64"},
		{ref: "oci:" + dir + "@" + digestOf(t, arm), wantArch: "arm64"},
		{ref: dir, platform: "linux/s390x", wantErr: "no image for platform linux/s390x; available: linux/amd64, linux/arm64/v8 (or choose by tag: amd, arm)"},
		{ref: "oci:" + dir + ":amd", platform: "linux/arm64", wantErr: "image is for platform linux/amd64, not linux/arm64"},
	}
	for _, tt := range tests {
		t.Run(tt.ref+" "+tt.platform, func(t *testing.T) {
			img, err := Open(context.Background(), tt.ref, Options{Platform: tt.platform})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			files, _, err := walkLayer(t, img.Layers[0])
			if err != nil {
				t.Fatal(err)
			}
			if img.Arch != tt.wantArch || files["/etc/arch"] != tt.wantArch {
				t.Errorf("got arch %q, /etc/arch %q; want %q", img.Arch, files["/etc/arch"], tt.wantArch)
			}
		})
	}
}

func TestLayoutDigestMismatch(t *testing.T) {
	dir := untar(t, busyboxArchive)
	blob := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(busyboxLayer, "sha256:"))
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	// Change the gzip header's mtime: the stream still decompresses cleanly,
	// so only the digest check can catch it.
	b[5] ^= 0xff
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = walkLayer(t, img.Layers[0])
	if err == nil || !strings.Contains(err.Error(), "layer 0 ("+busyboxDiffID+"): digest mismatch") {
		t.Fatalf("got %v, want a digest mismatch naming layer 0", err)
	}

	// Raw read without decompression: the digest check itself reports.
	rc, err := img.Layers[0].Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	want := "reading layer 0 (" + busyboxDiffID + "): digest mismatch"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestDockerArchivePlain(t *testing.T) {
	p := dockerSave(t, savedImage{
		tags: []string{"example.com/team/app:1.0", "example.com/team/app:latest"},
		layers: [][]file{
			{{name: "etc/os-release", body: "ID=alpine\n"}, {name: "lib/apk/db/installed", body: "P:musl\n"}},
			{{name: "app/main", body: "binary"}, {name: "etc/.wh.os-release"}},
		},
	})
	img, err := Open(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Kind != KindDockerArchive || img.Name != "example.com/team/app" || img.OS != "linux" || img.Arch != "amd64" {
		t.Errorf("kind %q name %q platform %s/%s", img.Kind, img.Name, img.OS, img.Arch)
	}
	if d := cmp.Diff([]string{"example.com/team/app:1.0", "example.com/team/app:latest"}, img.RepoTags); d != "" {
		t.Errorf("RepoTags (-want +got):\n%s", d)
	}
	if !strings.HasPrefix(img.ManifestDigest, "sha256:") || len(img.Layers) != 2 {
		t.Fatalf("digest %q, %d layers", img.ManifestDigest, len(img.Layers))
	}
	for i, l := range img.Layers {
		if l.Digest != l.DiffID || l.MediaType != string(types.DockerUncompressedLayer) || l.Size == 0 || l.CreatedBy != fmt.Sprintf("COPY layer %d", i) {
			t.Errorf("layer %d: %+v", i, l.Layer)
		}
		if img.Manifest.Layers[i].Digest.String() != l.DiffID {
			t.Errorf("manifest layer %d digest %s, want the diff id", i, img.Manifest.Layers[i].Digest)
		}
	}
	files, _, err := walkLayer(t, img.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"/etc/os-release": "ID=alpine\n", "/lib/apk/db/installed": "P:musl\n"}, files); d != "" {
		t.Errorf("layer 0 files (-want +got):\n%s", d)
	}
	_, res, err := walkLayer(t, img.Layers[1])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"/etc/os-release"}, res.Whiteouts); d != "" {
		t.Errorf("layer 1 whiteouts (-want +got):\n%s", d)
	}
}

func TestDockerArchiveGzip(t *testing.T) {
	src := imageOf(t, "linux", "arm64", "v8",
		layerOf(t, file{name: "etc/os-release", body: "ID=debian\n"}),
		layerOf(t, file{name: "usr/bin/tool", body: "tool"}))
	tag, err := name.NewTag("registry.example/tools:2")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "img.tar")
	if err := tarball.WriteToFile(p, tag, src); err != nil {
		t.Fatal(err)
	}
	img, err := Open(context.Background(), "docker-archive:"+p, Options{Platform: "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.ManifestDigest != digestOf(t, src) {
		t.Errorf("ManifestDigest %s, want the source image's %s", img.ManifestDigest, digestOf(t, src))
	}
	srcLayers, _ := src.Layers()
	for i, l := range img.Layers {
		d, _ := srcLayers[i].Digest()
		diff, _ := srcLayers[i].DiffID()
		if l.Digest != d.String() || l.DiffID != diff.String() || l.CreatedBy != fmt.Sprintf("RUN step %d", i) {
			t.Errorf("layer %d: %+v; want digest %s diff id %s", i, l.Layer, d, diff)
		}
	}
	files, _, err := walkLayer(t, img.Layers[1])
	if err != nil {
		t.Fatal(err)
	}
	if files["/usr/bin/tool"] != "tool" {
		t.Errorf("layer 1 files: %v", files)
	}
	if _, err := Open(context.Background(), "docker-archive:"+p, Options{Platform: "linux/amd64"}); err == nil || !strings.Contains(err.Error(), "image is for platform linux/arm64/v8, not linux/amd64") {
		t.Errorf("platform mismatch: got %v", err)
	}
}

func TestDockerArchiveSeveralImages(t *testing.T) {
	p := dockerSave(t,
		savedImage{tags: []string{"one:1"}, layers: [][]file{{{name: "which", body: "one"}}}},
		savedImage{tags: []string{"two:2"}, layers: [][]file{{{name: "which", body: "two"}}}},
	)
	_, err := Open(context.Background(), p, Options{})
	if err == nil || !strings.Contains(err.Error(), "holds 2 images") || !strings.Contains(err.Error(), "one:1, two:2") {
		t.Errorf("got %v, want an error listing the tags", err)
	}
	img, err := Open(context.Background(), "docker-archive:"+p+":two:2", Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := walkLayer(t, img.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	if files["/which"] != "two" || img.Name != "two" {
		t.Errorf("chose %q (name %q), want two", files["/which"], img.Name)
	}
}

func TestDockerArchiveDiffIDMismatch(t *testing.T) {
	p := dockerSave(t, savedImage{tags: []string{"bad:1"}, badDiffID: true, layers: [][]file{{{name: "a", body: "a"}}}})
	img, err := Open(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = walkLayer(t, img.Layers[0])
	want := fmt.Sprintf("reading layer 0 (sha256:%064x): diff_id mismatch", 1)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error containing %q", err, want)
	}
}

func TestDir(t *testing.T) {
	root := t.TempDir()
	mk := func(p, body string) {
		t.Helper()
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("usr/lib/os-release", "ID=debian\n")
	mk("var/lib/dpkg/status", "Package: libc6\n")
	mk("empty", "")
	if err := os.Symlink("../usr/lib/os-release", filepath.Join(root, "etc-link")); err != nil {
		t.Fatal(err)
	}
	// A symlink leaving the rootfs must be kept as a link, never followed.
	if err := os.Symlink("/etc", filepath.Join(root, "host-etc")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := Open(context.Background(), "dir:"+root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Kind != KindDir || img.Config != nil || img.V1 != nil || img.ManifestDigest != "" || len(img.Layers) != 1 {
		t.Fatalf("dir image: %+v", img)
	}
	if d := cmp.Diff([]string{"0   "}, layerIDs(img)); d != "" {
		t.Errorf("layers (-want +got):\n%s", d)
	}
	var links []string
	rc, err := img.Layers[0].Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files, res, err := walkLayerFrom(t, rc, func(p, target string) { links = append(links, p+" -> "+target) })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/usr/lib/os-release": "ID=debian\n", "/var/lib/dpkg/status": "Package: libc6\n", "/empty": ""}
	if d := cmp.Diff(want, files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"/etc-link -> ../usr/lib/os-release", "/host-etc -> /etc"}, links); d != "" {
		t.Errorf("symlinks (-want +got):\n%s", d)
	}
	if res.Files != 3 {
		t.Errorf("Files = %d, want 3", res.Files)
	}

	t.Run("auto-detected", func(t *testing.T) {
		img, err := Open(context.Background(), root, Options{})
		if err != nil || img.Kind != KindDir {
			t.Fatalf("got %v, %v", img, err)
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		_, err := Open(context.Background(), "dir:"+filepath.Join(root, "empty"), Options{})
		if err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		rc, err := img.Layers[0].Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		cancel()
		if _, err := io.Copy(io.Discard, rc); err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("got %v, want context canceled", err)
		}
	})
}

func TestLayerHistory(t *testing.T) {
	cfg := &v1.ConfigFile{History: []v1.History{
		{CreatedBy: "ADD rootfs"},
		{CreatedBy: "ENV A=1", EmptyLayer: true},
		{CreatedBy: "RUN apk add x", Comment: "buildkit"},
		{CreatedBy: "CMD sh", EmptyLayer: true},
	}}
	got := layerHistory(cfg, 2)
	want := []v1.History{{CreatedBy: "ADD rootfs"}, {CreatedBy: "RUN apk add x", Comment: "buildkit"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := layerHistory(cfg, 3); got != nil {
		t.Errorf("count mismatch: got %v, want nil", got)
	}
}

func TestChoosePlatform(t *testing.T) {
	desc := func(p string, mt types.MediaType) v1.Descriptor {
		pl, _ := v1.ParsePlatform(p)
		return v1.Descriptor{MediaType: mt, Platform: pl, Digest: v1.Hash{Algorithm: "sha256", Hex: p}}
	}
	img := types.OCIManifestSchema1
	attest := v1.Descriptor{MediaType: img, Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}, Digest: v1.Hash{Algorithm: "sha256", Hex: "att"},
		Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"}}
	multi := []v1.Descriptor{desc("linux/arm/v7", img), desc("linux/arm64", img), desc("linux/amd64", img), attest, desc("windows/amd64", img)}
	tests := []struct {
		name    string
		in      []v1.Descriptor
		want    string
		wantHex string
		wantErr string
	}{
		{name: "default amd64", in: multi, wantHex: "linux/amd64"},
		{name: "arm64 matches variant-less", in: multi, want: "linux/arm64/v8", wantHex: "linux/arm64"},
		{name: "aarch64 alias", in: multi, want: "linux/aarch64", wantHex: "linux/arm64"},
		{name: "arm v7", in: multi, want: "linux/arm/v7", wantHex: "linux/arm/v7"},
		{name: "arm any variant", in: multi, want: "linux/arm", wantHex: "linux/arm/v7"},
		{name: "windows", in: multi, want: "windows/amd64", wantHex: "windows/amd64"},
		{name: "fallback first linux", in: []v1.Descriptor{desc("windows/amd64", img), desc("linux/s390x", img), desc("linux/ppc64le", img)}, wantHex: "linux/s390x"},
		{name: "only image without platform", in: []v1.Descriptor{{MediaType: img, Digest: v1.Hash{Algorithm: "sha256", Hex: "only"}}}, wantHex: "only"},
		{name: "none", in: multi, want: "linux/riscv64", wantErr: "no image for platform linux/riscv64; available: linux/arm/v7, linux/arm64, linux/amd64, windows/amd64"},
		{name: "no linux", in: []v1.Descriptor{desc("windows/amd64", img)}, wantErr: "no image for platform linux/amd64 (or any linux); available: windows/amd64"},
		{name: "only attestations", in: []v1.Descriptor{attest}, wantErr: "holds no image manifest"},
		{name: "bad platform", in: multi, want: "linux", wantErr: `invalid platform "linux"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := parsePlatform(tt.want)
			if err == nil {
				var d v1.Descriptor
				d, err = choosePlatform(tt.in, want)
				if err == nil && tt.wantErr == "" && d.Digest.Hex != tt.wantHex {
					t.Errorf("chose %s, want %s", d.Digest.Hex, tt.wantHex)
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRepoOf(t *testing.T) {
	for in, want := range map[string]string{
		"alpine":                              "alpine",
		"alpine:3.16":                         "alpine",
		"host:5000/team/app:1.0":              "host:5000/team/app",
		"host:5000/team/app@sha256:abc":       "host:5000/team/app",
		"host:5000/team/app:1.0@sha256:abc":   "host:5000/team/app",
		"127.0.0.1:5000/x":                    "127.0.0.1:5000/x",
		"docker.io/library/busybox:1.38-musl": "docker.io/library/busybox",
	} {
		if got := repoOf(in); got != want {
			t.Errorf("repoOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInvalidPlatformOption(t *testing.T) {
	_, err := Open(context.Background(), busyboxArchive, Options{Platform: "linux/amd64/v1/x"})
	if err == nil || !strings.Contains(err.Error(), "invalid platform") {
		t.Errorf("got %v", err)
	}
}
