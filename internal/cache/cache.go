// Package cache is drydock's on-disk per-layer cache: the result of walking
// one layer (an inventory.LayerResult) stored under a key made of the layer's
// DiffID and the extractor set (see scan.Layers).
//
// Layout: one file per entry, DIR/<first 2 hex>/<sha256 of the key in hex>.
// Each file is a fixed header (magic, format version, lengths, a fingerprint
// of the LayerResult type and the SHA-256 of the rest) followed by the key
// and the zstd-compressed stream of JSON values of the result (see
// encodeResult), written and read a value at a time.
//
// Several processes may use one directory at once, with no lock: a write goes
// to a temporary file in the entry's directory and is renamed into place, so
// a reader sees either the old entry, the new one or none; two writers of one
// key both succeed (the last rename wins, and both entries are valid). A
// corrupt, truncated or stale entry is logged at debug level, deleted and
// reported as a miss, so the layer is walked again.
//
// The directory is bounded by Options.MaxBytes in least-recently-used order:
// a hit bumps the entry's modification time, and a Put that takes the
// estimated total over the bound deletes the oldest entries.
package cache

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// DefaultMaxBytes bounds the cache when Options.MaxBytes is zero.
const DefaultMaxBytes int64 = 2 << 30

// FormatVersion is the entry format written by this package. Entries of any
// other version are treated as misses and deleted.
//
//	3: entries no longer hold the layer's created_by and comment (they may
//	   carry secrets; the scan takes them from the image config), and files
//	   are private (0600 in 0700 directories).
const FormatVersion = 3

// Limits on what an entry may claim, so that a hostile or corrupt file can
// never make a read allocate much.
const (
	maxKeyLen     = 64 << 10
	maxPayloadLen = 256 << 20
	maxDecoded    = 1 << 30
	// zstdWindow is the compression window: what the encoder and the
	// decoder of one entry hold, whatever its size.
	zstdWindow = 1 << 20
)

// Names the cache creates and is allowed to delete.
const (
	tempPrefix = ".tmp-"
	tagFile    = "CACHEDIR.TAG"
	tagContent = "Signature: 8a477f597d28d172789f06886806bc55\n" +
		"# This file is a cache directory tag created by drydock (per-layer scan cache).\n" +
		"# For information about cache directory tags see https://bford.info/cachedir/\n"
	// staleTemp is the age after which a temporary file is taken as left
	// over by a crashed writer.
	staleTemp = time.Hour
)

// header layout (little endian):
//
//	0  magic "DDLC"
//	4  uint16 format version
//	6  uint16 reserved (0)
//	8  uint64 fingerprint of the LayerResult type
//	16 uint32 key length
//	20 uint32 payload length
//	24 [32]byte SHA-256 of key || payload
//	56 key, then payload
const headerLen = 56

var magic = [4]byte{'D', 'D', 'L', 'C'}

// Options tunes a Cache. The zero value uses the defaults.
type Options struct {
	// MaxBytes bounds the total size of the entries (default 2 GiB).
	MaxBytes int64
	// Logger receives debug messages about corrupt entries and evictions
	// (default: discarded).
	Logger *slog.Logger
}

// Cache is a directory of per-layer results. It is safe for concurrent use
// by several goroutines and several processes. Its method set matches
// scan.LayerCache.
type Cache struct {
	dir         string
	maxBytes    int64
	log         *slog.Logger
	fingerprint uint64

	mu    sync.Mutex
	sized bool  // size holds a walked total (plus what was written since)
	size  int64 // estimated total bytes of the entries

	pruning sync.Mutex // one eviction at a time in this process
}

// Stats describes the cache's contents.
type Stats struct {
	Dir     string `json:"dir"`
	Entries int    `json:"entries"`
	Bytes   int64  `json:"bytes"`
}

// Open creates dir if needed and returns a cache stored in it. The cache owns
// the directory's entries; Clean and eviction delete only files named the way
// this package names them.
func Open(dir string, opt Options) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("opening layer cache: no directory given")
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating layer cache directory %q: %w", dir, err)
	}
	// A cache written by an older drydock was world-readable: make it private
	// (best effort: a read-only cache is still usable for reads).
	_ = os.Chmod(dir, 0o700)
	tag := filepath.Join(dir, tagFile)
	if _, err := os.Stat(tag); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(tag, []byte(tagContent), 0o600); err != nil {
			opt.Logger.Debug("could not write cache directory tag", "path", tag, "err", err)
		}
	}
	return &Cache{
		dir:         dir,
		maxBytes:    opt.MaxBytes,
		log:         opt.Logger,
		fingerprint: typeFingerprint(reflect.TypeFor[inventory.LayerResult]()),
	}, nil
}

