package rpm

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"modernc.org/sqlite"
)

// The checks in this file walk each database exactly as go-rpmdb's readers
// (pkg/bdb, pkg/ndb, pkg/sqlite3 at v0.0.0-20250523120114-a15a62cd4593) will,
// and reject every input on which those readers would
//
//   - panic in their goroutine (index or slice out of range), which no
//     recover() here can catch and which would end the process;
//   - loop forever (an overflow chain through a non-overflow page, or a
//     cycle), growing memory on each turn;
//   - allocate without bound (a blob or header length taken from the file);
//   - print to stdout (bad NDB slot magic) or leave their goroutine blocked
//     forever on a channel (errors they report without stopping).
//
// They are not a parser: the packages still come from go-rpmdb. When the
// library is updated, this file must be re-checked against it.

type format int

const (
	formatBDB format = iota
	formatNDB
	formatSQLite
)

func (f format) String() string {
	switch f {
	case formatNDB:
		return "NDB"
	case formatSQLite:
		return "SQLite"
	}
	return "Berkeley DB"
}

var sqliteMagic = []byte("SQLite format 3\x00")

const (
	ndbHeaderMagic = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic   = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic   = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbMaxSlotPage = 2048
	ndbSlotsPerPg  = 4096 / 16

	bdbHashMagic      = 0x00061561
	bdbPageHeaderSize = 26
	bdbHashOffSize    = 12
	bdbTypeHashUnsort = 2
	bdbTypeHashOff    = 3 // HOFFPAGE item
	bdbTypeOverflow   = 7
	bdbTypeHashMeta   = 8
	bdbTypeHash       = 13
)

// detect picks the backend the way rpmdb.Open does: SQLite by its magic,
// then NDB by a valid header, and Berkeley DB for anything else.
func detect(r interface {
	io.ReaderAt
	Size() int64
}) (format, error) {
	size := r.Size()
	if size < int64(len(sqliteMagic)) {
		return 0, fmt.Errorf("too small to be an rpm database (%d bytes)", size)
	}
	head := make([]byte, min(size, 32))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("reading header: %w", err)
	}
	if bytes.Equal(head[:len(sqliteMagic)], sqliteMagic) {
		return formatSQLite, nil
	}
	if len(head) == 32 {
		le := binary.LittleEndian
		if le.Uint32(head[0:]) == ndbHeaderMagic && le.Uint32(head[4:]) == 0 && le.Uint32(head[12:]) != 0 {
			return formatNDB, nil
		}
	}
	return formatBDB, nil
}

// preflight checks a Berkeley DB or NDB file (see the comment at the top).
func preflight(ctx context.Context, f format, r interface {
	io.ReaderAt
	Size() int64
}) error {
	switch f {
	case formatNDB:
		return preflightNDB(ctx, r, r.Size())
	case formatBDB:
		return preflightBDB(ctx, r, r.Size())
	}
	return fmt.Errorf("no preflight for %v", f)
}

// checkBlob checks the start of an rpm header blob ("il" index entries and
// "dl" data bytes, big-endian) against the blob's length n, so that the
// library's header import allocates no more than the blob justifies.
func checkBlob(head []byte, n int64) error {
	if n < 8 || len(head) < 8 {
		return fmt.Errorf("package header of %d bytes is too short", n)
	}
	il := int64(int32(binary.BigEndian.Uint32(head[0:])))
	dl := int64(int32(binary.BigEndian.Uint32(head[4:])))
	if il < 1 || dl < 0 || 8+16*il+dl > n {
		return fmt.Errorf("package header claims %d entries and %d data bytes but has %d bytes", il, dl, n)
	}
	return nil
}

func readAt(r io.ReaderAt, size int64, off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off > size || n > size-off {
		return nil, fmt.Errorf("truncated: %s at offset %d (%d bytes) is past the end of the %d-byte file", what, off, n, size)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && off+n == size) {
		return nil, fmt.Errorf("reading %s at offset %d: %w", what, off, err)
	}
	return b, nil
}

var bdbPageSizes = map[uint32]bool{512: true, 1024: true, 2048: true, 4096: true, 8192: true, 16384: true, 32768: true, 65536: true}

