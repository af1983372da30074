package source

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Bounds of what an OCI layout's JSON may make drydock read into memory.
const (
	// maxManifestSize bounds index.json, indexes and manifests (what
	// registries accept: Docker Hub and distribution refuse larger ones).
	maxManifestSize = 4 << 20
	// maxLayoutFileSize bounds the oci-layout file.
	maxLayoutFileSize = 64 << 10
	// maxHeldBlobs bounds the small blobs held in memory while reading an
	// archive, before index.json or the manifests say whether they are
	// needed (they save passes over the archive); maxHeldBlob is the
	// largest blob held.
	maxHeldBlobs = 16 << 20
	maxHeldBlob  = 1 << 20
	// copyChunk is the unit of copying out of an archive: ctx is checked
	// before each.
	copyChunk = 256 << 10
)

// blobRole is why a blob of an OCI archive is wanted.
type blobRole int

const (
	// roleManifest: named by an index's manifests, so a manifest or an
	// index, parsed for the blobs it names in turn. Verified (digest and
	// size) before it is parsed.
	roleManifest blobRole = iota + 1
	// roleConfig: a manifest's config, copied and verified (digest and
	// size) as it is copied.
	roleConfig
	// roleLayer: a layer (or any other blob a manifest names), copied,
	// bounded by its descriptor's size; its digest is verified when the
	// layer is read, not twice.
	roleLayer
)

// String names the role in errors.
func (r blobRole) String() string {
	switch r {
	case roleManifest:
		return "manifest"
	case roleConfig:
		return "config"
	}
	return "blob"
}

// wantedBlob is a blob some descriptor names.
type wantedBlob struct {
	desc  v1.Descriptor
	role  blobRole
	depth int // of index nesting, for roleManifest
}

// ociExtraction writes the parts of an OCI archive that its index.json
// names, directly or through the indexes and manifests it names, into a
// directory: index.json, oci-layout and blobs/<alg>/<hex> of each
// descriptor, nothing else. Each blob must be exactly its descriptor's
// size; manifests, indexes and configs must also hash to their digests. In
// a plain tar, layers are not copied but read in place later (inPlace):
// only the JSON is written. An archive lists its entries in no useful order
// (tar writes blobs/ before index.json), so the archive is read in passes
// until no wanted blob is found; a plain tar is read by seeking over
// unwanted entries, a compressed one is decompressed per pass. Small blobs
// seen before anything names them are held in memory (up to maxHeldBlobs),
// which makes one pass enough for most archives.
type ociExtraction struct {
	src  string // the archive: plain tar, gzip or zstd
	name string // the archive as the user gave it, for errors
	dst  string

	inPlace map[v1.Hash]section // layers of a plain tar, read from the archive

	index, layout bool
	wanted        map[v1.Hash]wantedBlob
	written       map[v1.Hash]blobRole
	held          map[v1.Hash][]byte
	heldBytes     int64
	changes       int // blobs wanted or written: a pass that changes nothing ends the passes
}

// section is a byte range of an archive file.
type section struct{ off, size int64 }

// archiveLayers are the layers of a plain OCI archive read in place.
type archiveLayers struct {
	path     string
	sections map[v1.Hash]section
}

// open returns the layer h read from the archive; ok is false if it is not
// in place.
func (a *archiveLayers) open(h v1.Hash) (rc io.ReadCloser, ok bool, err error) {
	if a == nil {
		return nil, false, nil
	}
	s, ok := a.sections[h]
	if !ok {
		return nil, false, nil
	}
	f, err := os.Open(a.path)
	if err != nil {
		return nil, true, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, s.off, s.size), f}, true, nil
}

// extractOCIArchive extracts what the OCI archive at src references into dst
// (see ociExtraction) and returns the layers left in place in src.
// Cancelling ctx stops it within a read of copyChunk.
func extractOCIArchive(ctx context.Context, src, name, dst string) (*archiveLayers, error) {
	x := &ociExtraction{src: src, name: name, dst: dst, inPlace: map[v1.Hash]section{},
		wanted: map[v1.Hash]wantedBlob{}, written: map[v1.Hash]blobRole{}, held: map[v1.Hash][]byte{}}
	if err := x.run(ctx); err != nil {
		return nil, err
	}
	return &archiveLayers{path: src, sections: x.inPlace}, nil
}

