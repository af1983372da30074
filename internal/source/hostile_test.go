package source

// Hostile OCI layouts and archives (issue 13): configs and manifests that
// are not what their descriptors say, unreferenced giant entries, entries
// larger than their descriptors, cancellation of a long extraction.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// rawImage is an image as the blobs of a layout: its manifest, config and
// layer, and the index.json naming the manifest.
type rawImage struct {
	manifest, config, layer []byte
	index                   []byte
}

func sha(b []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
}

// newRawImage builds an image whose layer holds /etc/os-release with
// osRelease, and whose config says env.
func newRawImage(t testing.TB, osRelease, env string) rawImage {
	t.Helper()
	img := imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "etc/os-release", body: osRelease}))
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Env = []string{env}
	rawCfg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	layer, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	r := rawImage{config: rawCfg, layer: layer}
	r.setManifest(t, v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: sha(rawCfg), Size: int64(len(rawCfg))})
	return r
}

// setManifest writes the manifest naming config cfg and the layer, and the
// index.json naming that manifest.
func (r *rawImage) setManifest(t testing.TB, cfg v1.Descriptor) {
	t.Helper()
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg,
		Layers: []v1.Descriptor{{MediaType: types.OCILayer, Digest: sha(r.layer), Size: int64(len(r.layer))}}}
	var err error
	if r.manifest, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	r.setIndex(t, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: sha(r.manifest), Size: int64(len(r.manifest))})
}

func (r *rawImage) setIndex(t testing.TB, d v1.Descriptor) {
	t.Helper()
	var err error
	if r.index, err = json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{d}}); err != nil {
		t.Fatal(err)
	}
}

// entry is a file of a test archive.
type entry struct {
	name string
	body []byte
	// size > len(body): zeros up to size. As a regular entry the zeros are
	// a hole in the archive file (no disk space); with sparse, the entry is
	// a PAX (GNU 1.0) sparse file: a few bytes in the archive, whatever
	// its size.
	size   int64
	sparse bool
}

