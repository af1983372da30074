// Package walk reads one layer blob in a single streaming pass and hands the
// files that extractors want to a callback.
//
// The blob may be gzip, zstd or plain tar; compression is sniffed from the
// magic bytes. Nothing but the wanted files' contents is copied: unwanted
// entries are skipped by the tar reader. Wanted files are held in memory up to
// Options.MemThreshold and spilled to a temp file above it. Memory use is
// bounded by MemThreshold, LinkCache and the decompressor's window; no file
// tree is kept.
package walk

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/drydock-scan/drydock/internal/extract"
)

// Defaults for Options fields left zero.
const (
	DefaultMemThreshold = 1 << 20
	DefaultMaxFileSize  = 512 << 20
	DefaultLinkCache    = 64 << 20
)

// zstdMaxWindow bounds the memory a (possibly hostile) zstd frame may ask
// for. 128 MiB covers `zstd --long` (which uses 128 MiB windows by default).
const zstdMaxWindow = 128 << 20

// Whiteout markers of the OCI image spec / AUFS.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	whiteoutMeta   = ".wh..wh."
)

// Wanter decides which files are captured. It is called for every regular
// file and hardlink with the file's absolute, cleaned path.
type Wanter interface {
	Wants(path string, mode fs.FileMode, size int64) bool
}

// WantFunc adapts a function to a Wanter.
type WantFunc func(path string, mode fs.FileMode, size int64) bool

// Wants calls f.
func (f WantFunc) Wants(path string, mode fs.FileMode, size int64) bool { return f(path, mode, size) }

// Options tunes a walk. The zero value uses the defaults.
type Options struct {
	// MemThreshold: captured files larger than this are spilled to a temp
	// file (default 1 MiB).
	MemThreshold int64
	// TempDir is where spilled files go (default os.TempDir()). Layer creates
	// one private directory inside it and always removes it before returning.
	TempDir string
	// MaxFileSize: captured files larger than this are skipped with a Skipped
	// entry (default 512 MiB).
	MaxFileSize int64
	// LinkCache is how many bytes of captured content are kept after their
	// callback returned, so that a later hardlink to the same file in the same
	// layer can be handed over too (default 64 MiB, oldest evicted first; a
	// negative value keeps nothing).
	LinkCache int64
	// Symlink, if set, is called for each symlink with its cleaned path and its
	// target exactly as stored (symlinks are never followed).
	Symlink func(path, target string)
	// DiffID, if set ("sha256:<hex>"), is the digest the uncompressed layer
	// must have (the image config's rootfs.diff_ids entry). The walk hashes
	// the uncompressed stream as it reads it and fails with
	// ErrDiffIDMismatch if it differs: a layer whose content is not the one
	// the config names is never reported (nor cached) as that layer.
	DiffID string
}

// ErrDiffIDMismatch is returned (wrapped) when a layer's uncompressed
// content does not match Options.DiffID.
var ErrDiffIDMismatch = errors.New("layer content does not match its diff_id")

// ErrInvalidWhiteout is returned (wrapped) for a whiteout entry that names
// no file (".wh..", ".wh...", ".wh."): containerd rejects such layers too.
var ErrInvalidWhiteout = errors.New("invalid whiteout")

// Result is what a walk learned besides the captured files.
type Result struct {
	// Whiteouts are the absolute cleaned paths deleted by this layer
	// (".wh.<name>" entries), sorted.
	Whiteouts []string
	// OpaqueDirs are dirs whose lower contents are hidden (".wh..wh..opq"), sorted.
	OpaqueDirs []string
	// DiffID is "sha256:<hex>" of the uncompressed layer, computed while
	// reading.
	DiffID string
	// Files is the number of regular files seen (hardlinks not counted).
	Files int
	// Bytes is the uncompressed size of the regular files seen.
	Bytes int64
	// Skipped lists wanted files that were not captured, in tar order.
	Skipped []Skip
}

// Skip is a wanted file that was not captured, and why.
type Skip struct{ Path, Reason string }