// preflightBDB mirrors bdb.Open and (*BerkeleyDB).Read.
func preflightBDB(ctx context.Context, r io.ReaderAt, size int64) error {
	meta := make([]byte, 512) // bdb.Open reads 512 bytes; a shorter file leaves zeros
	if _, err := r.ReadAt(meta, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading bdb metadata: %w", err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	magic := order.Uint32(meta[12:])
	if magic == 0x61150600 {
		order = binary.BigEndian
		magic = order.Uint32(meta[12:])
	}
	if magic != bdbHashMagic {
		return fmt.Errorf("not an rpm database: no SQLite, NDB or Berkeley DB hash magic (found %#x)", magic)
	}
	if meta[24] != 0 {
		return fmt.Errorf("bdb: encrypted database (algorithm %d)", meta[24])
	}
	if meta[25] != bdbTypeHashMeta {
		return fmt.Errorf("bdb: unexpected metadata page type %d", meta[25])
	}
	pageSize32 := order.Uint32(meta[20:])
	if !bdbPageSizes[pageSize32] {
		return fmt.Errorf("bdb: unexpected page size %d", pageSize32)
	}
	pageSize := int64(pageSize32)
	lastPage := order.Uint32(meta[32:])

	seen := map[int64]bool{} // overflow pages already on a chain
	for pageNum := uint32(0); ; pageNum++ {
		if pageNum%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		page, err := readAt(r, size, int64(pageNum)*pageSize, pageSize, fmt.Sprintf("bdb page %d (last page %d)", pageNum, lastPage))
		if err != nil {
			return err
		}
		if t := page[25]; t == bdbTypeHashUnsort || t == bdbTypeHash {
			if err := checkHashPage(ctx, r, size, order, pageNum, page, pageSize, seen); err != nil {
				return err
			}
		}
		if pageNum == lastPage {
			return nil
		}
	}
}

// checkHashPage mirrors HashPageValueIndexes and HashPageValueContent,
// including their uint16/uint32 arithmetic.
func checkHashPage(ctx context.Context, r io.ReaderAt, size int64, order binary.ByteOrder, pageNum uint32, page []byte, pageSize int64, seen map[int64]bool) error {
	entries := order.Uint16(page[20:])
	if entries%2 != 0 {
		return fmt.Errorf("bdb page %d: odd number of hash entries (%d)", pageNum, entries)
	}
	indexSize := entries * 2 // uint16, as in the library
	if len(page) < bdbPageHeaderSize+int(indexSize) {
		return fmt.Errorf("bdb page %d: hash index larger than the page", pageNum)
	}
	index := page[bdbPageHeaderSize : bdbPageHeaderSize+int(indexSize)]
	for i := 2; i+2 <= len(index); i += 4 { // values only (keys at 0, 4, …)
		v := int64(order.Uint16(index[i:]))
		if v >= pageSize {
			return fmt.Errorf("bdb page %d: item offset %d outside the page", pageNum, v)
		}
		if page[v] != bdbTypeHashOff {
			continue
		}
		if v+bdbHashOffSize > pageSize || v+bdbHashOffSize > 0xffff {
			return fmt.Errorf("bdb page %d: item at offset %d runs past the page", pageNum, v)
		}
		if err := checkOverflowChain(ctx, r, size, order, order.Uint32(page[v+4:]), pageSize, seen); err != nil {
			return fmt.Errorf("bdb page %d item %d: %w", pageNum, v, err)
		}
	}
	return nil
}

// checkOverflowChain follows one value's overflow pages and checks the
// header blob they make up.
func checkOverflowChain(ctx context.Context, r io.ReaderAt, size int64, order binary.ByteOrder, first uint32, pageSize int64, seen map[int64]bool) error {
	var (
		head []byte
		n    int64
	)
	for cur := first; cur != 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		off := int64(uint32(pageSize) * cur) // uint32 product, wrapping like the library's
		if seen[off] {
			return fmt.Errorf("overflow page %d is visited twice (cycle)", cur)
		}
		seen[off] = true
		page, err := readAt(r, size, off, pageSize, fmt.Sprintf("overflow page %d", cur))
		if err != nil {
			return err
		}
		if page[25] != bdbTypeOverflow {
			// The library would spin on this page forever.
			return fmt.Errorf("page %d on an overflow chain has type %d", cur, page[25])
		}
		next := order.Uint32(page[16:])
		var content []byte
		if next == 0 {
			end := bdbPageHeaderSize + int64(order.Uint16(page[22:]))
			if end > pageSize || end > 0xffff {
				return fmt.Errorf("overflow page %d: data end %d outside the page", cur, end)
			}
			content = page[bdbPageHeaderSize:end]
		} else {
			content = page[bdbPageHeaderSize:]
		}
		if len(head) < 8 {
			head = append(head, content[:min(len(content), 8-len(head))]...)
		}
		n += int64(len(content))
		cur = next
	}
	return checkBlob(head, n)
}

