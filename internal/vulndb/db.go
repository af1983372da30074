package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"go.etcd.io/bbolt"

	"github.com/drydock-scan/drydock/internal/vulndb/cvss"
)

// ErrNoDatabase is returned (wrapped) by Open and Status when there is no
// database file at the path.
var ErrNoDatabase = errors.New("no vulnerability database")

// DB is a read-only handle on a database file. It is safe for concurrent use.
type DB struct {
	path string
	bolt *bbolt.DB
	dec  *zstd.Decoder

	// records caches decoded shared records (summary, details, severity…):
	// one record is shared by many packages (an ALSA by every glibc
	// subpackage), and a scan or a server looks them up again and again.
	mu      sync.Mutex
	records map[string]*storedRecord
	// entries caches decoded per-package entries, keyed ecosystem\x00name.
	entries map[string][]storedEntry
}

// maxCachedRecords bounds the record cache (a few KB each).
const maxCachedRecords = 20000

func (db *DB) record(recs *bbolt.Bucket, id string) (*storedRecord, error) {
	db.mu.Lock()
	rec, ok := db.records[id]
	db.mu.Unlock()
	if ok {
		return rec, nil
	}
	rec = &storedRecord{}
	if recs != nil {
		if rraw := recs.Get([]byte(id)); rraw != nil {
			rdata, err := db.dec.DecodeAll(rraw, nil)
			if err != nil {
				return nil, fmt.Errorf("record %s: %w", id, err)
			}
			if err := json.Unmarshal(rdata, rec); err != nil {
				return nil, fmt.Errorf("record %s: %w", id, err)
			}
		}
	}
	db.mu.Lock()
	if db.records == nil || len(db.records) >= maxCachedRecords {
		db.records = map[string]*storedRecord{}
	}
	db.records[id] = rec
	db.mu.Unlock()
	return rec, nil
}

var _ Reader = (*DB)(nil)

// openTimeout bounds the wait for bbolt's shared file lock.
const openTimeout = 5 * time.Second

// Open opens the database at path read-only. Builders never write to an
// existing file (they rename a new one over it), so readers need no lock
// beyond bbolt's shared one.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %q: run \"drydock db update\"", ErrNoDatabase, path)
		}
		return nil, fmt.Errorf("opening vulnerability database %q: %w", path, err)
	}
	b, err := bbolt.Open(path, 0o444, &bbolt.Options{ReadOnly: true, Timeout: openTimeout, NoStatistics: true})
	if err != nil {
		return nil, fmt.Errorf("opening vulnerability database %q: %w", path, err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(256<<20))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("creating zstd decoder: %w", err)
	}
	db := &DB{path: path, bolt: b, dec: dec}
	if err := db.checkSchema(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) checkSchema() error {
	return db.view(func(tx *bbolt.Tx) error {
		mb := tx.Bucket([]byte(bucketMeta))
		if mb == nil {
			return errors.New("not a drydock vulnerability database (no metadata)")
		}
		v := string(mb.Get([]byte(keySchema)))
		if v != strconv.Itoa(SchemaVersion) {
			return fmt.Errorf("database schema version %q, this drydock reads %d: run \"drydock db update\"", v, SchemaVersion)
		}
		return nil
	})
}

// view runs fn in a read transaction, turning a panic from bbolt on a
// corrupt file, or a fault reading past the end of a truncated one, into an
// error.
func (db *DB) view(fn func(*bbolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("vulnerability database %q is corrupt (%v): run \"drydock db update\"", db.path, r)
		}
	}()
	if err := db.bolt.View(fn); err != nil {
		return fmt.Errorf("reading vulnerability database %q: %w", db.path, err)
	}
	return nil
}

// Path returns the file the database was opened from.
func (db *DB) Path() string { return db.path }

// Close releases the file.
func (db *DB) Close() error {
	db.dec.Close()
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("closing vulnerability database %q: %w", db.path, err)
	}
	return nil
}

