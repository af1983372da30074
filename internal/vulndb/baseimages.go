package vulndb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// Tables of published base images ship with the database (issue 18): the
// base-image attribution of every scan that uses the database knows the
// public bases without a `drydock base add`, and a database moved with
// `db push`/`db pull` carries them. The database keeps each table as the
// JSON it was imported from (records of diff_ids, manifest digest and tags;
// internal/baseimage.ImportTable reads them); this package only checks
// their shape, it does not interpret them.
//
//	baseimages/<source name> → the table, compacted JSON

const bucketBaseImages = "baseimages"

// BaseImagePrefix starts the source name of a base-image table
// ("base-images/busybox.json").
const BaseImagePrefix = "base-images/"

// maxBaseImageTable bounds one table (the 127-record busybox table is 60 KB).
const maxBaseImageTable = 64 << 20

// ImportBaseImages reads a table of published base images — a JSON object
// whose "records" each have a diff_id or diff_ids and a manifest_digest —
// and keeps it in the database under the source's name. It returns the
// number of records.
func (b *Builder) ImportBaseImages(r io.Reader, name string, src SourceInfo) (int, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxBaseImageTable+1))
	if err != nil {
		return 0, fmt.Errorf("reading base-image table %s: %w", name, err)
	}
	if len(raw) > maxBaseImageTable {
		return 0, fmt.Errorf("reading base-image table %s: larger than %d bytes", name, maxBaseImageTable)
	}
	n, err := checkBaseImageTable(raw)
	if err != nil {
		return 0, fmt.Errorf("reading base-image table %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return 0, fmt.Errorf("reading base-image table %s: %w", name, err)
	}
	if b.baseImages == nil {
		b.baseImages = map[string][]byte{}
	}
	b.baseImages[name] = buf.Bytes()
	b.AddSource(src)
	return n, nil
}

// checkBaseImageTable checks a table's shape and counts its records.
func checkBaseImageTable(raw []byte) (int, error) {
	var doc struct {
		Records []struct {
			DiffID         string   `json:"diff_id"`
			DiffIDs        []string `json:"diff_ids"`
			ManifestDigest string   `json:"manifest_digest"`
			Tags           []string `json:"tags_when_first_seen"`
		} `json:"records"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return 0, err
	}
	if len(doc.Records) == 0 {
		return 0, fmt.Errorf("no records")
	}
	for i, r := range doc.Records {
		ids := r.DiffIDs
		if r.DiffID != "" {
			ids = append(ids, r.DiffID)
		}
		if len(ids) == 0 {
			return 0, fmt.Errorf("record %d: no diff_id", i)
		}
		for _, d := range append(ids, r.ManifestDigest) {
			if d != "" && !strings.HasPrefix(d, "sha256:") {
				return 0, fmt.Errorf("record %d: %q is not a sha256 digest", i, d)
			}
		}
	}
	return len(doc.Records), nil
}

// putBaseImages writes the tables (in Commit).
func (b *Builder) putBaseImages() error {
	if len(b.baseImages) == 0 {
		return nil
	}
	keys := make([]string, 0, len(b.baseImages))
	for k := range b.baseImages {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return b.putSorted([]string{bucketBaseImages}, keys, func(k string) ([]byte, error) {
		return b.baseImages[k], nil
	})
}

// BaseImageTable is one table of published base images in the database.
type BaseImageTable struct {
	// Name is the source name ("base-images/busybox.json").
	Name string
	// JSON is the table (internal/baseimage.ImportTable reads it).
	JSON []byte
}

// BaseImages returns the tables of published base images the database
// carries, sorted by name; none for a database built without them.
func (db *DB) BaseImages(ctx context.Context) ([]BaseImageTable, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []BaseImageTable
	err := db.view(func(tx *bbolt.Tx) error {
		bk := tx.Bucket([]byte(bucketBaseImages))
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			out = append(out, BaseImageTable{Name: string(k), JSON: bytes.Clone(v)})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the base-image tables of %s: %w", db.path, err)
	}
	return out, nil
}

// checkBaseImages checks the tables against the metadata's count (Check).
func checkBaseImages(bk *bbolt.Bucket, want int) error {
	n := 0
	if bk != nil {
		err := bk.ForEach(func(k, v []byte) error {
			n++
			if _, err := checkBaseImageTable(v); err != nil {
				return fmt.Errorf("damaged: base-image table %q: %w", k, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if n != want {
		return fmt.Errorf("damaged: the database holds %d base-image tables, its metadata lists %d", n, want)
	}
	return nil
}
