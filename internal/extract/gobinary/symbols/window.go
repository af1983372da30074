package symbols

import (
	"fmt"
	"io"
)

// window reads a file through one buffer: a request inside the buffer is
// served from it, any other refills the buffer from the requested offset.
// The tables the reader walks are laid out in function order, so each walk
// (function records, pc-value tables, inline trees) gets its own window and
// reads its part of the file nearly sequentially, with few large reads and
// a fixed amount of memory, whatever the size of the executable.
type window struct {
	r      io.ReaderAt
	lo, hi int64 // the part of the file this window may read
	buf    []byte
	off    int64 // file offset of buf[0]
	n      int   // valid bytes in buf
}

// windowSize is the buffer of one window.
const windowSize = 64 << 10

func newWindow(r io.ReaderAt, lo, hi int64) *window {
	return &window{r: r, lo: lo, hi: hi, buf: make([]byte, windowSize), off: -1}
}

// at returns the n bytes at file offset off, valid until the next call.
// Requests larger than the buffer grow it (callers bound n).
func (w *window) at(off int64, n int) ([]byte, error) {
	if n < 0 || off < w.lo || off > w.hi || int64(n) > w.hi-off {
		return nil, fmt.Errorf("%w: %d bytes at offset %#x are outside %#x–%#x", ErrMalformed, n, off, w.lo, w.hi)
	}
	if w.off >= 0 && off >= w.off && off+int64(n) <= w.off+int64(w.n) {
		return w.buf[off-w.off:][:n], nil
	}
	if n > len(w.buf) {
		w.buf = make([]byte, n)
	}
	m := int(min(int64(len(w.buf)), w.hi-off))
	k, err := w.r.ReadAt(w.buf[:m], off)
	if k < n {
		w.off, w.n = -1, 0
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %d bytes at offset %#x: %w", n, off, err)
	}
	w.off, w.n = off, k
	return w.buf[:n], nil
}

// stream decodes a run of bytes that starts at an offset and whose length is
// not known in advance (a pc-value table), a page at a time.
type stream struct {
	c   *pageCache
	off int64
	b   []byte
}

func (s *stream) byte() (byte, error) {
	if len(s.b) == 0 {
		b, err := s.c.rest(s.off)
		if err != nil {
			return 0, err
		}
		s.b = b
	}
	c := s.b[0]
	s.b = s.b[1:]
	s.off++
	return c, nil
}

// uvarint reads an unsigned LEB128 value of at most 32 bits, as the linker
// writes pc-value tables.
func (s *stream) uvarint() (uint32, error) {
	var v uint32
	for shift := uint(0); ; shift += 7 {
		if shift > 28 {
			return 0, fmt.Errorf("%w: varint longer than 5 bytes at offset %#x", ErrMalformed, s.off)
		}
		c, err := s.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

// pageCache reads a part of a file through a direct-mapped cache of small
// pages. The pc-value tables and the inline trees are deduplicated by the
// linker, so a walk in function order jumps back to tables written earlier:
// a single window would be refilled at nearly every function, a cache of a
// few megabytes reads each page about once.
type pageCache struct {
	r       io.ReaderAt
	lo, hi  int64
	pages   []int64 // page number held by each slot, -1 if none
	lens    []int   // valid bytes of each slot
	buf     []byte  // the slots' bytes
	scratch []byte  // for requests that span pages
}

const (
	pageSize     = 4 << 10
	maxPageSlots = 1024 // 4 MiB
)

func newPageCache(r io.ReaderAt, lo, hi int64) *pageCache {
	n := int(min(int64(maxPageSlots), (hi-lo)/pageSize+1))
	c := &pageCache{r: r, lo: lo, hi: hi, pages: make([]int64, n), lens: make([]int, n), buf: make([]byte, n*pageSize)}
	for i := range c.pages {
		c.pages[i] = -1
	}
	return c
}

// page returns the cached bytes of the page holding off, from off on.
func (c *pageCache) page(off int64) ([]byte, error) {
	p := off / pageSize
	slot := int(p % int64(len(c.pages)))
	b := c.buf[slot*pageSize : (slot+1)*pageSize]
	if c.pages[slot] != p {
		start := p * pageSize
		m := int(min(int64(pageSize), c.hi-start))
		k, err := c.r.ReadAt(b[:m], start)
		if k < m && (off-start) >= int64(k) {
			c.pages[slot] = -1
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading at offset %#x: %w", off, err)
		}
		c.pages[slot], c.lens[slot] = p, k
	}
	return b[off-p*pageSize : c.lens[slot]], nil
}

// at returns the n bytes at file offset off, valid until the next call.
func (c *pageCache) at(off int64, n int) ([]byte, error) {
	if n < 0 || off < c.lo || off > c.hi || int64(n) > c.hi-off {
		return nil, fmt.Errorf("%w: %d bytes at offset %#x are outside %#x–%#x", ErrMalformed, n, off, c.lo, c.hi)
	}
	if off/pageSize == (off+int64(n)-1)/pageSize || n == 0 {
		b, err := c.page(off)
		if err != nil {
			return nil, err
		}
		if len(b) < n {
			return nil, fmt.Errorf("reading %d bytes at offset %#x: %w", n, off, io.ErrUnexpectedEOF)
		}
		return b[:n], nil
	}
	if n > len(c.scratch) {
		c.scratch = make([]byte, n)
	}
	k, err := c.r.ReadAt(c.scratch[:n], off)
	if k < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %d bytes at offset %#x: %w", n, off, err)
	}
	return c.scratch[:n], nil
}

// rest returns the bytes from off to the end of its page (at least one).
func (c *pageCache) rest(off int64) ([]byte, error) {
	if off < c.lo || off >= c.hi {
		return nil, fmt.Errorf("%w: table runs past offset %#x", ErrMalformed, off)
	}
	b, err := c.page(off)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("reading at offset %#x: %w", off, io.ErrUnexpectedEOF)
	}
	return b[:min(len(b), int(c.hi-off))], nil
}
