package extract

import (
	"bytes"
	"errors"
	"io"
)

// ErrNoLocalPath is returned by LocalPath of a MemFile.
var ErrNoLocalPath = errors.New("in-memory file has no local path")

// MemFile is a File held in memory, for tests and for callers that already
// hold a file's bytes. LocalPath is not available.
type MemFile struct {
	r *bytes.Reader
}

// NewMemFile returns a File over data (not copied).
func NewMemFile(data []byte) *MemFile { return &MemFile{r: bytes.NewReader(data)} }

// ReadAt implements io.ReaderAt.
func (m *MemFile) ReadAt(p []byte, off int64) (int, error) { return m.r.ReadAt(p, off) }

// Size is the file's size.
func (m *MemFile) Size() int64 { return m.r.Size() }

// Open returns a reader from the start.
func (m *MemFile) Open() (io.ReadCloser, error) {
	return io.NopCloser(io.NewSectionReader(m.r, 0, m.r.Size())), nil
}

// LocalPath returns ErrNoLocalPath.
func (m *MemFile) LocalPath() (string, error) { return "", ErrNoLocalPath }