func (x *ociExtraction) run(ctx context.Context) error {
	// Each pass that finds a wanted blob may name more (an index its
	// manifests, a manifest its config and layers); nesting is bounded by
	// maxIndexDepth, so the passes are too.
	for pass := 0; pass < maxIndexDepth+4; pass++ {
		before := x.changes
		if err := x.pass(ctx); err != nil {
			return err
		}
		if !x.index {
			return fmt.Errorf("no index.json in OCI archive %q", x.name)
		}
		if len(x.wanted) == 0 || x.changes == before {
			// Blobs still wanted are not in the archive: opening the
			// layout reports the ones the chosen image needs (an archive
			// may hold one platform of several).
			return nil
		}
		// The next pass reads everything again.
		x.held, x.heldBytes = map[v1.Hash][]byte{}, 0
	}
	return nil
}

// pass reads the archive once, writing every wanted entry it meets.
func (x *ociExtraction) pass(ctx context.Context) error {
	r, closeFn, err := x.openArchive(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	seekable, _ := r.(*ctxFile)
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return withCtxErr(ctx, fmt.Errorf("reading tar %q: %w", x.name, err))
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue
		}
		switch name := cleanTarName(hdr.Name); name {
		case "oci-layout":
			if x.layout {
				continue
			}
			b, err := readBounded(ctx, tr, hdr.Size, maxLayoutFileSize, name)
			if err != nil {
				return err
			}
			if err := x.writeFile(ctx, name, bytes.NewReader(b), int64(len(b))); err != nil {
				return err
			}
			x.layout = true
		case "index.json":
			if x.index {
				continue
			}
			b, err := readBounded(ctx, tr, hdr.Size, maxManifestSize, name)
			if err != nil {
				return err
			}
			var idx v1.IndexManifest
			if err := json.Unmarshal(b, &idx); err != nil {
				return fmt.Errorf("parsing index.json: %w", err)
			}
			if err := x.writeFile(ctx, name, bytes.NewReader(b), int64(len(b))); err != nil {
				return err
			}
			x.index = true
			for _, d := range idx.Manifests {
				if err := x.want(ctx, wantedBlob{desc: d, role: roleManifest}); err != nil {
					return err
				}
			}
		default:
			h, ok := blobName(name)
			if !ok {
				continue
			}
			w, ok := x.wanted[h]
			if !ok {
				if _, done := x.written[h]; !done && hdr.Size <= maxHeldBlob && x.heldBytes+hdr.Size <= maxHeldBlobs && x.held[h] == nil {
					b, err := readBounded(ctx, tr, hdr.Size, maxHeldBlob, name)
					if err != nil {
						return err
					}
					x.held[h] = b
					x.heldBytes += int64(len(b))
				}
				continue
			}
			if hdr.Size != w.desc.Size {
				return fmt.Errorf("%s %s: the archive entry %q is %d bytes, its descriptor says %d", w.role, h, hdr.Name, hdr.Size, w.desc.Size)
			}
			if w.role == roleLayer && seekable != nil && !isSparse(hdr) {
				// tar reads no further than the header: the data starts
				// here, contiguous.
				off, err := seekable.f.Seek(0, io.SeekCurrent)
				if err != nil {
					return err
				}
				x.inPlace[h] = section{off: off, size: hdr.Size}
				delete(x.wanted, h)
				x.written[h] = roleLayer
				x.changes++
				continue
			}
			if err := x.extract(ctx, w, tr); err != nil {
				return err
			}
		}
	}
}

// openArchive opens the archive as a plain tar stream: the file itself
// (seekable, so that unwanted entries are skipped without reading them) or
// a decompressor. Reads and seeks fail once ctx is done.
func (x *ociExtraction) openArchive(ctx context.Context) (io.Reader, func() error, error) {
	ts, err := openTarStream(ctx, x.src)
	if err != nil {
		return nil, nil, err
	}
	if ts.format != "" {
		return ts, ts.Close, nil
	}
	ts.Close()
	f, err := os.Open(x.src)
	if err != nil {
		return nil, nil, err
	}
	return &ctxFile{ctx: ctx, f: f}, f.Close, nil
}