// Advisories returns the advisories for one package, sorted by id.
// ecosystem is exact including the release; name is normalised with
// NormalizeName. An unknown ecosystem or package gives no advisories.
// Ranges, Versions and Severity are shared with the handle's cache of
// decoded entries: callers must treat them as read-only.
func (db *DB) Advisories(ctx context.Context, ecosystem, name string) ([]Advisory, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Advisory
	err := db.view(func(tx *bbolt.Tx) error {
		root := tx.Bucket([]byte(bucketPackages))
		if root == nil {
			return nil
		}
		eb := root.Bucket([]byte(ecosystem))
		if eb == nil {
			return nil
		}
		key := ecosystem + "\x00" + NormalizeName(ecosystem, name)
		db.mu.Lock()
		entries, cached := db.entries[key]
		db.mu.Unlock()
		if !cached {
			raw := eb.Get([]byte(NormalizeName(ecosystem, name)))
			if raw == nil {
				return nil
			}
			data, err := db.dec.DecodeAll(raw, nil)
			if err != nil {
				return fmt.Errorf("%s %q: %w", ecosystem, name, err)
			}
			if err := json.Unmarshal(data, &entries); err != nil {
				return fmt.Errorf("%s %q: %w", ecosystem, name, err)
			}
			db.mu.Lock()
			if db.entries == nil || len(db.entries) >= maxCachedRecords {
				db.entries = map[string][]storedEntry{}
			}
			db.entries[key] = entries
			db.mu.Unlock()
		}
		recs := tx.Bucket([]byte(bucketRecords))
		out = make([]Advisory, 0, len(entries))
		for i := range entries {
			rec, err := db.record(recs, entries[i].ID)
			if err != nil {
				return err
			}
			out = append(out, joinAdvisory(ecosystem, rec, &entries[i]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CVE returns the NVD/KEV enrichment for a CVE id.
func (db *DB) CVE(ctx context.Context, id string) (CVE, bool, error) {
	if err := ctx.Err(); err != nil {
		return CVE{}, false, err
	}
	var (
		c     CVE
		found bool
	)
	err := db.view(func(tx *bbolt.Tx) error {
		bk := tx.Bucket([]byte(bucketCVEs))
		if bk == nil {
			return nil
		}
		raw := bk.Get([]byte(id))
		if raw == nil {
			return nil
		}
		found = true
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return CVE{}, false, err
	}
	return c, found, nil
}

// Meta returns the database metadata.
func (db *DB) Meta(ctx context.Context) (Metadata, error) {
	if err := ctx.Err(); err != nil {
		return Metadata{}, err
	}
	var m Metadata
	err := db.view(func(tx *bbolt.Tx) error {
		mb := tx.Bucket([]byte(bucketMeta))
		if mb == nil {
			return errors.New("no metadata")
		}
		raw := mb.Get([]byte(keyMetadata))
		if raw == nil {
			return errors.New("no metadata")
		}
		return json.Unmarshal(raw, &m)
	})
	if err != nil {
		return Metadata{}, err
	}
	return m, nil
}

// Status returns the metadata of the database at path (for "drydock db
// status" and the updater's "up to date" check) after reading the whole
// file with Check: a database Status accepts is one a scan can read. A
// missing database gives an error wrapping ErrNoDatabase.
func Status(ctx context.Context, path string) (Metadata, error) {
	db, err := Open(ctx, path)
	if err != nil {
		return Metadata{}, err
	}
	defer db.Close()
	meta, err := db.Meta(ctx)
	if err != nil {
		return Metadata{}, fmt.Errorf("reading the metadata of vulnerability database %q: %w", path, err)
	}
	if err := db.check(ctx, meta); err != nil {
		return Metadata{}, err
	}
	return meta, nil
}

// Check reads the whole database the way lookups do: every page of every
// bucket, every stored value decompressed (zstd verifies each value's
// checksum) or, for the uncompressed CVE entries, checked to be JSON, and
// the ecosystems compared with the metadata's. It returns an error naming
// the file when any of it is damaged: Open and Meta read only the first
// pages, so a file damaged further in opens fine and fails later, in the
// middle of a scan.
func (db *DB) Check(ctx context.Context) error {
	meta, err := db.Meta(ctx)
	if err != nil {
		return fmt.Errorf("reading the metadata of vulnerability database %q: %w", db.path, err)
	}
	return db.check(ctx, meta)
}

// checkEvery is how many values are read between two looks at ctx.
const checkEvery = 4096

func (db *DB) check(ctx context.Context, meta Metadata) error {
	n := 0
	var buf []byte
	// decode decompresses one value, which verifies its checksum.
	decode := func(v []byte) error {
		if n++; n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var err error
		buf, err = db.dec.DecodeAll(v, buf[:0])
		return err
	}
	err := db.view(func(tx *bbolt.Tx) error {
		recs := tx.Bucket([]byte(bucketRecords))
		pkgs := tx.Bucket([]byte(bucketPackages))
		cves := tx.Bucket([]byte(bucketCVEs))
		if recs == nil || pkgs == nil || cves == nil {
			return errors.New("damaged: a bucket is missing")
		}
		c := recs.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := decode(v); err != nil {
				return fmt.Errorf("damaged: record %q: %w", k, err)
			}
		}
		var ecos []string
		ec := pkgs.Cursor()
		for eco, v := ec.First(); eco != nil; eco, v = ec.Next() {
			eb := pkgs.Bucket(eco)
			if v != nil || eb == nil {
				return fmt.Errorf("damaged: packages/%q is not a bucket", eco)
			}
			ecos = append(ecos, string(eco))
			pc := eb.Cursor()
			for name, raw := pc.First(); name != nil; name, raw = pc.Next() {
				if err := decode(raw); err != nil {
					return fmt.Errorf("damaged: %s %q: %w", eco, name, err)
				}
			}
		}
		cc := cves.Cursor()
		for k, v := cc.First(); k != nil; k, v = cc.Next() {
			if n++; n%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if !json.Valid(v) {
				return fmt.Errorf("damaged: CVE %q: not JSON", k)
			}
		}
		if want := slices.Sorted(maps.Keys(meta.Counts)); !slices.Equal(ecos, want) {
			return fmt.Errorf("damaged: the database holds the ecosystems %q, its metadata lists %q", ecos, want)
		}
		if err := checkBaseImages(tx.Bucket([]byte(bucketBaseImages)), meta.BaseImages); err != nil {
			return err
		}
		return checkHashes(tx.Bucket([]byte(bucketHashes)), meta.Hashes, func() error {
			if n++; n%checkEvery == 0 {
				return ctx.Err()
			}
			return nil
		})
	})
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
		return fmt.Errorf("checking vulnerability database %q: %w", db.path, ctxErr)
	}
	return err
}

// DefaultPath is $DRYDOCK_CACHE_DIR/db/drydock.db, or, without that variable,
// <user cache dir>/drydock/db/drydock.db (e.g. ~/.cache/drydock/db/drydock.db).
func DefaultPath() (string, error) {
	root := os.Getenv("DRYDOCK_CACHE_DIR")
	if root == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("finding the cache directory: %w (set DRYDOCK_CACHE_DIR)", err)
		}
		root = filepath.Join(dir, "drydock")
	}
	return filepath.Join(root, "db", "drydock.db"), nil
}

// CVSSBaseScore returns the base score and rating of a CVSS vector (v2, v3.0,
// v3.1 or v4.0); see cvss.BaseScore.
func CVSSBaseScore(vector string) (score float64, severity string, err error) {
	return cvss.BaseScore(vector)
}