// CleanPath turns a tar entry name into an absolute, cleaned path that can
// never leave "/" ("./etc/x" → "/etc/x", "../../etc/passwd" → "/etc/passwd").
func CleanPath(name string) string {
	return path.Clean("/" + name)
}

// Layer reads r — a layer blob that is gzip, zstd or plain tar — exactly once,
// streaming. For each regular file (and hardlink) whose cleaned path w wants,
// it captures the content and calls fn synchronously; the capture is released
// when fn returns (its File must not be used afterwards). An error from fn
// stops the walk and is returned wrapped with the path.
//
// After the end of the tar archive the rest of r is read and discarded, so
// that a verifying reader underneath (digest check at EOF) gets to report.
func Layer(ctx context.Context, r io.Reader, w Wanter, fn func(ctx context.Context, path string, mode fs.FileMode, f extract.File) error, opt Options) (res Result, err error) {
	if opt.MemThreshold <= 0 {
		opt.MemThreshold = DefaultMemThreshold
	}
	if opt.MaxFileSize <= 0 {
		opt.MaxFileSize = DefaultMaxFileSize
	}
	if opt.LinkCache == 0 {
		opt.LinkCache = DefaultLinkCache
	}
	if opt.TempDir == "" {
		opt.TempDir = os.TempDir()
	}

	wk := &walker{opt: opt, links: newLinkCache(opt.LinkCache)}
	defer func() {
		if cerr := wk.cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	br := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: r}, 64<<10)
	dec, closeDec, err := decompress(br)
	if err != nil {
		return Result{}, err
	}
	defer closeDec()
	var want []byte
	if opt.DiffID != "" {
		hexPart, ok := strings.CutPrefix(opt.DiffID, "sha256:")
		if want, err = hex.DecodeString(hexPart); !ok || err != nil || len(want) != sha256.Size {
			return Result{}, fmt.Errorf("%w: unusable diff_id %q", ErrDiffIDMismatch, opt.DiffID)
		}
	}
	hash := sha256.New()
	dec = io.TeeReader(dec, hash)

	tr := tar.NewReader(dec)
	var last string // name of the last header read, for error messages
	whiteouts := map[string]struct{}{}
	opaque := map[string]struct{}{}
	for {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if last == "" {
				return Result{}, fmt.Errorf("reading first tar entry: %w", err)
			}
			return Result{}, fmt.Errorf("reading tar entry after %q: %w", last, err)
		}
		last = hdr.Name
		p := CleanPath(hdr.Name)
		dir, base := path.Split(p)
		dir = path.Clean(dir)

		// Whiteouts mark deletions; they are never files of the image.
		if strings.HasPrefix(base, whiteoutPrefix) {
			switch {
			case base == whiteoutOpaque:
				opaque[dir] = struct{}{}
			case strings.HasPrefix(base, whiteoutMeta):
				// Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): ignored.
			default:
				name := base[len(whiteoutPrefix):]
				if name == "" || name == "." || name == ".." {
					return Result{}, fmt.Errorf("%w: tar entry %q names no file", ErrInvalidWhiteout, hdr.Name)
				}
				whiteouts[path.Join(dir, name)] = struct{}{}
			}
			continue
		}

		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			res.Files++
			res.Bytes += hdr.Size
			mode := hdr.FileInfo().Mode()
			if !w.Wants(p, mode, hdr.Size) {
				continue
			}
			if hdr.Size > opt.MaxFileSize {
				res.Skipped = append(res.Skipped, Skip{Path: p, Reason: fmt.Sprintf("file size %d exceeds the limit of %d bytes", hdr.Size, opt.MaxFileSize)})
				continue
			}
			c, err := wk.capture(tr, hdr.Size)
			if err != nil {
				return Result{}, fmt.Errorf("reading tar entry %q: %w", hdr.Name, err)
			}
			if err := wk.deliver(ctx, fn, p, mode, c); err != nil {
				c.free()
				return Result{}, err
			}
			wk.links.put(p, c)
		case tar.TypeLink:
			target := CleanPath(hdr.Linkname)
			mode := hdr.FileInfo().Mode()
			c := wk.links.get(target)
			size := hdr.Size
			if c != nil {
				size = c.size
			}
			if !w.Wants(p, mode, size) {
				continue
			}
			if c == nil {
				res.Skipped = append(res.Skipped, Skip{Path: p, Reason: fmt.Sprintf("hardlink to %q, whose content was not captured", target)})
				continue
			}
			if err := wk.deliver(ctx, fn, p, mode, c); err != nil {
				return Result{}, err
			}
		case tar.TypeSymlink:
			if opt.Symlink != nil {
				opt.Symlink(p, hdr.Linkname)
			}
		}
	}

	// Drain what follows the end-of-archive marker (padding, the gzip
	// trailer) so that checksums and digests underneath are verified.
	if _, err := io.Copy(io.Discard, dec); err != nil {
		return Result{}, fmt.Errorf("reading past the end of the tar archive: %w", err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return Result{}, fmt.Errorf("reading past the end of the tar archive: %w", err)
	}
	sum := hash.Sum(nil)
	res.DiffID = "sha256:" + hex.EncodeToString(sum)
	if want != nil && !bytes.Equal(sum, want) {
		return Result{}, fmt.Errorf("%w: the config says %s, the content is %s", ErrDiffIDMismatch, opt.DiffID, res.DiffID)
	}

	res.Whiteouts = sortedKeys(whiteouts)
	res.OpaqueDirs = sortedKeys(opaque)
	return res, nil
}