// want records that a descriptor names a blob. A blob already held in
// memory is extracted at once.
func (x *ociExtraction) want(ctx context.Context, w wantedBlob) error {
	h := w.desc.Digest
	if h.Hex == "" {
		return nil
	}
	if _, err := newHasher(h); err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	if role, done := x.written[h]; done {
		if w.role >= role {
			return nil
		}
		// Written as a layer (or config), now named as a manifest (or a
		// config) too: verify, and parse, the copy.
		if s, ok := x.inPlace[h]; ok {
			delete(x.inPlace, h)
			f, err := os.Open(x.src)
			if err != nil {
				return err
			}
			defer f.Close()
			x.wanted[h] = w
			return x.extract(ctx, w, io.NewSectionReader(f, s.off, s.size))
		}
		x.written[h] = w.role
		if w.role == roleConfig {
			return verifyBlob(ctx, x.dst, w.desc, "config", 0)
		}
		if err := verifyBlob(ctx, x.dst, w.desc, "manifest", maxManifestSize); err != nil {
			return err
		}
		b, err := os.ReadFile(x.blobPath(h))
		if err != nil {
			return err
		}
		return x.follow(ctx, w, b)
	}
	if prev, ok := x.wanted[h]; ok {
		if prev.desc.Size != w.desc.Size {
			return fmt.Errorf("blob %s: descriptors give it sizes %d and %d", h, prev.desc.Size, w.desc.Size)
		}
		if prev.role <= w.role {
			return nil
		}
	}
	x.wanted[h] = w
	x.changes++
	if b, ok := x.held[h]; ok {
		delete(x.held, h)
		x.heldBytes -= int64(len(b))
		if int64(len(b)) != w.desc.Size {
			return fmt.Errorf("%s %s: the archive entry is %d bytes, its descriptor says %d", w.role, h, len(b), w.desc.Size)
		}
		return x.extract(ctx, w, bytes.NewReader(b))
	}
	return nil
}

// extract writes the wanted blob w from r (exactly w.desc.Size bytes) and,
// for a manifest or an index, verifies it and wants what it names.
func (x *ociExtraction) extract(ctx context.Context, w wantedBlob, r io.Reader) error {
	h := w.desc.Digest
	delete(x.wanted, h)
	if w.role != roleManifest {
		if err := x.writeBlob(ctx, w.desc, r, w.role == roleConfig); err != nil {
			return fmt.Errorf("%s %s: %w", w.role, h, err)
		}
		x.written[h] = w.role
		x.changes++
		return nil
	}
	b, err := readBounded(ctx, r, w.desc.Size, maxManifestSize, "manifest "+h.String())
	if err != nil {
		return err
	}
	if err := verifyBytes(b, w.desc); err != nil {
		return fmt.Errorf("manifest %s: %w", h, err)
	}
	if err := x.writeFile(ctx, x.blobRel(h), bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("manifest %s: %w", h, err)
	}
	x.written[h] = roleManifest
	x.changes++
	return x.follow(ctx, w, b)
}

// follow wants what the (verified) manifest or index b names.
func (x *ociExtraction) follow(ctx context.Context, w wantedBlob, b []byte) error {
	h := w.desc.Digest
	var m struct {
		Manifests []v1.Descriptor `json:"manifests"`
		Config    *v1.Descriptor  `json:"config"`
		Layers    []v1.Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("parsing manifest %s: %w", h, err)
	}
	if w.depth < maxIndexDepth {
		for _, d := range m.Manifests {
			if err := x.want(ctx, wantedBlob{desc: d, role: roleManifest, depth: w.depth + 1}); err != nil {
				return err
			}
		}
	}
	if m.Config != nil {
		if err := x.want(ctx, wantedBlob{desc: *m.Config, role: roleConfig}); err != nil {
			return err
		}
	}
	for _, d := range m.Layers {
		if err := x.want(ctx, wantedBlob{desc: d, role: roleLayer}); err != nil {
			return err
		}
	}
	return nil
}

