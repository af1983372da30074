package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// zstdMaxWindow bounds the memory a (possibly hostile) zstd frame may make
// the decoder allocate; zstd itself writes at most 8 MiB windows below
// --ultra, and 128 MiB with it. The same bound as walk's for layers.
const zstdMaxWindow = 128 << 20

// compressionOf names the compression of a file from its first bytes:
// "gzip", "zstd", "xz", "bzip2", or "" for none. A tar starts with an entry
// name, which none of these magic numbers is.
func compressionOf(magic []byte) string {
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return "gzip"
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return "xz"
	case len(magic) >= 4 && bytes.HasPrefix(magic, []byte("BZh")) && magic[3] >= '1' && magic[3] <= '9':
		return "bzip2"
	}
	return ""
}

// tarStream is an archive file read as a plain tar: the file itself or a
// decompressor over it. Reads fail with ctx.Err() once ctx is done, and
// decompression errors name the file and the format.
type tarStream struct {
	name, format string
	ctx          context.Context
	r            io.Reader
	closers      []func() error
}

// openTarStream opens the archive at p as a plain tar stream. format is ""
// for a plain tar, else the compression ("gzip" or "zstd"). Memory stays
// bounded whatever the input: gzip needs a 32 KiB window, zstd at most
// zstdMaxWindow (a frame asking for more is an error).
func openTarStream(ctx context.Context, p string) (*tarStream, error) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missingPath(p, err)
		}
		return nil, err
	}
	ts := &tarStream{name: p, ctx: ctx, closers: []func() error{f.Close}}
	br := bufio.NewReaderSize(f, 256<<10)
	magic, err := br.Peek(6)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("reading %q: %w", p, err)
	}
	ts.format = compressionOf(magic)
	switch ts.format {
	case "":
		ts.r = br
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("decompressing %q (gzip): %w", p, err)
		}
		ts.r = zr
		ts.closers = append(ts.closers, zr.Close)
	case "zstd":
		zr, err := zstd.NewReader(br,
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderConcurrency(1))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("decompressing %q (zstd): %w", p, err)
		}
		ts.r = zr
		ts.closers = append(ts.closers, func() error { zr.Close(); return nil })
	default:
		f.Close()
		return nil, fmt.Errorf("%q is %s-compressed, which drydock does not read: decompress it first (%s)", p, ts.format,
			map[string]string{"xz": "unxz", "bzip2": "bunzip2"}[ts.format])
	}
	return ts, nil
}

func (ts *tarStream) Read(p []byte) (int, error) {
	if err := ts.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := ts.r.Read(p)
	if err != nil && err != io.EOF && ts.format != "" {
		err = fmt.Errorf("decompressing %q (%s): %w", ts.name, ts.format, err)
	}
	return n, err
}

// Close closes the decompressor and the file.
func (ts *tarStream) Close() error {
	var errs []error
	for i := len(ts.closers) - 1; i >= 0; i-- {
		errs = append(errs, ts.closers[i]())
	}
	return errors.Join(errs...)
}

// archiveFiles hands the openers of one Open call plain tar files for the
// archive paths they are given, decompressing a compressed archive at most
// once (detection and opening ask for the same file).
//
// Why a copy on disk: reading a docker archive needs random access. ggcr's
// tarball package reads manifest.json, the config and each layer by name,
// each read a new pass over the tar that skips the other entries by seeking;
// over a compressed stream every pass would decompress everything before the
// entry again (Trivy does that: a layer read costs the whole archive).
// Decompressing once to a temp file keeps memory bounded and each pass cheap,
// at the cost of the uncompressed size on disk until Image.Close. An OCI
// archive named as such (oci-archive:PATH) needs no copy: it is extracted
// straight from the decompressing stream.
type archiveFiles struct {
	tempDir string
	temps   map[string]string // archive path → its decompressed copy
}

// plainTar returns the path of a plain tar with the contents of the archive
// at p: p itself, or its decompressed copy. Cancelling ctx stops the copy.
func (a *archiveFiles) plainTar(ctx context.Context, p string) (string, error) {
	if q, ok := a.temps[p]; ok {
		return q, nil
	}
	ts, err := openTarStream(ctx, p)
	if err != nil {
		return "", err
	}
	defer ts.Close()
	if ts.format == "" {
		return p, nil
	}
	tmp, err := os.CreateTemp(a.tempDir, "drydock-archive-*.tar")
	if err != nil {
		return "", fmt.Errorf("creating a temp file to decompress %q into: %w", p, err)
	}
	if err := copyTo(tmp, ts); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing the decompressed copy of %q: %w", p, err)
	}
	if a.temps == nil {
		a.temps = map[string]string{}
	}
	a.temps[p] = tmp.Name()
	return tmp.Name(), nil
}

// copyTo copies ts to f; read errors come as ts gives them (naming the
// archive, or ctx.Err()), write errors say so.
func copyTo(f *os.File, ts *tarStream) error {
	buf := make([]byte, 256<<10)
	for {
		n, rerr := ts.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return fmt.Errorf("writing the decompressed copy of %q: %w", ts.name, err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// release removes the decompressed copy of p early, once it has been used
// (an OCI archive, extracted from it).
func (a *archiveFiles) release(p string) error {
	q, ok := a.temps[p]
	if !ok {
		return nil
	}
	delete(a.temps, p)
	if err := os.Remove(q); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the decompressed copy of %q: %w", p, err)
	}
	return nil
}

// close removes every decompressed copy. It is safe to call more than once.
func (a *archiveFiles) close() error {
	var errs []error
	for p := range a.temps {
		errs = append(errs, a.release(p))
	}
	return errors.Join(errs...)
}
