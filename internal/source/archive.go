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
	"io/fs"
	"os"
	"path"
	"strings"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// tarEntry is a regular file inside a tar archive.
type tarEntry struct {
	size int64
}

// cleanTarName normalises an entry name: "./blobs/x" → "blobs/x".
func cleanTarName(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

// scanTar lists the regular files of the plain tar at p (cleaned names),
// reading only headers: the contents are skipped by seeking. name is the
// archive as the user gave it, for errors (p may be a decompressed copy).
func scanTar(ctx context.Context, p, name string) (map[string]tarEntry, error) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missingPath(name, err)
		}
		return nil, err
	}
	defer f.Close()
	entries := map[string]tarEntry{}
	tr := tar.NewReader(f)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar %q: %w", name, err)
		}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
			entries[cleanTarName(hdr.Name)] = tarEntry{size: hdr.Size}
		}
	}
	return entries, nil
}

// sniffArchive detects the kind of the plain tar at p (name as given):
// docker-archive (manifest.json) or oci-archive (oci-layout).
func sniffArchive(ctx context.Context, p, name string) (string, error) {
	entries, err := scanTar(ctx, p, name)
	if err != nil {
		return "", fmt.Errorf("detecting the kind of %q: %w", name, err)
	}
	if _, ok := entries["manifest.json"]; ok {
		return KindDockerArchive, nil
	}
	if _, ok := entries["oci-layout"]; ok {
		return KindOCIArchive, nil
	}
	return "", fmt.Errorf("%q is neither a docker archive (no manifest.json) nor an OCI archive (no oci-layout)", name)
}

