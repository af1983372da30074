package cache_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/cache"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// invalidUTF8Layers are the layers of an Alpine image whose package data
// and paths hold bytes that are not UTF-8, as a hostile or broken image can:
//   - layer 0: the real Alpine 3.16.9 os-release, an apk database with a
//     package whose name, version, licence, maintainer and owned file hold
//     \xff / \xfe, a package.json under that file's path (owned by it), one
//     in a directory named with \xff that layer 1 deletes, and a secret in a
//     file named with \xff that layer 1 replaces;
//   - layer 1: the whiteout, the replacement, and a package.json with
//     invalid bytes in its name and version, owned by the apk package of
//     layer 0.
func invalidUTF8Layers(t *testing.T) []testimage.Layer {
	t.Helper()
	osRelease, err := os.ReadFile(filepath.Join("..", "extract", "osrelease", "testdata", "alpine-3.16.9", "etc", "os-release"))
	if err != nil {
		t.Fatal(err)
	}
	installed := "P:musl\nV:1.2.3-r3\nA:x86_64\nL:MIT\no:musl\n\n" +
		"P:bad\xffpkg\nV:1.0\xfe-r0\nA:x86_64\nL:MIT \xff\xfe AND BSD\no:bad\xffpkg\nm:Ma\xffint <m@example.org>\n" +
		"F:usr/lib/node_modules/own\xff\nR:package.json\n\n"
	key := "AKIA" + strings.Repeat("Q", 16)
	return []testimage.Layer{
		{CreatedBy: "ADD rootfs /", Files: map[string][]byte{
			"etc/os-release":                            osRelease,
			"lib/apk/db/installed":                      []byte(installed),
			"usr/lib/node_modules/own\xff/package.json": []byte(`{"name":"own","version":"2.0.0"}`),
			"srv/old\xff/package.json":                  []byte(`{"name":"old","version":"1.0.0"}`),
			"etc/app\xff.env":                           []byte("AWS_ACCESS_KEY_ID=" + key + "\n"),
		}},
		{CreatedBy: "RUN update", Files: map[string][]byte{
			"srv/old\xff/package.json":                  testimage.Whiteout,
			"etc/app\xff.env":                           []byte("nothing here\n"),
			"usr/lib/node_modules/own\xff/package.json": []byte("{\"name\":\"o\xffwn\",\"version\":\"2.0.0\xfe\"}"),
		}},
	}
}

// ociLayout writes the image made of layers as an OCI layout and returns
// the scan reference.
func ociLayout(t *testing.T, layers ...testimage.Layer) string {
	t.Helper()
	img, err := testimage.Build(testimage.Config{}, layers...)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if err := testimage.WriteOCILayout(dir, "bad:1", img); err != nil {
		t.Fatal(err)
	}
	return "oci:" + dir
}

// reportBytes scans ref and encodes the report as JSON and as CycloneDX
// (where package IDs are the bom-refs).
func reportBytes(t *testing.T, ref string, parallel int, c scan.LayerCache) []byte {
	t.Helper()
	sec, err := secret.Default()
	if err != nil {
		t.Fatal(err)
	}
	res, err := scan.Run(context.Background(), scan.Config{Reference: ref, Parallel: parallel, Cache: c, Secrets: sec, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rep := report.New(res, nil, report.Tool{Name: "drydock", Version: "test"}, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	if err := writer.JSON(&buf, rep, writer.Options{}); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("\n----\n")
	if err := writer.CycloneDX(&buf, rep, writer.Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func openCache(t *testing.T, dir string) *counting {
	t.Helper()
	c, err := cache.Open(dir, cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &counting{LayerCache: c}
}

// TestInvalidUTF8SameReportWhateverTheCache: bytes that are not UTF-8 in
// package data and paths give the same report, byte for byte, whether the
// layers were walked or read from the cache (whose JSON cannot hold such
// bytes), all of them or some, and whatever the parallelism.
func TestInvalidUTF8SameReportWhateverTheCache(t *testing.T) {
	layers := invalidUTF8Layers(t)
	ref := ociLayout(t, layers...)
	want := reportBytes(t, ref, 1, nil)
	if !utf8.Valid(want) {
		t.Fatal("the report is not valid UTF-8")
	}
	// The scan saw what the test planted.
	for _, s := range []string{"\"bad\ufffdpkg\"", "\"1.0\ufffd-r0\"", "\"o\ufffdwn\"", "\"2.0.0\ufffd\"", "/usr/lib/node_modules/own\ufffd/package.json",
		`"owner": "`, `"AWS_ACCESS_KEY_ID=`, `"deleted_in_layer": 1`} {
		if !bytes.Contains(want, []byte(s)) {
			t.Errorf("report lacks %q", s)
		}
	}
	if bytes.Contains(want, []byte(`"old"`)) {
		t.Error("report lists the package.json that layer 1 deleted")
	}

	check := func(name string, got []byte) {
		t.Helper()
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s: report differs from the uncached one with --parallel 1 (-want +got):\n%s", name, diff)
		}
	}
	check("no cache, parallel 8", reportBytes(t, ref, 8, nil))

	dir := t.TempDir()
	cold := openCache(t, dir)
	check("cold cache, parallel 8", reportBytes(t, ref, 8, cold))
	if h, p := cold.hits.Load(), cold.puts.Load(); h != 0 || p != 2 {
		t.Errorf("cold cache: %d hits, %d puts; want 0, 2", h, p)
	}
	for _, par := range []int{1, 8} {
		warm := openCache(t, dir)
		check(fmt.Sprintf("warm cache, parallel %d", par), reportBytes(t, ref, par, warm))
		if h, m := warm.hits.Load(), warm.misses.Load(); h != 2 || m != 0 {
			t.Errorf("warm cache, parallel %d: %d hits, %d misses; want 2, 0", par, h, m)
		}
	}

	// Layer 0 from the cache (warmed by an image made of it alone), layer
	// 1 walked: raw bytes meet the cache's replacement characters.
	dir = t.TempDir()
	base := ociLayout(t, layers[0])
	reportBytes(t, base, 1, openCache(t, dir))
	half := openCache(t, dir)
	check("layer 0 cached, layer 1 walked", reportBytes(t, ref, 8, half))
	if h, m := half.hits.Load(), half.misses.Load(); h != 1 || m != 1 {
		t.Errorf("half-warm cache: %d hits, %d misses; want 1, 1", h, m)
	}
}
