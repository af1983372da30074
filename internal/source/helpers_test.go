package source

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/walk"
)

// file is one entry of a test layer; an empty body with link set makes a symlink.
type file struct {
	name, body, link string
}

// tarOf builds a plain tar.
func tarOf(t testing.TB, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if f.link != "" {
			hdr = &tar.Header{Name: f.name, Mode: 0o777, Typeflag: tar.TypeSymlink, Linkname: f.link}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// layerOf makes a gzip layer from files.
func layerOf(t testing.TB, files ...file) v1.Layer {
	t.Helper()
	raw := tarOf(t, files...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// imageOf makes an image of the given platform from layers, with a history
// that has an empty_layer entry between every two layers.
func imageOf(t testing.TB, os, arch, variant string, layers ...v1.Layer) v1.Image {
	t.Helper()
	var adds []mutate.Addendum
	for i, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("RUN step %d", i)}})
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = os, arch, variant
	// Interleave empty-layer history entries (ENV, CMD…).
	var hist []v1.History
	for _, h := range cfg.History {
		hist = append(hist, v1.History{CreatedBy: "ENV X=1", EmptyLayer: true}, h)
	}
	cfg.History = append(hist, v1.History{CreatedBy: `CMD ["sh"]`, EmptyLayer: true})
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// walkLayer reads a layer through walk.Layer and returns every regular
// file's content by path.
func walkLayer(t testing.TB, l *Layer) (map[string]string, walk.Result, error) {
	t.Helper()
	ctx := context.Background()
	rc, err := l.Open(ctx)
	if err != nil {
		return nil, walk.Result{}, err
	}
	defer rc.Close()
	return walkLayerFrom(t, rc, nil)
}

// walkLayerFrom walks an opened layer stream.
func walkLayerFrom(t testing.TB, rc io.Reader, symlink func(p, target string)) (map[string]string, walk.Result, error) {
	t.Helper()
	ctx := context.Background()
	got := map[string]string{}
	res, err := walk.Layer(ctx, rc, walk.WantFunc(func(string, fs.FileMode, int64) bool { return true }),
		func(_ context.Context, p string, _ fs.FileMode, f extract.File) error {
			if f.Size() > 64<<10 {
				// Big binaries (busybox and its hundreds of hardlinks): note the size only.
				got[p] = fmt.Sprintf("<%d bytes>", f.Size())
				return nil
			}
			r, err := f.Open()
			if err != nil {
				return err
			}
			defer r.Close()
			b, err := io.ReadAll(r)
			got[p] = string(b)
			return err
		}, walk.Options{TempDir: t.TempDir(), Symlink: symlink})
	return got, res, err
}

// dockerSave writes a docker-save style archive (manifest.json, a config,
// plain-tar layers) and returns its path. Each image is given as its tags
// and its layers' files.
type savedImage struct {
	tags   []string
	layers [][]file
	// badDiffID replaces the first diff_id in the config.
	badDiffID bool
}

func dockerSave(t testing.TB, images ...savedImage) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	var mf []tarball.Descriptor
	for n, img := range images {
		cfg := v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}}
		var paths []string
		for i, files := range img.layers {
			raw := tarOf(t, files...)
			sum := sha256.Sum256(raw)
			p := fmt.Sprintf("%x/layer.tar", sum)
			add(p, raw)
			paths = append(paths, p)
			h := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}
			if img.badDiffID && i == 0 {
				h.Hex = fmt.Sprintf("%064x", 1)
			}
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, h)
			cfg.History = append(cfg.History,
				v1.History{CreatedBy: fmt.Sprintf("COPY layer %d", i)},
				v1.History{CreatedBy: "LABEL x=y", EmptyLayer: true})
		}
		cb, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cp := fmt.Sprintf("config-%d.json", n)
		add(cp, cb)
		mf = append(mf, tarball.Descriptor{Config: cp, RepoTags: img.tags, Layers: paths})
	}
	mb, err := json.Marshal(mf)
	if err != nil {
		t.Fatal(err)
	}
	add("manifest.json", mb)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "saved.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// untar extracts the regular files of the (trusted, test) plain tar at p
// into a new temp dir.
func untar(t testing.TB, p string) string {
	t.Helper()
	dst := t.TempDir()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return dst
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		target := filepath.Join(dst, filepath.FromSlash(cleanTarName(hdr.Name)))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// layerIDs summarises the layers of img for comparisons.
func layerIDs(img *Image) []string {
	var out []string
	for _, l := range img.Layers {
		out = append(out, fmt.Sprintf("%d %s %s %s", l.Index, l.DiffID, l.Digest, l.CreatedBy))
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func digestOf(t testing.TB, img interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}