func sortedKeys(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// decompress sniffs br's magic bytes and returns the tar stream.
func decompress(br *bufio.Reader) (io.Reader, func(), error) {
	magic, err := br.Peek(6)
	if err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("reading layer header: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("opening gzip stream: %w", err)
		}
		return &decompErr{r: zr, format: "gzip"}, func() { _ = zr.Close() }, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br,
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, fmt.Errorf("opening zstd stream: %w", err)
		}
		return &decompErr{r: zr, format: "zstd"}, zr.Close, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return nil, nil, errors.New("unsupported layer compression: xz")
	case bytes.HasPrefix(magic, []byte("BZh")):
		return nil, nil, errors.New("unsupported layer compression: bzip2")
	}
	return br, func() {}, nil
}

// decompErr names the compression format in decompression errors ("gzip:
// unexpected EOF" rather than a bare "unexpected EOF").
type decompErr struct {
	r      io.Reader
	format string
}

func (d *decompErr) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("decompressing %s: %w", d.format, err)
	}
	return n, err
}

// ctxReader fails reads once ctx is done, so that long copies and skips of
// huge entries stop promptly on cancellation.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// walker holds the per-layer state: the private temp dir and the hardlink cache.
type walker struct {
	opt   Options
	dir   string // private temp dir, created on first use
	links *linkCache
}

func (wk *walker) tempFile() (*os.File, error) {
	if wk.dir == "" {
		d, err := os.MkdirTemp(wk.opt.TempDir, "drydock-walk-")
		if err != nil {
			return nil, fmt.Errorf("creating temp dir: %w", err)
		}
		wk.dir = d
	}
	f, err := os.CreateTemp(wk.dir, "file-")
	if err != nil {
		return nil, fmt.Errorf("creating temp file: %w", err)
	}
	return f, nil
}

func (wk *walker) cleanup() error {
	wk.links.clear()
	if wk.dir == "" {
		return nil
	}
	if err := os.RemoveAll(wk.dir); err != nil {
		return fmt.Errorf("removing temp dir: %w", err)
	}
	return nil
}

// capture reads exactly size bytes of the current entry into memory or a
// spill file.
func (wk *walker) capture(r io.Reader, size int64) (*content, error) {
	if size <= wk.opt.MemThreshold {
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("reading content: %w", noEOF(err))
		}
		return &content{data: buf, size: size}, nil
	}
	f, err := wk.tempFile()
	if err != nil {
		return nil, err
	}
	c := &content{spill: f, size: size}
	if _, err := io.CopyN(f, r, size); err != nil {
		c.free()
		return nil, fmt.Errorf("spilling content to disk: %w", noEOF(err))
	}
	return c, nil
}