// Dir is the cache directory.
func (c *Cache) Dir() string { return c.dir }

// path is where the entry for key lives.
func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, h[:2], h)
}

// Get returns the result stored under key. A missing, unreadable, corrupt or
// stale entry is a miss (the last three are deleted). A hit marks the entry
// as recently used.
func (c *Cache) Get(ctx context.Context, key string) (*inventory.LayerResult, bool) {
	if ctx.Err() != nil {
		return nil, false
	}
	p := c.path(key)
	f, err := os.Open(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log.Debug("layer cache entry not readable", "path", p, "err", err)
		}
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		c.log.Debug("layer cache entry not readable", "path", p, "err", err)
		return nil, false
	}
	r, err := c.read(f, fi.Size(), key)
	if err != nil {
		c.log.Debug("dropping layer cache entry", "path", p, "err", err)
		c.drop(p, fi)
		return nil, false
	}
	now := time.Now()
	if err := os.Chtimes(p, now, now); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Debug("could not mark layer cache entry as used", "path", p, "err", err)
	}
	return r, true
}

// drop deletes the entry at p if it is still the file fi (another process
// may have replaced it with a good entry meanwhile).
func (c *Cache) drop(p string, fi fs.FileInfo) {
	cur, err := os.Stat(p)
	if err != nil || !os.SameFile(cur, fi) {
		return
	}
	if err := os.Remove(p); err == nil {
		c.addSize(-fi.Size())
	}
}

// read decodes one entry of the given size and checks it belongs to key.
func (c *Cache) read(r io.Reader, size int64, key string) (*inventory.LayerResult, error) {
	if size < headerLen {
		return nil, fmt.Errorf("truncated entry: %d bytes, header alone is %d", size, headerLen)
	}
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	if !bytes.Equal(hdr[0:4], magic[:]) {
		return nil, fmt.Errorf("bad magic %q", hdr[0:4])
	}
	if v := binary.LittleEndian.Uint16(hdr[4:6]); v != FormatVersion {
		return nil, fmt.Errorf("entry format version %d, want %d", v, FormatVersion)
	}
	if fp := binary.LittleEndian.Uint64(hdr[8:16]); fp != c.fingerprint {
		return nil, fmt.Errorf("entry written for another LayerResult shape (fingerprint %016x, want %016x)", fp, c.fingerprint)
	}
	keyLen := int64(binary.LittleEndian.Uint32(hdr[16:20]))
	payLen := int64(binary.LittleEndian.Uint32(hdr[20:24]))
	if keyLen > maxKeyLen || payLen > maxPayloadLen {
		return nil, fmt.Errorf("implausible lengths: key %d, payload %d", keyLen, payLen)
	}
	if want := headerLen + keyLen + payLen; size != want {
		return nil, fmt.Errorf("entry is %d bytes, header says %d", size, want)
	}
	sum := sha256.New()
	k := make([]byte, keyLen)
	if _, err := io.ReadFull(r, k); err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	sum.Write(k)
	if string(k) != key {
		return nil, fmt.Errorf("entry holds key %q", k)
	}
	// The payload is decoded as it is read and checked against the header's
	// checksum at its end: the result is returned only if every byte is
	// the one written.
	payload := io.TeeReader(io.LimitReader(r, payLen), sum)
	zr, err := zstd.NewReader(payload, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecoded),
		zstd.WithDecoderMaxWindow(zstdWindow))
	if err != nil {
		return nil, fmt.Errorf("creating zstd decoder: %w", err)
	}
	defer zr.Close()
	res, derr := decodeResult(&maxReader{r: zr, left: maxDecoded})
	if _, err := io.Copy(io.Discard, payload); err != nil {
		return nil, fmt.Errorf("reading payload: %w", err)
	}
	if !bytes.Equal(sum.Sum(nil), hdr[24:56]) {
		return nil, errors.New("checksum mismatch")
	}
	if derr != nil {
		return nil, derr
	}
	return res, nil
}

