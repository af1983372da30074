package source

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

const alpineArchive = "../../testdata/images/alpine-3.16.9.tar"

// compressFile writes src compressed with format ("gzip" or "zstd") to a
// new file in dir and returns its path.
func compressFile(t testing.TB, src, dir, format string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ext := map[string]string{"gzip": ".gz", "zstd": ".zst"}[format]
	dst := filepath.Join(dir, filepath.Base(src)+ext)
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var w io.WriteCloser
	switch format {
	case "gzip":
		w = gzip.NewWriter(out)
	case "zstd":
		w, err = zstd.NewWriter(out)
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown format %q", format)
	}
	if _, err := io.Copy(w, in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// opened is what must not change when an archive is compressed: the
// image's identity and the files of every layer.
type opened struct {
	Kind, Name, ManifestDigest, IndexDigest string
	RepoTags                                []string
	Layers                                  []string
	Files                                   []map[string]string
}

func openedOf(t *testing.T, img *Image) opened {
	t.Helper()
	o := opened{Kind: img.Kind, Name: img.Name, ManifestDigest: img.ManifestDigest, IndexDigest: img.IndexDigest,
		RepoTags: img.RepoTags, Layers: layerIDs(img)}
	for _, l := range img.Layers {
		files, _, err := walkLayer(t, l)
		if err != nil {
			t.Fatal(err)
		}
		o.Files = append(o.Files, files)
	}
	return o
}

// A gzip- or zstd-compressed archive (`docker save img | gzip`) opens like
// the plain one: same kind, digests, tags and layer contents, with or
// without a scheme. The decompressed copy lives in TMPDIR until Close.
func TestCompressedArchive(t *testing.T) {
	src := imageOf(t, "linux", "arm64", "v8",
		layerOf(t, file{name: "etc/os-release", body: "ID=debian\n"}),
		layerOf(t, file{name: "usr/bin/tool", body: "tool"}))
	tag, err := name.NewTag("registry.example/tools:2")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	written := filepath.Join(data, "tools.tar") // ggcr tarball writer: gzip layers
	if err := tarball.WriteToFile(written, tag, src); err != nil {
		t.Fatal(err)
	}
	saved := dockerSave(t, savedImage{tags: []string{"app:1"}, layers: [][]file{ // plain-tar layers
		{{name: "etc/os-release", body: "ID=alpine\n"}},
		{{name: "app/main", body: "binary"}, {name: "etc/.wh.os-release"}},
	}})

	tests := []struct {
		name, plain, scheme, platform string
	}{
		{name: "ggcr tarball", plain: written, platform: "linux/arm64"},
		{name: "ggcr tarball, docker-archive:", plain: written, scheme: "docker-archive:", platform: "linux/arm64"},
		{name: "docker save, plain layers", plain: saved},
		{name: "docker save, plain layers, docker-archive:", plain: saved, scheme: "docker-archive:"},
		{name: "alpine 3.16.9", plain: alpineArchive},
		{name: "alpine 3.16.9, docker-archive:", plain: alpineArchive, scheme: "docker-archive:"},
		{name: "busybox OCI archive", plain: busyboxArchive},
		{name: "busybox OCI archive, oci-archive:", plain: busyboxArchive, scheme: "oci-archive:"},
	}
	for _, tt := range tests {
		for _, format := range []string{"gzip", "zstd"} {
			t.Run(tt.name+" "+format, func(t *testing.T) {
				tmp := t.TempDir()
				t.Setenv("TMPDIR", tmp)
				opt := Options{Platform: tt.platform}
				plainImg, err := Open(context.Background(), tt.scheme+tt.plain, opt)
				if err != nil {
					t.Fatal(err)
				}
				want := openedOf(t, plainImg)
				if err := plainImg.Close(); err != nil {
					t.Fatal(err)
				}

				p := compressFile(t, tt.plain, t.TempDir(), format)
				img, err := Open(context.Background(), tt.scheme+p, opt)
				if err != nil {
					t.Fatal(err)
				}
				got := openedOf(t, img)
				if want.Name == tt.plain { // a name taken from the path
					want.Name = p
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("compressed %s differs from plain (-plain +compressed):\n%s", format, d)
				}
				if err := img.Close(); err != nil {
					t.Fatal(err)
				}
				if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
					t.Errorf("left in TMPDIR after Close: %v", ents)
				}
			})
		}
	}
}

// Compressed data that is not an image archive, or that is damaged, is an
// error naming the file, and leaves nothing behind.
func TestCompressedArchiveErrors(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	data := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(data, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tarOf(t, file{name: "etc/passwd", body: "root"})); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	notImage := write("rootfs.tar.gz", gz.Bytes())
	truncated := write("cut.tar.gz", gz.Bytes()[:gz.Len()/2])
	xz := write("img.tar.xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0, 0})

	tests := []struct{ ref, want string }{
		{ref: notImage, want: `"` + notImage + `" is neither a docker archive`},
		{ref: "docker-archive:" + notImage, want: `reading manifest.json of "` + notImage + `"`},
		{ref: truncated, want: `decompressing "` + truncated + `" (gzip): unexpected EOF`},
		{ref: "oci-archive:" + truncated, want: `decompressing "` + truncated + `" (gzip): unexpected EOF`},
		{ref: xz, want: `"` + xz + `" is xz-compressed, which drydock does not read: decompress it first (unxz)`},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img, err := Open(context.Background(), tt.ref, Options{})
			if err == nil {
				img.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left in TMPDIR: %v", ents)
			}
		})
	}
}