// entries are the files of the layout of r, blobs under their digests
// (blob overrides the content stored under a digest).
func (r rawImage) entries(override map[v1.Hash][]byte) []entry {
	blob := func(b []byte) entry {
		h := sha(b)
		if o, ok := override[h]; ok {
			b = o
		}
		return entry{name: "blobs/sha256/" + h.Hex, body: b}
	}
	return []entry{
		blob(r.layer), blob(r.config), blob(r.manifest),
		{name: "index.json", body: r.index},
		{name: "oci-layout", body: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
	}
}

// writeDir writes entries under a new directory.
func writeDir(t testing.TB, entries []entry) string {
	t.Helper()
	dir := t.TempDir()
	for _, e := range entries {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, e.body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rawHeader is a ustar header block.
func rawHeader(name string, size int64, typ byte) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], "00000000000\x00")
	b[156] = typ
	copy(b[257:265], "ustar\x0000")
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// paxRecord is one "LEN key=value\n" record.
func paxRecord(k, v string) string {
	rest := " " + k + "=" + v + "\n"
	n := len(rest) + 1
	for len(strconv.Itoa(n))+len(rest) != n {
		n = len(strconv.Itoa(n)) + len(rest)
	}
	return strconv.Itoa(n) + rest
}

func pad(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

// writeTar writes entries as a tar at p (gzip-compressed if gz), leaving
// the zeros of large regular entries as holes in the file.
func writeTar(t testing.TB, p string, gz bool, entries ...entry) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var w io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(f)
		w = zw
	}
	write := func(b []byte) {
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range entries {
		size := max(e.size, int64(len(e.body)))
		switch {
		case e.sparse:
			if len(e.body) == 0 {
				t.Fatal("a sparse entry needs a body")
			}
			// GNU sparse format 1.0 in PAX: the records name the file and
			// its real size; the data starts with the sparse map (one
			// fragment: the body at offset 0), the rest is a hole.
			recs := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
				paxRecord("GNU.sparse.name", e.name) + paxRecord("GNU.sparse.realsize", strconv.FormatInt(size, 10))
			write(rawHeader("PaxHeaders/"+filepath.Base(e.name), int64(len(recs)), tar.TypeXHeader))
			write(pad([]byte(recs)))
			sparseMap := pad([]byte(fmt.Sprintf("1\n0\n%d\n", len(e.body))))
			dir, base := filepath.Split(e.name)
			write(rawHeader(dir+"GNUSparseFile.0/"+base, int64(len(sparseMap)+len(e.body)), tar.TypeReg))
			write(sparseMap)
			write(pad(append([]byte(nil), e.body...)))
		case size > int64(len(e.body)) && !gz:
			write(rawHeader(e.name, size, tar.TypeReg))
			write(e.body)
			if _, err := f.Seek(size-int64(len(e.body))+(512-size%512)%512, io.SeekCurrent); err != nil {
				t.Fatal(err)
			}
		default:
			write(rawHeader(e.name, size, tar.TypeReg))
			write(e.body)
			write(make([]byte, size-int64(len(e.body))+(512-size%512)%512))
		}
	}
	write(make([]byte, 1024))
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// The PAX sparse writer makes what archive/tar reads as one large file.
func TestWriteTarSparse(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.tar")
	writeTar(t, p, false, entry{name: "blobs/sha256/x", body: []byte("head"), size: 1 << 20, sparse: true}, entry{name: "after", body: []byte("z")})
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var got []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %d %q", hdr.Name, len(b), b[:min(len(b), 4)]))
	}
	want := []string{`blobs/sha256/x 1048576 "head"`, `after 1 "z"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if fi, _ := os.Stat(p); fi.Size() > 8<<10 {
		t.Errorf("archive is %d bytes", fi.Size())
	}
}

// A config or manifest that is not what its descriptor says (digest or
// size) is an error naming the blob, in an OCI layout, an OCI archive and a
// docker archive whose config is named by its digest: before, the image
// was scanned with the substituted config, under the claimed digest.
func TestLayoutBlobsVerified(t *testing.T) {
	// Another image whose config is as long as good's, so that only its
	// digest gives it away.
	good := newRawImage(t, "ID=alpine\n", "A=1")
	other := newRawImage(t, "ID=debian\n", "B=2")
	if len(other.config) != len(good.config) {
		t.Fatalf("configs of %d and %d bytes", len(good.config), len(other.config))
	}

	// A manifest whose config descriptor has the right digest but a wrong
	// size.
	badSize := good
	badSize.setManifest(t, v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: sha(good.config), Size: int64(len(good.config)) + 1})
	// index.json naming the manifest with a wrong size.
	badIndexSize := good
	badIndexSize.setIndex(t, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: sha(good.manifest), Size: int64(len(good.manifest)) - 1})

	tests := []struct {
		name    string
		entries []entry
		want    []string // in the error
	}{
		{
			name:    "config swapped",
			entries: good.entries(map[v1.Hash][]byte{sha(good.config): other.config}),
			want:    []string{"config " + sha(good.config).String(), "hashes to " + sha(other.config).String()},
		},
		{
			name:    "manifest swapped",
			entries: good.entries(map[v1.Hash][]byte{sha(good.manifest): other.manifest}),
			want:    []string{"manifest " + sha(good.manifest).String(), "hashes to " + sha(other.manifest).String()},
		},
		{
			name:    "config size",
			entries: badSize.entries(nil),
			want:    []string{"config " + sha(good.config).String(), fmt.Sprintf("descriptor says %d", len(good.config)+1)},
		},
		{
			name:    "manifest size",
			entries: badIndexSize.entries(nil),
			want:    []string{"manifest " + sha(good.manifest).String(), fmt.Sprintf("descriptor says %d", len(good.manifest)-1)},
		},
	}
	for _, tt := range tests {
		for _, kind := range []string{"oci", "oci-archive", "oci-archive gzip"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				var ref string
				switch kind {
				case "oci":
					ref = "oci:" + writeDir(t, tt.entries)
				default:
					p := filepath.Join(t.TempDir(), "image.tar")
					writeTar(t, p, kind == "oci-archive gzip", tt.entries...)
					ref = "oci-archive:" + p
				}
				img, err := Open(context.Background(), ref, Options{TempDir: t.TempDir()})
				if err == nil {
					img.Close()
					t.Fatalf("opened with config env %v, want an error", img.Config.Config.Env)
				}
				for _, s := range tt.want {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
			})
		}
	}

	// The untouched image opens, from every kind of source.
	for _, kind := range []string{"oci", "oci-archive"} {
		ref := "oci:" + writeDir(t, good.entries(nil))
		if kind == "oci-archive" {
			p := filepath.Join(t.TempDir(), "image.tar")
			writeTar(t, p, false, good.entries(nil)...)
			ref = "oci-archive:" + p
		}
		img, err := Open(context.Background(), ref, Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if diff := cmp.Diff([]string{"A=1"}, img.Config.Config.Env); diff != "" {
			t.Errorf("%s: env (-want +got):\n%s", kind, diff)
		}
		img.Close()
	}
}

// A docker archive whose config file is named by its digest (docker save:
// <hex>.json, docker 25+: blobs/sha256/<hex>, go-containerregistry:
// sha256:<hex>) must hold that config.
func TestDockerArchiveConfigVerified(t *testing.T) {
	good := newRawImage(t, "ID=alpine\n", "A=1")
	other := newRawImage(t, "ID=debian\n", "EVIL=1")
	plainLayer := func() []byte {
		zr, err := gzip.NewReader(bytes.NewReader(good.layer))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	hexOf := sha(good.config).Hex
	tests := []struct {
		name, cfgName string
		content       []byte
		wantErr       bool
	}{
		{name: "docker save name", cfgName: hexOf + ".json", content: other.config, wantErr: true},
		{name: "OCI blob name", cfgName: "blobs/sha256/" + hexOf, content: other.config, wantErr: true},
		{name: "ggcr name", cfgName: "sha256:" + hexOf, content: other.config, wantErr: true},
		{name: "right content", cfgName: hexOf + ".json", content: good.config},
		{name: "no digest in the name", cfgName: "config.json", content: other.config},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mf, err := json.Marshal([]map[string]any{{"Config": tt.cfgName, "RepoTags": []string{"app:1"}, "Layers": []string{"layer.tar"}}})
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "docker.tar")
			writeTar(t, p, false,
				entry{name: "layer.tar", body: plainLayer},
				entry{name: tt.cfgName, body: tt.content},
				entry{name: "manifest.json", body: mf})
			img, err := Open(context.Background(), "docker-archive:"+p, Options{TempDir: t.TempDir()})
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				img.Close()
				return
			}
			if err == nil {
				img.Close()
				t.Fatalf("opened with config env %v, want an error", img.Config.Config.Env)
			}
			for _, s := range []string{"config", tt.cfgName, "hashes to " + sha(tt.content).String()} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// tempFiles lists the regular files under dir (relative, with the first
// path element, the extraction's random temp dir, cut) and their total
// size.
func tempFiles(t testing.TB, dir string) ([]string, int64) {
	t.Helper()
	var names []string
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += fi.Size()
		rel, _ := filepath.Rel(dir, p)
		if _, rest, ok := strings.Cut(filepath.ToSlash(rel), "/"); ok {
			rel = rest
		}
		names = append(names, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names, total
}

// An OCI archive is extracted only as far as index.json names it: a 4 GiB
// PAX-sparse blob (a few KB of archive), a 1 GiB regular entry and a small
// stray blob, none referenced, are skipped; the temp dir holds index.json,
// oci-layout and the image's three blobs. Before, everything was written
// out (5 GiB of zeros in TMPDIR).
func TestOCIArchiveExtractsOnlyReferenced(t *testing.T) {
	img := newRawImage(t, "ID=alpine\n", "A=1")
	stray := sha([]byte("stray"))
	junk := []entry{
		{name: "blobs/sha256/" + strings.Repeat("5", 64), body: []byte("sparse"), size: 4 << 30, sparse: true},
		{name: "blobs/sha256/" + stray.Hex, body: []byte("stray")},
		{name: "junk/big.bin", body: []byte("big"), size: 1 << 30},
	}
	want := []string{
		"blobs/sha256/" + sha(img.config).Hex,
		"blobs/sha256/" + sha(img.layer).Hex,
		"blobs/sha256/" + sha(img.manifest).Hex,
		"index.json",
		"oci-layout",
	}
	sort.Strings(want)
	tests := []struct {
		name    string
		gz      bool
		entries []entry
	}{
		// tar order puts blobs before index.json: the junk first, then
		// the image; and the other way round.
		{name: "junk first", entries: append(append([]entry(nil), junk...), img.entries(nil)...)},
		{name: "junk last", entries: append(img.entries(nil), junk...)},
		// Compressed, without the 1 GiB entry (gzip would have to write
		// it): the sparse one is still 4 GiB.
		{name: "gzip", gz: true, entries: append([]entry{junk[0], junk[1]}, img.entries(nil)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "image.tar")
			writeTar(t, p, tt.gz, tt.entries...)
			tmp := t.TempDir()
			start := time.Now()
			src, err := Open(context.Background(), "oci-archive:"+p, Options{TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Open took %v", took)
			}
			names, total := tempFiles(t, tmp)
			if diff := cmp.Diff(want, names); diff != "" {
				t.Errorf("extracted (-want +got):\n%s", diff)
			}
			if total > 64<<10 {
				t.Errorf("extracted %d bytes", total)
			}
			files, _, err := walkLayer(t, src.Layers[0])
			if err != nil {
				t.Fatal(err)
			}
			if files["/etc/os-release"] != "ID=alpine\n" {
				t.Errorf("/etc/os-release = %q", files["/etc/os-release"])
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if names, _ := tempFiles(t, tmp); len(names) != 0 {
				t.Errorf("left after Close: %v", names)
			}
		})
	}
}

// A referenced blob whose archive entry is larger (or smaller) than its
// descriptor is an error naming the blob, before anything is written past
// the descriptor's size; so is a manifest larger than drydock reads.
func TestOCIArchiveEntrySize(t *testing.T) {
	img := newRawImage(t, "ID=alpine\n", "A=1")
	layer, config := sha(img.layer), sha(img.config)
	bigManifest := img
	bigManifest.setIndex(t, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: sha([]byte("x")), Size: 64 << 20})
	tests := []struct {
		name    string
		entries []entry
		want    []string
	}{
		{
			name:    "layer entry larger",
			entries: img.entries(map[v1.Hash][]byte{layer: append(append([]byte(nil), img.layer...), make([]byte, 1000)...)}),
			want:    []string{"blob " + layer.String(), fmt.Sprintf("is %d bytes, its descriptor says %d", len(img.layer)+1000, len(img.layer))},
		},
		{
			name: "layer entry of 4 GiB, sparse",
			entries: append(img.entries(map[v1.Hash][]byte{layer: nil})[1:],
				entry{name: "blobs/sha256/" + layer.Hex, body: img.layer, size: 4 << 30, sparse: true}),
			want: []string{"blob " + layer.String(), fmt.Sprintf("is %d bytes, its descriptor says %d", int64(4<<30), len(img.layer))},
		},
		{
			name:    "layer entry smaller",
			entries: img.entries(map[v1.Hash][]byte{layer: img.layer[:len(img.layer)-1]}),
			want:    []string{"blob " + layer.String(), fmt.Sprintf("is %d bytes, its descriptor says %d", len(img.layer)-1, len(img.layer))},
		},
		{
			name:    "config entry larger",
			entries: img.entries(map[v1.Hash][]byte{config: append(append([]byte(nil), img.config...), ' ')}),
			want:    []string{"config " + config.String(), "its descriptor says"},
		},
		{
			name:    "manifest over the limit",
			entries: bigManifest.entries(nil),
			want:    []string{"manifest " + sha([]byte("x")).String(), "more than the 4194304 drydock reads"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "image.tar")
			writeTar(t, p, false, tt.entries...)
			tmp := t.TempDir()
			src, err := Open(context.Background(), "oci-archive:"+p, Options{TempDir: tmp})
			if err == nil {
				src.Close()
				t.Fatal("opened, want an error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if names, _ := tempFiles(t, tmp); len(names) != 0 {
				t.Errorf("left in TempDir: %v", names)
			}
		})
	}
}

// A large layer of an OCI archive costs no time to open: a plain archive's
// layers are read in place, not copied (before, Open copied 8 GiB, and a
// SIGINT a second in still took a while to stop, removing what was
// written). A layer that must be written (from a compressed archive, or a
// sparse entry) stops within a few hundred milliseconds of cancellation
// (ctx is checked before each 256 KiB chunk), leaving nothing in TempDir;
// and reading an in-place layer stops as promptly.
func TestOCIArchiveLargeLayerCancel(t *testing.T) {
	img := newRawImage(t, "ID=alpine\n", "A=1")
	// The manifest names an 8 GiB layer, stored sparse (or as a hole).
	const big = 8 << 30
	huge := img
	layer := sha([]byte("huge"))
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: sha(img.config), Size: int64(len(img.config))},
		Layers: []v1.Descriptor{{MediaType: types.OCILayer, Digest: layer, Size: big}}}
	var err error
	if huge.manifest, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	huge.setIndex(t, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: sha(huge.manifest), Size: int64(len(huge.manifest))})
	entries := func(sparse bool) []entry {
		return []entry{
			{name: "index.json", body: huge.index},
			{name: "blobs/sha256/" + sha(huge.manifest).Hex, body: huge.manifest},
			{name: "blobs/sha256/" + sha(img.config).Hex, body: img.config},
			{name: "blobs/sha256/" + layer.Hex, body: []byte("huge"), size: big, sparse: sparse},
		}
	}
	tests := []struct {
		name     string
		gz       bool
		sparse   bool
		cancelAt time.Duration
		inPlace  bool // Open succeeds before the cancel: the layer is read in place
	}{
		{name: "plain, SIGINT after 1s", cancelAt: time.Second, inPlace: true},
		{name: "plain, PAX sparse", sparse: true, cancelAt: 50 * time.Millisecond},
		{name: "gzip, PAX sparse", gz: true, sparse: true, cancelAt: 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "image.tar")
			writeTar(t, p, tt.gz, entries(tt.sparse)...)
			tmp := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(tt.cancelAt, cancel)
			start := time.Now()
			src, err := Open(ctx, "oci-archive:"+p, Options{TempDir: tmp})
			took := time.Since(start)
			if tt.inPlace {
				if err != nil {
					t.Fatalf("got %v after %v, want the image", err, took)
				}
				defer src.Close()
				if took > 500*time.Millisecond {
					t.Errorf("Open took %v", took)
				}
				if _, total := tempFiles(t, tmp); total > 64<<10 {
					t.Errorf("wrote %d bytes to TempDir", total)
				}
				// Reading the layer stops promptly when cancelled.
				rctx, rcancel := context.WithCancel(context.Background())
				defer rcancel()
				time.AfterFunc(50*time.Millisecond, rcancel)
				start := time.Now()
				err := readLayer(rctx, src)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("reading the layer: got %v, want context.Canceled", err)
				}
				if took := time.Since(start); took > 500*time.Millisecond {
					t.Errorf("reading the layer returned after %v, cancelled at 50ms", took)
				}
				return
			}
			if err == nil {
				src.Close()
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
			if took > tt.cancelAt+500*time.Millisecond {
				t.Errorf("Open returned %v after the start, cancelled at %v", took, tt.cancelAt)
			}
			if names, _ := tempFiles(t, tmp); len(names) != 0 {
				t.Errorf("left in TempDir: %v", names)
			}
		})
	}
}

// TestConfigSizeBounded: an image config over MaxConfigSize (one of 50 MB
// cost 570 MB of memory to scan) is refused, naming its size, from every
// source kind that carries a config.
func TestConfigSizeBounded(t *testing.T) {
	img, err := testimage.Build(testimage.Config{}, testimage.Layer{Files: map[string][]byte{"etc/motd": []byte("hi\n")}})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Labels = map[string]string{"huge": strings.Repeat("x", MaxConfigSize)}
	big, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	if err := testimage.WriteOCILayout(layout, "big", big); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "big.tar")
	if err := testimage.WriteDockerArchive(archive, "big:1", big); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"oci:" + layout, "docker-archive:" + archive} {
		img, err := Open(t.Context(), ref, Options{TempDir: t.TempDir()})
		if err == nil {
			img.Close()
			t.Errorf("%s: opened a config over %d bytes", ref, MaxConfigSize)
			continue
		}
		if !strings.Contains(err.Error(), "more than the 8388608 drydock reads") {
			t.Errorf("%s: %v", ref, err)
		}
	}
}
