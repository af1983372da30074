// Package walk reads one layer blob in a single streaming pass and hands the
// files that extractors want to a callback.
//
// The blob may be gzip, zstd or plain tar; compression is sniffed from the
// magic bytes. Nothing but the wanted files' contents is copied: unwanted
// entries are skipped by the tar reader. Wanted files are held in memory up to
// Options.MemThreshold and spilled to a temp file above it; the spill space
// comes from the scan's extract.Budget, shared by the layers read at once.
// Memory use is bounded by MemThreshold, LinkCache, the decompressor's window
// and the whiteouts recorded (MaxPaths); no file tree is kept. The bytes
// decompressed from one layer are bounded too (MaxLayerBytes).
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
	// DefaultMaxLayerBytes bounds the uncompressed bytes of one layer. The
	// largest real layers (CUDA and PyTorch toolchains, model weights baked
	// into an image) are tens of GB; a decompression bomb (16 GiB of zeros
	// from a 524 KB zstd blob) costs only CPU time below it — no memory, no
	// disk — and the scan's overall timeout bounds that.
	DefaultMaxLayerBytes = 64 << 30
	// DefaultMaxPaths bounds the whiteouts and opaque dirs recorded for one
	// layer (deleting a directory makes one whiteout, not one per file: real
	// layers have at most tens of thousands). Past it, the rest are not
	// recorded and the result says so. Each costs a scan ~300 bytes at its
	// peak (the path, the layer cache entry), so 250,000 stay within 150 MB.
	DefaultMaxPaths = 250_000
	// DefaultMaxPathBytes bounds the bytes of those paths.
	DefaultMaxPathBytes = 16 << 20
	// maxSkipped is how many files not captured are listed one by one.
	maxSkipped = 1000
	// linkEntryOverhead is what the link cache counts for each entry beyond
	// its bytes, so that a million empty files do not fit in it for free.
	linkEntryOverhead = 256
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

// Tap sees the content of a layer's regular files as the walk reads them,
// whether or not the Wanter captures them: a second consumer of the same
// single pass (file hashes, an anti-virus engine) that needs no copy of
// the file. Its methods are called from the walking goroutine, one file at
// a time.
type Tap interface {
	// File is called for each regular file, before its content is read.
	// If it returns a writer, the walk writes the file's whole content to
	// it as it reads the entry (once: when the file is also captured, the
	// same bytes go to both), then calls EndFile. An error from Write
	// stops the walk.
	File(path string, mode fs.FileMode, size int64) io.Writer
	// EndFile ends the file File returned a writer for: err is nil when
	// the whole content was written, else the error that stopped the read
	// or the write. A non-nil error from EndFile stops the walk.
	EndFile(err error) error
	// Link is called for each hardlink with its cleaned path and its
	// target's.
	Link(path, target string, mode fs.FileMode)
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
	// Budget is the scan's shared budget: spilled files take their size
	// from it while they are held, waiting while other layers hold it. One
	// Budget serves every layer of a scan (and its extractors); nil sets no
	// shared limit.
	Budget *extract.Budget
	// MaxLayerBytes bounds the uncompressed bytes read from the layer
	// (default DefaultMaxLayerBytes); past it the walk fails with
	// ErrLayerTooLarge.
	MaxLayerBytes int64
	// MaxPaths and MaxPathBytes bound the whiteouts and opaque dirs
	// recorded (defaults DefaultMaxPaths, DefaultMaxPathBytes); the others
	// are left out with a Skip saying so.
	MaxPaths     int
	MaxPathBytes int64
	// Tap, if set, is shown the content of the files it asks for as they
	// stream (see Tap).
	Tap Tap
	// Skip, if set, names the files and directories that are never read
	// (--skip-dirs, --skip-files): their entries are passed over without
	// asking the Wanter, the Tap or the Symlink callback, and counted in
	// Result.SkippedBy.
	Skip *Skipper
}

// ErrDiffIDMismatch is returned (wrapped) when a layer's uncompressed
// content does not match Options.DiffID.
var ErrDiffIDMismatch = errors.New("layer content does not match its diff_id")