func (x *ociExtraction) blobRel(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

func (x *ociExtraction) blobPath(h v1.Hash) string {
	return filepath.Join(x.dst, filepath.FromSlash(x.blobRel(h)))
}

// writeBlob writes the blob d from r (exactly d.Size bytes; the caller
// checked the entry's size), and verifies its digest if verify is set.
func (x *ociExtraction) writeBlob(ctx context.Context, d v1.Descriptor, r io.Reader, verify bool) error {
	var hh hash.Hash
	if verify {
		var err error
		if hh, err = newHasher(d.Digest); err != nil {
			return err
		}
		r = io.TeeReader(r, hh)
	}
	if err := x.writeFile(ctx, x.blobRel(d.Digest), r, d.Size); err != nil {
		return err
	}
	if hh != nil {
		if got := hex.EncodeToString(hh.Sum(nil)); got != d.Digest.Hex {
			return fmt.Errorf("the blob hashes to %s:%s, not the digest its descriptor names", d.Digest.Algorithm, got)
		}
	}
	return nil
}

// writeFile writes exactly size bytes of r to rel under dst, checking ctx
// before each chunk.
func (x *ociExtraction) writeFile(ctx context.Context, rel string, r io.Reader, size int64) error {
	target := filepath.Join(x.dst, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	n, err := copyChunks(ctx, out, r, size)
	if err == nil && n < size {
		err = fmt.Errorf("the archive entry ends after %d of its %d bytes", n, size)
	}
	if err != nil {
		out.Close()
		return withCtxErr(ctx, err)
	}
	return out.Close()
}

// copyChunks copies at most size bytes from r to w in chunks of copyChunk,
// checking ctx before each.
func copyChunks(ctx context.Context, w io.Writer, r io.Reader, size int64) (int64, error) {
	if size <= 0 {
		return 0, ctx.Err()
	}
	buf := make([]byte, min(size, copyChunk))
	var n int64
	for n < size {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := io.ReadFull(r, buf[:min(int64(len(buf)), size-n)])
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil {
				return n, werr
			}
			n += int64(m)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readBounded reads an entry of size bytes (at most limit) into memory.
func readBounded(ctx context.Context, r io.Reader, size, limit int64, what string) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d drydock reads", what, size, limit)
	}
	var buf bytes.Buffer
	buf.Grow(int(size))
	n, err := copyChunks(ctx, &buf, r, size)
	if err != nil {
		return nil, withCtxErr(ctx, fmt.Errorf("reading %s: %w", what, err))
	}
	if n < size {
		return nil, fmt.Errorf("reading %s: the entry ends after %d of its %d bytes", what, n, size)
	}
	return buf.Bytes(), nil
}

// blobName parses "blobs/<alg>/<hex>" (a cleaned tar name).
func blobName(name string) (v1.Hash, bool) {
	rest, ok := strings.CutPrefix(name, "blobs/")
	if !ok {
		return v1.Hash{}, false
	}
	alg, hexPart, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(hexPart, "/") {
		return v1.Hash{}, false
	}
	h, err := v1.NewHash(alg + ":" + hexPart)
	if err != nil {
		return v1.Hash{}, false
	}
	return h, true
}

// newHasher returns the hash for h's algorithm (sha256 or sha512).
func newHasher(h v1.Hash) (hash.Hash, error) {
	switch h.Algorithm {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported digest algorithm %q", h.Algorithm)
}

// verifyBytes checks that b is what d describes: its size and its digest.
func verifyBytes(b []byte, d v1.Descriptor) error {
	if int64(len(b)) != d.Size {
		return fmt.Errorf("the blob is %d bytes, its descriptor says %d", len(b), d.Size)
	}
	hh, err := newHasher(d.Digest)
	if err != nil {
		return err
	}
	hh.Write(b)
	if got := hex.EncodeToString(hh.Sum(nil)); got != d.Digest.Hex {
		return fmt.Errorf("the blob hashes to %s:%s, not the digest its descriptor names", d.Digest.Algorithm, got)
	}
	return nil
}

// verifyBlob checks that the blob of a layout (dir) is what d describes,
// reading at most limit bytes (0: no limit) and checking ctx as it reads.
// what ("manifest", "index", "config") names the blob in errors.
func verifyBlob(ctx context.Context, dir string, d v1.Descriptor, what string, limit int64) error {
	hh, err := newHasher(d.Digest)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, d.Digest, err)
	}
	if limit > 0 && d.Size > limit {
		return fmt.Errorf("%s %s is %d bytes, more than the %d drydock reads", what, d.Digest, d.Size, limit)
	}
	p := filepath.Join(dir, "blobs", d.Digest.Algorithm, d.Digest.Hex)
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, d.Digest, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s %s: blobs/%s/%s is not a regular file", what, d.Digest, d.Digest.Algorithm, d.Digest.Hex)
	}
	if fi.Size() != d.Size {
		return fmt.Errorf("%s %s: the blob is %d bytes, its descriptor says %d", what, d.Digest, fi.Size(), d.Size)
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, d.Digest, err)
	}
	defer f.Close()
	n, err := copyChunks(ctx, hh, f, d.Size)
	if err != nil {
		return withCtxErr(ctx, fmt.Errorf("%s %s: %w", what, d.Digest, err))
	}
	if n != d.Size {
		return fmt.Errorf("%s %s: the blob is %d bytes, its descriptor says %d", what, d.Digest, n, d.Size)
	}
	if got := hex.EncodeToString(hh.Sum(nil)); got != d.Digest.Hex {
		return fmt.Errorf("%s %s: the blob hashes to %s:%s, not the digest its descriptor names", what, d.Digest, d.Digest.Algorithm, got)
	}
	return nil
}

// isSparse reports whether hdr is a sparse file (its data is not one
// contiguous range of the archive).
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// ctxFile is an archive file whose reads and seeks fail once ctx is done;
// it keeps Seek so that a tar reader skips entries without reading them.
type ctxFile struct {
	ctx context.Context
	f   *os.File
}

func (c *ctxFile) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.f.Read(p)
}

func (c *ctxFile) Seek(off int64, whence int) (int64, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.f.Seek(off, whence)
}