// splitPathSelector splits "PATH:SEL" (docker-archive:PATH:TAG, oci:DIR:TAG).
// Both may hold colons, and the selector slashes too
// (localhost:5000/team/app:1), so the split is decided by what exists: the
// whole string if it exists (a colon in a file name wins), else the longest
// existing prefix that ends before a colon; when nothing exists, PATH ends at
// the first colon (the error will then name it as missing).
func splitPathSelector(s string) (p, sel string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	for i := strings.LastIndex(s, ":"); i > 0; i = strings.LastIndex(s[:i], ":") {
		if _, err := os.Stat(s[:i]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	if i := strings.Index(s, ":"); i > 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// openDockerArchive opens a `docker save` tarball in place (ggcr's tarball
// package reads entries by seeking), or a decompressed copy of a compressed
// one. PATH:TAG chooses among several images.
func openDockerArchive(ctx context.Context, ref string, want *platform, archives *archiveFiles) (*Image, error) {
	img, err := openDockerArchiveCtx(ctx, ref, want, archives)
	return img, withCtxErr(ctx, err)
}

func openDockerArchiveCtx(ctx context.Context, ref string, want *platform, archives *archiveFiles) (*Image, error) {
	p, tagStr := splitPathSelector(ref)
	plain, entries, err := listDockerArchive(ctx, p, archives)
	if err != nil {
		var missing *missingError
		if errors.As(err, &missing) {
			return nil, err
		}
		return nil, fmt.Errorf("opening docker archive: %w", err)
	}
	// ggcr reads the archive through opener: during Open (manifest.json, the
	// config, and hashing every compressed layer to compute the manifest)
	// those reads honour ctx; later layer reads honour the ctx given to
	// Layer.Open instead.
	scope := newOpenScope(ctx)
	defer scope.end()
	opener := func() (io.ReadCloser, error) {
		f, err := os.Open(plain)
		if err != nil {
			return nil, err
		}
		return &scopedFile{f: f, scope: scope}, nil
	}
	mf, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("reading manifest.json of %q: %w", p, err)
	}
	var tag *name.Tag
	if tagStr != "" {
		t, err := name.NewTag(tagStr)
		if err != nil {
			return nil, fmt.Errorf("parsing tag %q: %w", tagStr, err)
		}
		tag = &t
	} else if len(mf) > 1 {
		var tags []string
		for _, d := range mf {
			tags = append(tags, d.RepoTags...)
		}
		return nil, fmt.Errorf("docker archive %q holds %d images: choose one with docker-archive:%s:TAG (tags: %s)", p, len(mf), p, strings.Join(tags, ", "))
	}
	img, err := tarball.Image(opener, tag)
	if err != nil {
		return nil, fmt.Errorf("reading docker archive %q: %w", p, err)
	}
	var desc tarball.Descriptor
	for _, d := range mf {
		if tag == nil || hasTag(d.RepoTags, *tag) {
			desc = d
			break
		}
	}
	if err := checkConfigName(img, desc.Config); err != nil {
		return nil, fmt.Errorf("reading docker archive %q: %w", p, err)
	}

	compressed, err := firstLayerCompressed(ctx, plain, desc)
	if err != nil {
		return nil, fmt.Errorf("reading docker archive %q: %w", p, err)
	}
	var out *Image
	if compressed {
		// The manifest is computed by hashing the compressed layers.
		out, err = fromV1(img, func(_ int, l v1.Layer) func(context.Context) (io.ReadCloser, error) {
			return compressedArchiveOpener(l, -1)
		})
	} else {
		out, err = uncompressedDockerArchive(img, desc, entries)
	}
	if err != nil {
		return nil, fmt.Errorf("reading docker archive %q: %w", p, err)
	}
	if err := checkPlatform(out, want); err != nil {
		return nil, fmt.Errorf("%q: %w", p, err)
	}
	if tag != nil {
		out.Ref = *tag
	}
	out.Name = p
	out.RepoTags = sortedUnique(append([]string(nil), desc.RepoTags...))
	if len(out.RepoTags) > 0 {
		out.Name = repoOf(out.RepoTags[0])
	}
	return out, nil
}

// configDigestOf returns the digest a docker archive's config file name
// claims: "<hex>.json" (docker save: the image ID, the config's sha256),
// "blobs/sha256/<hex>" (docker 25+) or "sha256:<hex>" (go-containerregistry).
func configDigestOf(name string) (v1.Hash, bool) {
	name = cleanTarName(name)
	if h, ok := blobName(name); ok {
		return h, true
	}
	base := path.Base(name)
	for _, s := range []string{strings.TrimSuffix(base, ".json"), strings.TrimPrefix(base, "sha256:")} {
		if s == base {
			continue
		}
		if h, err := v1.NewHash("sha256:" + s); err == nil {
			return h, true
		}
	}
	return v1.Hash{}, false
}

// checkConfigName verifies the config of a docker archive against the
// digest its file name claims, if it claims one.
func checkConfigName(img v1.Image, name string) error {
	want, ok := configDigestOf(name)
	if !ok {
		return nil
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("reading manifest: %w", err)
	}
	if m.Config.Size > MaxConfigSize {
		return fmt.Errorf("image config %q is %d bytes, more than the %d drydock reads", name, m.Config.Size, MaxConfigSize)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("reading config %q: %w", name, err)
	}
	if err := verifyBytes(raw, v1.Descriptor{Digest: want, Size: int64(len(raw))}); err != nil {
		return fmt.Errorf("config %q: %w", name, err)
	}
	return nil
}

// listDockerArchive returns the plain tar of the archive at p (p itself or
// its decompressed copy) and its regular files.
func listDockerArchive(ctx context.Context, p string, archives *archiveFiles) (string, map[string]tarEntry, error) {
	plain, err := archives.plainTar(ctx, p)
	if err != nil {
		return "", nil, err
	}
	entries, err := scanTar(ctx, plain, p)
	return plain, entries, err
}

func hasTag(tags []string, want name.Tag) bool {
	for _, s := range tags {
		if t, err := name.NewTag(s); err == nil && t.Name() == want.Name() {
			return true
		}
	}
	return false
}

// firstLayerCompressed peeks at the first layer of desc.
func firstLayerCompressed(ctx context.Context, p string, desc tarball.Descriptor) (bool, error) {
	if len(desc.Layers) == 0 {
		return false, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	want := cleanTarName(desc.Layers[0])
	tr := tar.NewReader(f)
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return false, fmt.Errorf("layer %q not found in the archive", desc.Layers[0])
		}
		if err != nil {
			return false, err
		}
		if cleanTarName(hdr.Name) != want {
			continue
		}
		var magic [4]byte
		n, _ := io.ReadFull(tr, magic[:])
		m := magic[:n]
		return bytes.HasPrefix(m, []byte{0x1f, 0x8b}) || bytes.HasPrefix(m, []byte{0x28, 0xb5, 0x2f, 0xfd}), nil
	}
}

// compressedArchiveOpener streams a compressed layer as stored (walk
// decompresses it, once, with klauspost's gzip/zstd) and verifies the
// blob's digest as it is read. Decompressing here to check the DiffID would
// decompress every layer twice, with the slower standard-library gzip.
func compressedArchiveOpener(l v1.Layer, size int64) func(context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		digest, err := l.Digest()
		if err != nil {
			return nil, err
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		return newVerifyReader(rc, digest, size, "digest"), nil
	}
}

// dockerArchiveOpener streams a plain-tar layer and verifies its DiffID.
func dockerArchiveOpener(l v1.Layer, size int64) func(context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		diffID, err := l.DiffID()
		if err != nil {
			return nil, err
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		return newVerifyReader(rc, diffID, size, "diff_id"), nil
	}
}

// uncompressedDockerArchive describes an archive of plain-tar layers (what
// docker save writes) without hashing anything: docker save keeps no
// manifest, and ggcr would gzip every layer to synthesise one. The manifest
// here lists the layers as uncompressed blobs whose digests are their
// DiffIDs, as Docker does in its own OCI export.
func uncompressedDockerArchive(img v1.Image, desc tarball.Descriptor, entries map[string]tarEntry) (*Image, error) {
	if e, ok := entries[cleanTarName(desc.Config)]; ok && e.size > MaxConfigSize {
		return nil, fmt.Errorf("image config %q is %d bytes, more than the %d drydock reads", desc.Config, e.size, MaxConfigSize)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(desc.Layers) {
		return nil, fmt.Errorf("config lists %d diff_ids but manifest.json %d layers", len(cfg.RootFS.DiffIDs), len(desc.Layers))
	}
	m := &v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config: v1.Descriptor{
			MediaType: types.DockerConfigJSON,
			Size:      int64(len(rawCfg)),
			Digest:    v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(rawCfg))},
		},
	}
	hist := layerHistory(cfg, len(desc.Layers))
	out := &Image{
		OS:       cfg.OS,
		Arch:     cfg.Architecture,
		Variant:  cfg.Variant,
		Config:   cfg,
		Manifest: m,
		V1:       img,
	}
	for i, lp := range desc.Layers {
		e, ok := entries[cleanTarName(lp)]
		if !ok {
			return nil, fmt.Errorf("layer %q listed in manifest.json is not in the archive", lp)
		}
		diffID := cfg.RootFS.DiffIDs[i]
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.DockerUncompressedLayer, Size: e.size, Digest: diffID})
		l, err := img.LayerByDiffID(diffID)
		if err != nil {
			return nil, fmt.Errorf("finding layer %s: %w", diffID, err)
		}
		il := inventory.Layer{
			Index:     i,
			DiffID:    diffID.String(),
			Digest:    diffID.String(),
			MediaType: string(types.DockerUncompressedLayer),
			Size:      e.size,
		}
		if hist != nil {
			il.CreatedBy, il.Comment = hist[i].CreatedBy, hist[i].Comment
		}
		out.Layers = append(out.Layers, &Layer{Layer: il, open: dockerArchiveOpener(l, e.size)})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, errors.New("encoding the synthesised manifest")
	}
	out.ManifestDigest = fmt.Sprintf("sha256:%x", sha256.Sum256(raw))
	return out, nil
}