// ErrLayerTooLarge is returned (wrapped) when a layer decompresses to more
// than Options.MaxLayerBytes.
var ErrLayerTooLarge = errors.New("layer too large")

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
	// Skipped lists wanted files that were not captured, in tar order (the
	// first 1000, then one entry counting the others), and the whiteouts
	// not recorded past MaxPaths.
	Skipped []Skip
	// SkippedBy counts, per Options.Skip pattern that skipped anything,
	// the files passed over unread.
	SkippedBy []SkipCount
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
		opt.TempDir = opt.Budget.TempDir()
	}
	if opt.MaxLayerBytes <= 0 {
		opt.MaxLayerBytes = DefaultMaxLayerBytes
	}
	if opt.MaxPaths <= 0 {
		opt.MaxPaths = DefaultMaxPaths
	}
	if opt.MaxPathBytes <= 0 {
		opt.MaxPathBytes = DefaultMaxPathBytes
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
	dec = io.TeeReader(&capReader{r: dec, left: opt.MaxLayerBytes, max: opt.MaxLayerBytes}, hash)

	tr := tar.NewReader(dec)
	var last string // name of the last header read, for error messages
	paths := pathSet{max: opt.MaxPaths, maxBytes: opt.MaxPathBytes}
	skips := newSkipState(opt.Skip)
	skipped := 0
	skip := func(s Skip) {
		if skipped++; skipped <= maxSkipped {
			res.Skipped = append(res.Skipped, s)
		}
	}
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
				paths.add(dir, true)
			case strings.HasPrefix(base, whiteoutMeta):
				// Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): ignored.
			default:
				name := base[len(whiteoutPrefix):]
				if name == "" || name == "." || name == ".." {
					return Result{}, fmt.Errorf("%w: tar entry %q names no file", ErrInvalidWhiteout, hdr.Name)
				}
				paths.add(path.Join(dir, name), false)
			}
			continue
		}

		// Skipped paths are passed over before anyone sees them: the tar
		// reader discards the entry's bytes unread (they are still hashed
		// for the diff_id, never interpreted).
		if skips != nil && hdr.Typeflag != tar.TypeDir && skips.skip(p) {
			if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA || hdr.Typeflag == tar.TypeGNUSparse {
				res.Files++
				res.Bytes += hdr.Size
			}
			continue
		}

		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			res.Files++
			res.Bytes += hdr.Size
			mode := hdr.FileInfo().Mode()
			var sink io.Writer
			if opt.Tap != nil {
				sink = opt.Tap.File(p, mode, hdr.Size)
			}
			wanted := w.Wants(p, mode, hdr.Size)
			switch {
			case !wanted:
			case hdr.Size > opt.MaxFileSize:
				skip(Skip{Path: p, Reason: fmt.Sprintf("file size %d exceeds the limit of %d bytes", hdr.Size, opt.MaxFileSize)})
				wanted = false
			case hdr.Size > opt.MemThreshold && hdr.Size > opt.Budget.SpillLimit():
				skip(Skip{Path: p, Reason: fmt.Sprintf("file size %d exceeds the scan's temp space of %d bytes", hdr.Size, opt.Budget.SpillLimit())})
				wanted = false
			}
			if !wanted {
				if sink != nil {
					if err := wk.tapOnly(opt.Tap, sink, tr); err != nil {
						return Result{}, fmt.Errorf("reading tar entry %q: %w", hdr.Name, err)
					}
				}
				continue
			}
			var src io.Reader = tr
			if sink != nil {
				src = io.TeeReader(tr, sink)
			}
			c, err := wk.capture(ctx, src, hdr.Size)
			if sink != nil {
				if terr := opt.Tap.EndFile(err); terr != nil && err == nil {
					c.free()
					err = terr
				}
			}
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
			if opt.Tap != nil {
				opt.Tap.Link(p, target, mode)
			}
			c := wk.links.get(target)
			size := hdr.Size
			if c != nil {
				size = c.size
			}
			if !w.Wants(p, mode, size) {
				continue
			}
			if c == nil {
				reason := fmt.Sprintf("hardlink to %q, whose content was not captured", target)
				if i := skips.rule(target, false); i >= 0 {
					r := opt.Skip.rules[i]
					reason = fmt.Sprintf("hardlink to %q, which --%s %q skipped", target, r.Flag, r.Pattern)
				}
				skip(Skip{Path: p, Reason: reason})
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

	if skipped > maxSkipped {
		res.Skipped = append(res.Skipped, Skip{Path: "/", Reason: fmt.Sprintf("%d more wanted files not read (only the first %d are listed)", skipped-maxSkipped, maxSkipped)})
	}
	res.Whiteouts, res.OpaqueDirs = paths.sorted()
	res.SkippedBy = skips.result()
	if paths.dropped > 0 {
		res.Skipped = append(res.Skipped, Skip{Path: paths.firstDropped, Reason: fmt.Sprintf(
			"%d whiteouts and opaque dirs past the first %d (or %d bytes) of the layer are not recorded, from this one on: files they delete in lower layers may be reported",
			paths.dropped, opt.MaxPaths, opt.MaxPathBytes)})
	}
	return res, nil
}

