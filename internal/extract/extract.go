// Package extract defines the contract between the layer walker and the
// parsers that turn captured files into packages.
//
// An extractor is a pure function of one file of one layer: the walker asks
// every extractor whether it wants a file (Wants: cheap, no I/O), captures the
// file once, and hands it to each extractor that asked. Cross-layer facts (the
// distro, whiteouts, which layer introduced a package) are resolved later by
// inventory.Merge.
package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// Extractor parses one kind of file.
type Extractor interface {
	// Name is unique and stable, e.g. "os/apk", "lang/npm".
	Name() string
	// Version is bumped whenever the output for the same input changes; it is
	// part of the per-layer cache key.
	Version() int
	// Wants reports whether the file at path (absolute, cleaned, e.g.
	// "/lib/apk/db/installed") should be captured. It must be cheap and do no I/O.
	Wants(path string, mode fs.FileMode, size int64) bool
	// Extract parses one captured file. It may return a partial inventory
	// together with an error: partial results are data. Malformed input yields
	// an error (wrapped with the path), never a panic.
	Extract(ctx context.Context, in *Input) (inventory.Inventory, error)
}

// File is a captured file. Contents are either in memory or spilled to a temp
// file owned by the walker (removed after extraction).
type File interface {
	io.ReaderAt
	// Size is the file's size in bytes.
	Size() int64
	// Open returns a fresh reader from the start of the file.
	Open() (io.ReadCloser, error)
	// LocalPath returns a path on the local disk holding the file's contents,
	// writing a temp file if it was held in memory. For parsers that need a
	// real file (sqlite, Berkeley DB). The file is removed by the walker.
	LocalPath() (string, error)
}

// ErrTooLarge is wrapped by ReadAll's error for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ReadAll reads the whole file, refusing one larger than limit bytes (by its
// Size, and by what Open actually yields) with an error that wraps
// ErrTooLarge. The caller wraps errors with the action and the path.
func ReadAll(f File, limit int64) ([]byte, error) {
	if f.Size() > limit {
		return nil, &tooLargeError{size: f.Size(), limit: limit}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &tooLargeError{size: -1, limit: limit}
	}
	return data, nil
}

// tooLargeError is ReadAll's error; size is -1 when the file yielded more
// than its Size said.
type tooLargeError struct{ size, limit int64 }

func (e *tooLargeError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("file is over the %d byte limit", e.limit)
	}
	return fmt.Sprintf("file is %d bytes, over the %d byte limit", e.size, e.limit)
}

func (e *tooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Input is what an extractor receives for one file.
type Input struct {
	// Path is the file's absolute, cleaned path inside the image.
	Path string
	Mode fs.FileMode
	File File
	// Layer is the layer the file was read from (DiffID may be empty for a
	// rootfs directory).
	Layer inventory.Layer
	// Budget is the scan's shared budget of temp space and inflated bytes,
	// and where temp files go. Nil (in tests, for a lone file) sets no
	// shared limit; its methods work on nil.
	Budget *Budget
}

// maxErrors is how many errors an Errors keeps.
const maxErrors = 20

// Errors collects the errors found in one file, keeping the first 20 and
// counting the others, so that a file of a million malformed lines yields
// one short error (and one short note), not a million. The zero value is
// ready to use.
type Errors struct {
	errs []error
	more int
}

// Add records err (nil is ignored).
func (e *Errors) Add(err error) {
	switch {
	case err == nil:
	case len(e.errs) < maxErrors:
		e.errs = append(e.errs, err)
	default:
		e.more++
	}
}

// Len is the number of errors added.
func (e *Errors) Len() int { return len(e.errs) + e.more }

// Join returns the errors kept, a count of the others, and last (the error
// that stopped reading, if any: always kept, so that errors.Is finds
// context.Canceled) as one error, or nil if there are none.
func (e *Errors) Join(last error) error {
	errs := e.errs
	if e.more > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("and %d more errors", e.more))
	}
	if last != nil {
		errs = append(errs[:len(errs):len(errs)], last)
	}
	return errors.Join(errs...)
}

// ErrNotApplicable is returned by an extractor for a wanted file that turns out
// not to be of its format (e.g. an ELF without Go build info). It is not
// reported to the user.
var ErrNotApplicable = errors.New("not applicable")