// Put stores r under key, replacing any entry, then evicts old entries if
// the cache is over its bound. It never fails because another process wrote
// or deleted the same entry meanwhile.
func (c *Cache) Put(ctx context.Context, key string, r *inventory.LayerResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r == nil {
		return errors.New("storing layer result: nil result")
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("storing layer result: key of %d bytes is too long", len(key))
	}
	// The layer's history text (created_by, comment) is not stored: it may
	// carry secrets, and the scan takes it from the image config on a hit.
	stripped := *r
	stripped.Layer.CreatedBy, stripped.Layer.Comment = "", ""
	p := c.path(key)
	n, err := c.writeEntry(p, key, &stripped)
	if err != nil {
		return err
	}
	c.addSize(n)
	c.maybeEvict(ctx, p)
	return nil
}

// writeEntry streams the entry of r under key to a temporary file beside p,
// then renames it to p, and returns its size. The payload is compressed as
// it is encoded, value by value (see encodeResult), and the header, which
// holds the payload's length and checksum, is written last: a large layer
// result is never held encoded in memory.
func (c *Cache) writeEntry(p, key string, r *inventory.LayerResult) (size int64, err error) {
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("creating layer cache directory %q: %w", dir, err)
	}
	// CreateTemp makes the file 0600: entries stay private to the user (a
	// layer result can hold redacted secret evidence and file paths).
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return 0, fmt.Errorf("creating layer cache entry in %q: %w", dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("writing layer cache entry %q: %w", p, err)
		}
	}()
	var hdr [headerLen]byte
	if _, err := f.Write(hdr[:]); err != nil {
		return 0, err
	}
	sum := sha256.New()
	bw := bufio.NewWriterSize(f, 64<<10)
	body := &countingWriter{w: io.MultiWriter(bw, sum)}
	if _, err := io.WriteString(body, key); err != nil {
		return 0, err
	}
	zw, err := zstd.NewWriter(body, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdWindow))
	if err != nil {
		return 0, fmt.Errorf("creating zstd encoder: %w", err)
	}
	if err := encodeResult(zw, r); err != nil {
		zw.Close()
		return 0, fmt.Errorf("encoding layer result: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("compressing layer result: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	payLen := body.n - int64(len(key))
	if payLen > maxPayloadLen {
		return 0, fmt.Errorf("compressed entry of %d bytes is over the limit of %d", payLen, maxPayloadLen)
	}
	copy(hdr[0:4], magic[:])
	binary.LittleEndian.PutUint16(hdr[4:6], FormatVersion)
	binary.LittleEndian.PutUint64(hdr[8:16], c.fingerprint)
	binary.LittleEndian.PutUint32(hdr[16:20], uint32(len(key)))
	binary.LittleEndian.PutUint32(hdr[20:24], uint32(payLen))
	copy(hdr[24:56], sum.Sum(nil))
	if _, err := f.WriteAt(hdr[:], 0); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, p); err != nil {
		return 0, err
	}
	return headerLen + body.n, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func (c *Cache) addSize(n int64) {
	c.mu.Lock()
	c.size += n
	c.mu.Unlock()
}

// maybeEvict walks the directory once per process to learn its size, then
// keeps a running estimate; over the bound it evicts down to 90% of it.
func (c *Cache) maybeEvict(ctx context.Context, justWritten string) {
	if !c.pruning.TryLock() {
		return // another goroutine is walking or evicting
	}
	defer c.pruning.Unlock()
	c.mu.Lock()
	sized, size := c.sized, c.size
	c.mu.Unlock()
	if !sized {
		ents, err := c.scan(ctx)
		if err != nil {
			c.log.Debug("could not size the layer cache", "dir", c.dir, "err", err)
			return
		}
		size = total(ents)
		c.mu.Lock()
		c.sized, c.size = true, size
		c.mu.Unlock()
	}
	if size <= c.maxBytes {
		return
	}
	if _, err := c.prune(ctx, c.maxBytes-c.maxBytes/10, justWritten); err != nil {
		c.log.Debug("could not evict layer cache entries", "dir", c.dir, "err", err)
	}
}

// entry is one file found by scan.
type entry struct {
	path  string
	size  int64
	mtime time.Time
}

func total(ents []entry) int64 {
	var n int64
	for _, e := range ents {
		n += e.size
	}
	return n
}

// isShard reports whether name is a shard directory name (2 lower-case hex).
func isShard(name string) bool {
	return len(name) == 2 && isHex(name)
}

func isEntryName(name string) bool {
	return len(name) == 64 && isHex(name)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// scan lists the entries, deleting temporary files left by crashed writers.
// Files that vanish while it runs (another process evicting) are skipped.
func (c *Cache) scan(ctx context.Context) ([]entry, error) {
	shards, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("listing layer cache %q: %w", c.dir, err)
	}
	var ents []entry
	now := time.Now()
	for _, s := range shards {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !s.IsDir() || !isShard(s.Name()) {
			continue
		}
		sd := filepath.Join(c.dir, s.Name())
		files, err := os.ReadDir(sd)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("listing layer cache %q: %w", sd, err)
		}
		for _, f := range files {
			name := f.Name()
			if !isEntryName(name) && !strings.HasPrefix(name, tempPrefix) {
				continue
			}
			fi, err := f.Info()
			if err != nil {
				continue // deleted meanwhile
			}
			p := filepath.Join(sd, name)
			if strings.HasPrefix(name, tempPrefix) {
				if now.Sub(fi.ModTime()) > staleTemp {
					os.Remove(p)
				}
				continue
			}
			if fi.Mode().IsRegular() {
				ents = append(ents, entry{path: p, size: fi.Size(), mtime: fi.ModTime()})
			}
		}
	}
	return ents, nil
}