// noEOF turns a bare io.EOF (the entry ended before its declared size) into
// io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// deliver hands c to fn through a fresh view and releases the view after.
func (wk *walker) deliver(ctx context.Context, fn func(context.Context, string, fs.FileMode, extract.File) error, p string, mode fs.FileMode, c *content) (err error) {
	v := &file{c: c, wk: wk}
	defer func() {
		if rerr := v.release(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := fn(ctx, p, mode, v); err != nil {
		return fmt.Errorf("processing %q: %w", p, err)
	}
	return nil
}

// content is captured file data, held in memory or in a spill file. It is
// freed when no longer retained by the link cache.
type content struct {
	data  []byte
	spill *os.File
	size  int64
}

func (c *content) free() {
	c.data = nil
	if c.spill != nil {
		name := c.spill.Name()
		_ = c.spill.Close()
		_ = removeWithSidecars(name) // the temp dir is removed at the end anyway
		c.spill = nil
	}
}

// linkCache keeps recently captured contents (by path) for hardlinks later
// in the same layer, up to a byte budget, evicting the oldest first.
type linkCache struct {
	budget int64
	used   int64
	order  []string
	m      map[string]*content
}

func newLinkCache(budget int64) *linkCache {
	return &linkCache{budget: budget, m: map[string]*content{}}
}

// put retains c under p, or frees it if it does not fit.
func (lc *linkCache) put(p string, c *content) {
	if c.size > lc.budget {
		c.free()
		return
	}
	if old, ok := lc.m[p]; ok {
		lc.remove(p, old)
	}
	for lc.used+c.size > lc.budget && len(lc.order) > 0 {
		oldest := lc.order[0]
		lc.remove(oldest, lc.m[oldest])
	}
	lc.m[p] = c
	lc.order = append(lc.order, p)
	lc.used += c.size
}

func (lc *linkCache) remove(p string, c *content) {
	if i := slices.Index(lc.order, p); i >= 0 {
		lc.order = slices.Delete(lc.order, i, i+1)
	}
	delete(lc.m, p)
	lc.used -= c.size
	c.free()
}

func (lc *linkCache) get(p string) *content { return lc.m[p] }

func (lc *linkCache) clear() {
	for _, c := range lc.m {
		c.free()
	}
	lc.m = map[string]*content{}
	lc.order = nil
	lc.used = 0
}

// errReleased is returned by a File used after its callback returned.
var errReleased = errors.New("captured file used after release")

// file is the extract.File handed to one callback.
type file struct {
	c        *content
	wk       *walker
	local    string // temp copy of in-memory data made by LocalPath
	released bool
}

var _ extract.File = (*file)(nil)

func (f *file) Size() int64 { return f.c.size }

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.released {
		return 0, errReleased
	}
	if f.c.spill != nil {
		return f.c.spill.ReadAt(p, off)
	}
	return bytes.NewReader(f.c.data).ReadAt(p, off)
}

func (f *file) Open() (io.ReadCloser, error) {
	if f.released {
		return nil, errReleased
	}
	return io.NopCloser(io.NewSectionReader(f, 0, f.c.size)), nil
}

func (f *file) LocalPath() (string, error) {
	if f.released {
		return "", errReleased
	}
	if f.c.spill != nil {
		return f.c.spill.Name(), nil
	}
	if f.local != "" {
		return f.local, nil
	}
	tf, err := f.wk.tempFile()
	if err != nil {
		return "", err
	}
	f.local = tf.Name()
	_, werr := tf.Write(f.c.data)
	if cerr := tf.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("writing temp file: %w", werr)
	}
	return f.local, nil
}

func (f *file) release() error {
	f.released = true
	if f.local == "" {
		return nil
	}
	err := removeWithSidecars(f.local)
	f.local = ""
	if err != nil {
		return fmt.Errorf("removing temp file: %w", err)
	}
	return nil
}

// removeWithSidecars removes name and the files that parsers opening it as a
// database (sqlite) may have created next to it.
func removeWithSidecars(name string) error {
	var errs []error
	for _, s := range []string{"", "-journal", "-wal", "-shm"} {
		if err := os.Remove(name + s); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