// openScope hands Open's ctx to the archive reads made while opening, and
// nothing after end: reads of an opened image run under the ctx of the call
// that makes them (Layer.Open), not the one that opened it.
type openScope struct {
	ctx atomic.Pointer[context.Context]
}

func newOpenScope(ctx context.Context) *openScope {
	s := &openScope{}
	s.ctx.Store(&ctx)
	return s
}

// err is the ctx's error while the scope lasts.
func (s *openScope) err() error {
	if ctx := s.ctx.Load(); ctx != nil {
		return (*ctx).Err()
	}
	return nil
}

func (s *openScope) end() { s.ctx.Store(nil) }

// scopedFile is an archive file whose reads and seeks fail once the scope's
// ctx is done. It keeps Seek so that tar readers still skip entries without
// reading them, and offers nothing else (no WriteTo that would bypass Read).
type scopedFile struct {
	f     *os.File
	scope *openScope
}

func (f *scopedFile) Read(p []byte) (int, error) {
	if err := f.scope.err(); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *scopedFile) Seek(off int64, whence int) (int64, error) {
	if err := f.scope.err(); err != nil {
		return 0, err
	}
	return f.f.Seek(off, whence)
}

func (f *scopedFile) Close() error { return f.f.Close() }

// withCtxErr makes an error caused by cancelling ctx match ctx.Err() with
// errors.Is, also where a library flattened the cause to text.
func withCtxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", err, cerr)
	}
	return err
}