// tapOnly writes the current entry's content to the tap's sink alone (the
// file is not captured) and ends the file. One buffer serves every file of
// the layer.
func (wk *walker) tapOnly(t Tap, sink io.Writer, r io.Reader) error {
	if wk.tapBuf == nil {
		wk.tapBuf = make([]byte, 64<<10)
	}
	_, err := io.CopyBuffer(sink, onlyReader{r}, wk.tapBuf)
	if terr := t.EndFile(noEOF(err)); terr != nil && err == nil {
		err = terr
	}
	return noEOF(err)
}

// pathSet gathers the whiteouts and opaque dirs of a layer: in slices, sorted
// and deduplicated at the end (or when full), bounded in number and bytes.
type pathSet struct {
	max               int
	maxBytes          int64
	whiteouts, opaque []string
	bytes             int64
	dropped           int
	firstDropped      string
	frozen            bool // full of distinct paths: the others are dropped
}

func (ps *pathSet) add(p string, opaque bool) {
	if ps.frozen {
		ps.drop(p)
		return
	}
	if len(ps.whiteouts)+len(ps.opaque) >= ps.max || ps.bytes+int64(len(p)) > ps.maxBytes {
		// Full: deduplicate, and go on only if that made room (a quarter
		// of the limit, so that this happens a bounded number of times).
		ps.compact()
		if len(ps.whiteouts)+len(ps.opaque) > ps.max*3/4 || ps.bytes+int64(len(p)) > ps.maxBytes {
			ps.frozen = true
			ps.drop(p)
			return
		}
	}
	ps.bytes += int64(len(p))
	if opaque {
		ps.opaque = append(ps.opaque, p)
	} else {
		ps.whiteouts = append(ps.whiteouts, p)
	}
}

func (ps *pathSet) drop(p string) {
	if ps.dropped == 0 {
		ps.firstDropped = p
	}
	ps.dropped++
}

func (ps *pathSet) compact() {
	ps.whiteouts = sortCompact(ps.whiteouts)
	ps.opaque = sortCompact(ps.opaque)
	ps.bytes = 0
	for _, p := range ps.whiteouts {
		ps.bytes += int64(len(p))
	}
	for _, p := range ps.opaque {
		ps.bytes += int64(len(p))
	}
}

func (ps *pathSet) sorted() (whiteouts, opaque []string) {
	ps.compact()
	return ps.whiteouts, ps.opaque
}

func sortCompact(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Clip(slices.Compact(s))
}

// capReader fails once more than max bytes were read.
type capReader struct {
	r         io.Reader
	left, max int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, fmt.Errorf("%w: it decompresses to more than %d bytes (the limit per layer)", ErrLayerTooLarge, c.max)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, fmt.Errorf("%w: it decompresses to more than %d bytes (the limit per layer)", ErrLayerTooLarge, c.max)
	}
	return n, err
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
	opt    Options
	dir    string // private temp dir, created on first use
	links  *linkCache
	tapBuf []byte // tapOnly's copy buffer
}

