// Package testimage builds container images for tests and fixtures from
// real root filesystem tarballs and in-memory files, with
// go-containerregistry (no Docker daemon).
package testimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is one layer to build: a tar stream (plain or compressed) read from
// a file, or files given in memory, and the Dockerfile step behind it.
type Layer struct {
	// TarPath is a tarball (gzip, xz is not supported by go-containerregistry:
	// convert first) used as the layer.
	TarPath string
	// Files are written as a tar in path order; a value of nil writes a
	// whiteout for that path, and a path ending in "/" is a directory.
	Files map[string][]byte
	// Tar is a ready tar stream (uncompressed).
	Tar []byte
	// CreatedBy is recorded in the image history.
	CreatedBy string
}

// Whiteout marks a deletion in Layer.Files.
var Whiteout []byte = nil

// Config is the image config to set.
type Config struct {
	OS, Arch string
	v1.Config
	// EmptySteps are history entries without a layer, added after the layer steps.
	EmptySteps []string
}

// Build assembles an image from layers.
func Build(cfg Config, layers ...Layer) (v1.Image, error) {
	img := empty.Image
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := time.Date(2024, 1, 26, 0, 0, 0, 0, time.UTC)
	for i, l := range layers {
		var (
			lay v1.Layer
			err error
		)
		switch {
		case l.TarPath != "":
			lay, err = tarball.LayerFromFile(l.TarPath, tarball.WithMediaType(types.OCILayer))
		case l.Tar != nil:
			b := l.Tar
			lay, err = tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, tarball.WithMediaType(types.OCILayer))
		default:
			b, terr := TarOf(l.Files)
			if terr != nil {
				return nil, terr
			}
			lay, err = tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, tarball.WithMediaType(types.OCILayer))
		}
		if err != nil {
			return nil, fmt.Errorf("building layer %d: %w", i, err)
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: lay, History: v1.History{
			CreatedBy: l.CreatedBy, Created: v1.Time{Time: created.Add(time.Duration(i) * time.Minute)},
		}})
		if err != nil {
			return nil, fmt.Errorf("appending layer %d: %w", i, err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = cfg.OS, cfg.Arch
	if cf.OS == "" {
		cf.OS = "linux"
	}
	if cf.Architecture == "" {
		cf.Architecture = "amd64"
	}
	cf.Config = cfg.Config
	cf.Created = v1.Time{Time: created}
	for _, s := range cfg.EmptySteps {
		cf.History = append(cf.History, v1.History{CreatedBy: s, EmptyLayer: true, Created: v1.Time{Time: created}})
	}
	return mutate.ConfigFile(img, cf)
}

// TarOf writes files as an uncompressed tar, in path order. A nil value is
// a whiteout (".wh.<name>"); a key ending in "/" a directory; a key ending
// in "/.wh..wh..opq" an opaque-directory marker.
func TarOf(files map[string][]byte) ([]byte, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range paths {
		data := files[p]
		hdr := &tar.Header{Name: p, Mode: 0o644, ModTime: mt, Typeflag: tar.TypeReg, Size: int64(len(data))}
		switch {
		case p[len(p)-1] == '/':
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		case data == nil:
			dir, base := splitPath(p)
			hdr.Name = dir + ".wh." + base
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeReg && len(data) > 0 {
			if _, err := tw.Write(data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func splitPath(p string) (dir, base string) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i+1], p[i+1:]
		}
	}
	return "", p
}

// WriteDockerArchive writes img as a "docker save" tar with the given tag.
func WriteDockerArchive(path, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := tarball.Write(ref, img, f); err != nil {
		f.Close()
		return fmt.Errorf("writing docker archive %s: %w", path, err)
	}
	return f.Close()
}

// WriteOCILayout writes img into an OCI image layout directory, tagged.
func WriteOCILayout(dir, tag string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("creating layout %s: %w", dir, err)
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}))
}

// SparseTar returns an uncompressed tar of one file in the old GNU sparse
// format (type 'S'): data at offset 0, then a hole up to size bytes. The
// layer holds len(data) bytes of content however large size is (a disk
// image, a database file preallocated with holes), which Go's tar writer
// cannot write.
func SparseTar(name string, mode, size int64, data []byte) []byte {
	hdr := make([]byte, 512)
	octal := func(off, width int, v int64) { copy(hdr[off:off+width], fmt.Sprintf("%0*o\x00", width-1, v)) }
	copy(hdr[0:100], name)
	octal(100, 8, mode)
	octal(108, 8, 0)
	octal(116, 8, 0)
	octal(124, 12, int64(len(data))) // bytes stored in the archive
	octal(136, 12, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	hdr[156] = tar.TypeGNUSparse
	copy(hdr[257:265], "ustar  \x00") // GNU magic and version
	octal(386, 12, 0)                 // sparse map: one region at offset 0
	octal(398, 12, int64(len(data)))  // of len(data) bytes
	octal(483, 12, size)              // the file's real size
	copy(hdr[148:156], "        ")
	sum := 0
	for _, b := range hdr {
		sum += int(b)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	var buf bytes.Buffer
	buf.Write(hdr)
	buf.Write(data)
	buf.Write(make([]byte, (512-len(data)%512)%512))
	buf.Write(make([]byte, 1024)) // end of archive
	return buf.Bytes()
}