// prune deletes least recently used entries until at most target bytes
// remain, never deleting keep. It returns how many entries it deleted.
func (c *Cache) prune(ctx context.Context, target int64, keep string) (int, error) {
	ents, err := c.scan(ctx)
	if err != nil {
		return 0, err
	}
	size := total(ents)
	slices.SortFunc(ents, func(a, b entry) int {
		if c := a.mtime.Compare(b.mtime); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	removed := 0
	var errs []error
	for _, e := range ents {
		if size <= target {
			break
		}
		if e.path == keep {
			continue
		}
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		err := os.Remove(e.path)
		switch {
		case err == nil:
			removed++
			size -= e.size
			c.log.Debug("evicted layer cache entry", "path", e.path, "bytes", e.size)
		case errors.Is(err, fs.ErrNotExist):
			size -= e.size // another process evicted it
		default:
			errs = append(errs, fmt.Errorf("deleting layer cache entry %q: %w", e.path, err))
		}
	}
	c.mu.Lock()
	c.sized, c.size = true, size
	c.mu.Unlock()
	return removed, errors.Join(errs...)
}

// Prune deletes least recently used entries until the cache holds at most
// maxBytes, and returns how many it deleted.
func (c *Cache) Prune(ctx context.Context, maxBytes int64) (int, error) {
	if maxBytes < 0 {
		maxBytes = 0
	}
	c.pruning.Lock()
	defer c.pruning.Unlock()
	return c.prune(ctx, maxBytes, "")
}

// Stats counts the entries and their bytes.
func (c *Cache) Stats(ctx context.Context) (Stats, error) {
	ents, err := c.scan(ctx)
	if err != nil {
		return Stats{}, err
	}
	return Stats{Dir: c.dir, Entries: len(ents), Bytes: total(ents)}, nil
}

// Clean deletes every entry, every temporary file and the shard directories
// that are then empty. Files the cache did not create are left alone.
func (c *Cache) Clean(ctx context.Context) error {
	c.pruning.Lock()
	defer c.pruning.Unlock()
	shards, err := os.ReadDir(c.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("listing layer cache %q: %w", c.dir, err)
	}
	var errs []error
	for _, s := range shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !s.IsDir() || !isShard(s.Name()) {
			continue
		}
		sd := filepath.Join(c.dir, s.Name())
		files, err := os.ReadDir(sd)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("listing layer cache %q: %w", sd, err))
			continue
		}
		for _, f := range files {
			if name := f.Name(); isEntryName(name) || strings.HasPrefix(name, tempPrefix) {
				if err := os.Remove(filepath.Join(sd, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, fmt.Errorf("deleting layer cache entry %q: %w", filepath.Join(sd, name), err))
				}
			}
		}
		// Fails harmlessly when a foreign file, or a concurrent writer's
		// new entry, is still there.
		os.Remove(sd)
	}
	c.mu.Lock()
	c.sized, c.size = true, 0
	c.mu.Unlock()
	return errors.Join(errs...)
}

// typeFingerprint hashes the shape of t (field names, types and tags,
// recursively), so that entries written by a build whose LayerResult
// differs are never decoded into the wrong shape.
func typeFingerprint(t reflect.Type) uint64 {
	h := sha256.New()
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		fmt.Fprintf(h, "%s:%s(", t.Kind(), t.String())
		defer io.WriteString(h, ")")
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				fmt.Fprintf(h, "%s %q ", f.Name, f.Tag)
				walk(f.Type)
			}
		}
	}
	walk(t)
	return binary.LittleEndian.Uint64(h.Sum(nil))
}
