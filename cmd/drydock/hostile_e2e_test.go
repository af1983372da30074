package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// alpineDiffID is the diff_id of the one layer of testdata/images/alpine-3.16.9.tar.
const alpineDiffID = "sha256:d4fc045c9e3a848011de66f34b81f052d4f2c15a17bb196d637e526349601820"

// TestCachePoisoning: an image whose only layer holds just etc/motd while its
// config claims the diff_id of the real Alpine 3.16.9 layer must not be
// scanned as that layer — nor cached under its diff_id, where the next scan of
// the real Alpine image would find 0 packages and pass.
func TestCachePoisoning(t *testing.T) {
	motd, err := testimage.TarOf(map[string][]byte{"etc/motd": []byte("welcome\n")})
	if err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(motd)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	h, err := v1.NewHash(alpineDiffID)
	if err != nil {
		t.Fatal(err)
	}
	cf.RootFS.DiffIDs = []v1.Hash{h}
	cf.OS, cf.Architecture = "linux", "amd64"
	forged, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(t.TempDir(), "layout")
	if err := testimage.WriteOCILayout(layoutDir, "forged", forged); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "forged.tar")
	if err := testimage.WriteDockerArchive(archive, "forged:1", forged); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	for name, ref := range map[string]string{"oci layout": "oci:" + layoutDir, "docker-archive": "docker-archive:" + archive} {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(t.Context(), []string{"--cache-dir", cache, "sbom", "--format", "json", ref}, nil, &out, &errb)
			if code != 3 || !strings.Contains(errb.String(), "diff_id") || !strings.Contains(errb.String(), alpineDiffID) {
				t.Errorf("forged layer: exit %d, want 3 naming the diff_id\n%s", code, errb.String())
			}
		})
	}
	// The real image, with the same cache, is scanned in full.
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"--cache-dir", cache, "sbom", "--format", "json", alpineImage}, nil, &out, &errb); code != 0 {
		t.Fatalf("real Alpine: exit %d\n%s", code, errb.String())
	}
	var rep report.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Packages) != 14 {
		t.Errorf("real Alpine after the forged scan: %d packages, want 14 (the cache was poisoned)", len(rep.Packages))
	}
}

// TestTruncatedLayerRecompressed: a layer cut at a tar header boundary and
// gzipped again has a valid blob digest but is not the layer its diff_id
// names: a scan error, not a smaller, complete-looking layer.
func TestTruncatedLayerRecompressed(t *testing.T) {
	full := gunzipFile(t, layerFromArchive(t, alpineImage))
	tr := tar.NewReader(bytes.NewReader(full))
	var cutAt int64
	for i := 0; i < 40; i++ {
		if _, err := tr.Next(); err != nil {
			t.Fatal(err)
		}
	}
	// The offset of the 41st header: everything before it is whole entries.
	cutAt = headerOffset(t, full, 40)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(full[:cutAt])
	zw.Close()
	dir := rawLayoutWithDiffID(t, gz.Bytes(), "application/vnd.oci.image.layer.v1.tar+gzip", alpineDiffID)
	res := drydock(t, "sbom", "--format", "json", "oci:"+dir)
	if res.code != 3 || !strings.Contains(res.stderr, "diff_id") {
		t.Errorf("truncated layer: exit %d, want 3 naming the diff_id\nstdout %.200s\nstderr %s", res.code, res.stdout, res.stderr)
	}
}

// headerOffset returns the byte offset of the n-th (0-based) tar header.
func headerOffset(t *testing.T, b []byte, n int) int64 {
	t.Helper()
	cr := &countingReader{r: bytes.NewReader(b)}
	tr := tar.NewReader(cr)
	var off int64
	for i := 0; i <= n; i++ {
		off = cr.n
		if _, err := tr.Next(); err != nil {
			t.Fatal(err)
		}
		if i < n {
			if _, err := io.Copy(io.Discard, tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	return off
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestExitCodeByErrorType: a layer whose entry is named like a usage message
// ("accepts x") before a corrupt header is a scan error (3), not a usage
// error (2).
func TestExitCodeByErrorType(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("x")
	tw.WriteHeader(&tar.Header{Name: "app/this layer accepts x", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write(body)
	tw.Flush()
	layer := append(buf.Bytes(), bytes.Repeat([]byte{0xff}, 512)...) // a corrupt header
	dir := rawLayout(t, layer, "application/vnd.oci.image.layer.v1.tar")
	res := drydock(t, "sbom", "oci:"+dir)
	if res.code != 3 {
		t.Errorf("exit %d, want 3 (scan error)\n%s", res.code, res.stderr)
	}
	for _, args := range [][]string{{"frobnicate"}, {"image"}, {"image", "--bogus", "x"}, {"sbom", "-f"}, {"image", "a", "b"}} {
		if res := drydock(t, args...); res.code != 2 {
			t.Errorf("drydock %v: exit %d, want 2 (usage)\n%s", args, res.code, res.stderr)
		}
	}
}

// TestTimeout: --timeout bounds the whole scan; running out of time is a
// scan error naming the flag, never a pass.
func TestTimeout(t *testing.T) {
	for _, args := range [][]string{
		{"--timeout", "1ms", "sbom", alpineImage},
		{"--timeout", "1ms", "image", "--db", testDB, alpineImage},
	} {
		res := drydock(t, args...)
		if res.code != 3 || !strings.Contains(res.stderr, "did not finish within 1ms (--timeout)") {
			t.Errorf("drydock %v: exit %d, want 3 naming --timeout\n%s", args, res.code, res.stderr)
		}
	}
	if res := drydock(t, "--timeout", "0", "sbom", alpineImage); res.code != 0 {
		t.Errorf("--timeout 0 (none): exit %d\n%s", res.code, res.stderr)
	}
}