// onlyReader hides every method but Read, so that io.CopyBuffer uses the
// buffer it is given (the tar reader has a WriteTo-free Read, but a sink may
// implement ReaderFrom).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

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
// spill file. A spill file takes its size from the scan's budget first,
// waiting while other layers hold it; so that two layers never wait for
// each other, this one lets go of what its link cache holds before it
// waits.
func (wk *walker) capture(ctx context.Context, r io.Reader, size int64) (*content, error) {
	if size <= wk.opt.MemThreshold {
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("reading content: %w", noEOF(err))
		}
		return &content{data: buf, size: size}, nil
	}
	b := wk.opt.Budget
	if !b.TryReserveSpill(size) {
		wk.links.dropSpilled()
		if err := b.ReserveSpill(ctx, size); err != nil {
			return nil, fmt.Errorf("waiting for temp space: %w", err)
		}
	}
	c := &content{size: size, budget: b, reserved: size}
	f, err := wk.tempFile()
	if err != nil {
		c.free()
		return nil, err
	}
	c.spill = f
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
	data     []byte
	spill    *os.File
	size     int64
	budget   *extract.Budget
	reserved int64 // spill bytes taken from budget
}

func (c *content) free() {
	c.data = nil
	if c.spill != nil {
		name := c.spill.Name()
		_ = c.spill.Close()
		_ = removeWithSidecars(name) // the temp dir is removed at the end anyway
		c.spill = nil
	}
	c.budget.ReleaseSpill(c.reserved)
	c.reserved = 0
}

// linkCache keeps recently captured contents (by path) for hardlinks later
// in the same layer, up to a byte budget (each entry counting its size and
// linkEntryOverhead), evicting the oldest first. Every operation is O(1)
// (amortised): order is a queue whose stale entries, for paths put again
// or removed, are skipped.
type linkCache struct {
	budget int64
	used   int64
	order  []linkRef // oldest first, from head
	head   int
	m      map[string]*linkEntry
	seq    uint64
}

type linkEntry struct {
	c   *content
	seq uint64 // matches the live linkRef of this path
}

type linkRef struct {
	path string
	seq  uint64
}

func newLinkCache(budget int64) *linkCache {
	return &linkCache{budget: budget, m: map[string]*linkEntry{}}
}

func cost(c *content) int64 { return c.size + linkEntryOverhead }

// put retains c under p, or frees it if it does not fit.
func (lc *linkCache) put(p string, c *content) {
	if cost(c) > lc.budget {
		c.free()
		return
	}
	if old, ok := lc.m[p]; ok {
		lc.remove(p, old)
	}
	for lc.used+cost(c) > lc.budget && lc.head < len(lc.order) {
		lc.evictOldest()
	}
	lc.seq++
	lc.m[p] = &linkEntry{c: c, seq: lc.seq}
	lc.order = append(lc.order, linkRef{p, lc.seq})
	lc.used += cost(c)
	lc.compact()
}

// compact drops the consumed front and the stale refs of the queue once
// they outnumber the live ones, so that it stays O(entries) however often
// paths are put again.
func (lc *linkCache) compact() {
	if n := len(lc.order) - lc.head; n <= 2*len(lc.m)+1024 {
		return
	}
	live := lc.order[:0]
	for _, ref := range lc.order[lc.head:] {
		if e, ok := lc.m[ref.path]; ok && e.seq == ref.seq {
			live = append(live, ref)
		}
	}
	clear(lc.order[len(live):])
	lc.order, lc.head = live, 0
}

// evictOldest removes the oldest live entry, skipping stale refs.
func (lc *linkCache) evictOldest() {
	for lc.head < len(lc.order) {
		ref := lc.order[lc.head]
		lc.order[lc.head] = linkRef{}
		lc.head++
		if e, ok := lc.m[ref.path]; ok && e.seq == ref.seq {
			lc.remove(ref.path, e)
			break
		}
	}
}

func (lc *linkCache) remove(p string, e *linkEntry) {
	delete(lc.m, p)
	lc.used -= cost(e.c)
	e.c.free()
}

func (lc *linkCache) get(p string) *content {
	if e := lc.m[p]; e != nil {
		return e.c
	}
	return nil
}

// dropSpilled frees the spilled contents, giving their temp space back.
func (lc *linkCache) dropSpilled() {
	for p, e := range lc.m {
		if e.c.spill != nil {
			lc.remove(p, e)
		}
	}
	lc.compact()
}

func (lc *linkCache) clear() {
	for _, e := range lc.m {
		e.c.free()
	}
	lc.m = map[string]*linkEntry{}
	lc.order, lc.head = nil, 0
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
