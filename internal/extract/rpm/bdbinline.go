package rpm

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	rpmdb "github.com/erikvarga/go-rpmdb/pkg"
	"modernc.org/sqlite"
)

// Small package headers are kept inline on a Berkeley DB hash page (an
// H_KEYDATA item, type 1: the bytes follow the type byte up to the item
// before it), large ones on overflow pages (H_OFFPAGE, type 3). go-rpmdb
// (pkg/bdb at v0.0.0-20250523120114-a15a62cd4593) reads only the overflow
// ones ("Only Overflow pages contain package data, skip anything else"), so
// an image's smallest packages — basesystem and almalinux-gpg-keys in
// AlmaLinux 9.0 micro — would be missing. drydock reads the inline items
// itself (the page layout is libdb's db_page.h: a 26-byte header, then the
// uint16 offsets of the items, key then data, items packed from the end of
// the page) and lets go-rpmdb parse their headers, through a private SQLite
// rpm database (go-rpmdb's SQLite reader takes the same header blobs): the
// header format is parsed by the library only.

const bdbKeyData = 1 // H_KEYDATA

// bdbInlineHeaders returns the package headers stored inline on the hash
// pages of a Berkeley DB rpm database (the database was preflighted: its
// metadata, page size and offsets are sane). Values of 8 bytes or less are
// not headers (rpm keeps its next header number under key 0) and are
// skipped; a value whose header does not check is an error.
func bdbInlineHeaders(ctx context.Context, r io.ReaderAt, size int64) ([][]byte, error) {
	meta, err := readAt(r, size, 0, 72, "bdb metadata")
	if err != nil {
		return nil, err
	}
	var order binary.ByteOrder = binary.LittleEndian
	if order.Uint32(meta[12:]) != bdbHashMagic {
		order = binary.BigEndian
	}
	pageSize := int64(order.Uint32(meta[20:]))
	lastPage := order.Uint32(meta[32:])
	if !bdbPageSizes[uint32(pageSize)] {
		return nil, fmt.Errorf("bdb: unexpected page size %d", pageSize)
	}
	var out [][]byte
	for pageNum := uint32(1); pageNum <= lastPage; pageNum++ {
		if pageNum%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		page, err := readAt(r, size, int64(pageNum)*pageSize, pageSize, fmt.Sprintf("bdb page %d", pageNum))
		if err != nil {
			return nil, err
		}
		if t := page[25]; t != bdbTypeHashUnsort && t != bdbTypeHash {
			continue
		}
		n := int(order.Uint16(page[20:]))
		if bdbPageHeaderSize+2*n > len(page) {
			return nil, fmt.Errorf("bdb page %d: hash index larger than the page", pageNum)
		}
		offset := func(i int) int64 { return int64(order.Uint16(page[bdbPageHeaderSize+2*i:])) }
		for i := 1; i < n; i += 2 { // data items; their keys are at i-1
			off := offset(i)
			if off >= pageSize || page[off] != bdbKeyData {
				continue
			}
			// Items are packed downwards from the end of the page: an
			// item ends where the one before it in the index starts.
			end := offset(i - 1)
			if end <= off || end > pageSize {
				return nil, fmt.Errorf("bdb page %d: item %d at offset %d has no length (next item at %d)", pageNum, i, off, end)
			}
			blob := page[off+1 : end]
			if len(blob) <= 8 {
				continue
			}
			if err := checkBlob(blob, int64(len(blob))); err != nil {
				return nil, fmt.Errorf("bdb page %d: inline package header: %w", pageNum, err)
			}
			out = append(out, append([]byte(nil), blob...))
		}
	}
	return out, nil
}

// parseHeaders lets go-rpmdb parse header blobs: they are written to a
// private SQLite rpm database (the Packages table go-rpmdb's SQLite reader
// queries) in a temporary directory under tmp, which is removed after.
func parseHeaders(ctx context.Context, tmp string, blobs [][]byte) (infos []*rpmdb.PackageInfo, err error) {
	dir, err := os.MkdirTemp(tmp, "drydock-rpmdb-inline-*")
	if err != nil {
		return nil, fmt.Errorf("making temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "rpmdb.sqlite")
	if err := writeSQLiteRPMDB(ctx, file, blobs); err != nil {
		return nil, err
	}
	return listPackages(ctx, file)
}

func writeSQLiteRPMDB(ctx context.Context, file string, blobs [][]byte) (err error) {
	conn, err := sqlite.NewConnector(file)
	if err != nil {
		return fmt.Errorf("creating an rpm database for the inline headers: %w", err)
	}
	db := sql.OpenDB(conn)
	defer func() { err = errors.Join(err, db.Close()) }()
	if _, err := db.ExecContext(ctx, "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"); err != nil {
		return fmt.Errorf("creating an rpm database for the inline headers: %w", err)
	}
	for _, b := range blobs {
		if _, err := db.ExecContext(ctx, "INSERT INTO Packages (blob) VALUES (?)", b); err != nil {
			return fmt.Errorf("writing an inline header: %w", err)
		}
	}
	return nil
}