// gzipZeros returns a gzip stream of a docker archive whose layer is 4 GiB
// of zeros, built from repeated gzip members (cheap to write, slow to read).
func gzipZeros(t testing.TB, p string) {
	t.Helper()
	var buf bytes.Buffer
	member := func(b []byte) []byte {
		var m bytes.Buffer
		zw, err := gzip.NewWriterLevel(&m, gzip.BestSpeed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return m.Bytes()
	}
	// The header block of a 4 GiB entry, then 64 MiB members of zeros: the
	// stream is cancelled long before its end.
	var head bytes.Buffer
	if err := tar.NewWriter(&head).WriteHeader(&tar.Header{Name: "big/layer.tar", Mode: 0o644, Size: 4 << 30, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	buf.Write(member(head.Bytes()))
	zeros := member(make([]byte, 64<<20))
	for range 64 {
		buf.Write(zeros)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Cancelling ctx aborts decompressing a large compressed archive promptly
// and removes the partial copy.
func TestCompressedArchiveCancel(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := filepath.Join(t.TempDir(), "big.tar.gz")
	gzipZeros(t, p)
	for _, ref := range []string{p, "docker-archive:" + p, "oci-archive:" + p} {
		t.Run(ref, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			img, err := Open(ctx, ref, Options{})
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
}

// Options.TempDir holds the decompressed copy of a docker archive while the
// image is open (layers are read from it) and nothing after Close; TMPDIR
// is not used.
func TestCompressedArchiveTempDir(t *testing.T) {
	tmpdir := t.TempDir()
	t.Setenv("TMPDIR", tmpdir)
	tempDir := t.TempDir()
	p := compressFile(t, alpineArchive, t.TempDir(), "gzip")
	img, err := Open(context.Background(), p, Options{TempDir: tempDir})
	if err != nil {
		t.Fatal(err)
	}
	names := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	open := names(tempDir)
	if len(open) != 1 {
		t.Errorf("TempDir while open: %v, want one decompressed copy", open)
	}
	if got := names(tmpdir); len(got) != 0 {
		t.Errorf("TMPDIR while open: %v, want nothing", got)
	}
	files, _, err := walkLayer(t, img.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(files["/etc/alpine-release"], "3.16.9") {
		t.Errorf("/etc/alpine-release = %q", files["/etc/alpine-release"])
	}
	if err := img.Close(); err != nil {
		t.Fatal(err)
	}
	if got := names(tempDir); len(got) != 0 {
		t.Errorf("TempDir after Close: %v", got)
	}
}