// preflightNDB mirrors ndb.Open and (*RpmNDB).Read.
func preflightNDB(ctx context.Context, r io.ReaderAt, size int64) error {
	le := binary.LittleEndian
	hdr, err := readAt(r, size, 0, 32, "ndb header")
	if err != nil {
		return err
	}
	slotPages := int64(le.Uint32(hdr[12:]))
	if slotPages > ndbMaxSlotPage {
		return fmt.Errorf("ndb: %d slot pages, more than %d", slotPages, ndbMaxSlotPage)
	}
	nslots := slotPages*ndbSlotsPerPg - 2
	slots, err := readAt(r, size, 32, nslots*16, "ndb slot table")
	if err != nil {
		return err
	}
	for i := int64(0); i < nslots; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := slots[i*16 : i*16+16]
		if m := le.Uint32(s[0:]); m != ndbSlotMagic {
			return fmt.Errorf("ndb: slot %d has bad magic %#x", i, m)
		}
		pkgIndex := le.Uint32(s[4:])
		if pkgIndex == 0 {
			continue
		}
		off := int64(le.Uint32(s[8:])) * 16
		bh, err := readAt(r, size, off, 16, fmt.Sprintf("ndb blob header of package %d", pkgIndex))
		if err != nil {
			return err
		}
		if m := le.Uint32(bh[0:]); m != ndbBlobMagic {
			return fmt.Errorf("ndb: package %d: bad blob magic %#x", pkgIndex, m)
		}
		if got := le.Uint32(bh[4:]); got != pkgIndex {
			return fmt.Errorf("ndb: slot for package %d points at the blob of package %d", pkgIndex, got)
		}
		blobLen := int64(le.Uint32(bh[12:]))
		if blobLen > size-off-16 {
			return fmt.Errorf("truncated: ndb blob of package %d (%d bytes) runs past the end of the %d-byte file", pkgIndex, blobLen, size)
		}
		head, err := readAt(r, size, off+16, min(blobLen, 8), "ndb blob")
		if err != nil {
			return err
		}
		if err := checkBlob(head, blobLen); err != nil {
			return fmt.Errorf("ndb: package %d: %w", pkgIndex, err)
		}
	}
	return nil
}

// preflightSQLite runs the library's query ("SELECT blob FROM Packages") on
// file and checks every blob. It opens the database through
// modernc.org/sqlite's connector; importing that package also registers the
// "sqlite" database/sql driver that go-rpmdb looks up by name.
func preflightSQLite(ctx context.Context, file string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: malformed database (driver panicked: %v)", r)
		}
	}()
	conn, err := sqlite.NewConnector(file)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT blob FROM Packages")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return fmt.Errorf("sqlite: row %d: %w", n, err)
		}
		if err := checkBlob(blob, int64(len(blob))); err != nil {
			return fmt.Errorf("sqlite: row %d: %w", n, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// bdbPackageCount returns how many package headers a Berkeley DB hash
// database of rpm holds, from its metadata page: the hash's element count
// (hash_meta.nelem, at offset 88 after the 72-byte generic meta header),
// less the one entry rpm keeps for its next header number. The byte order
// is the magic's (0x061561 at offset 12). ok is false for anything else.
func bdbPackageCount(r io.ReaderAt) (int, bool) {
	var page [92]byte
	if _, err := r.ReadAt(page[:], 0); err != nil {
		return 0, false
	}
	const hashMagic = 0x061561
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(page[12:]) == hashMagic:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(page[12:]) == hashMagic:
		order = binary.BigEndian
	default:
		return 0, false
	}
	n := order.Uint32(page[88:])
	if n == 0 || n > 1<<20 {
		return 0, false
	}
	return int(n) - 1, true
}
