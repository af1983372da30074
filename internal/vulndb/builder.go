package vulndb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"go.etcd.io/bbolt"
)

// Builder writes a new database. It builds into a temporary file in the
// directory of the target and renames it over the target in Commit, so
// readers never see a half-written database and readers that have the old
// file open keep working (on Linux the old inode lives until they close it).
// Abort, or any failure before the rename, leaves the old database untouched.
//
// Everything is gathered in memory in compact form (records zstd-compressed,
// package entries as JSON) and written in key order at Commit, which keeps
// bbolt's pages full and the file small.
type Builder struct {
	path string
	tmp  string
	db   *bbolt.DB
	enc  *zstd.Encoder
	now  func() time.Time

	records map[string]recEntry // record id → latest-modified version
	pkgs    map[string]map[string]*pkgGroup
	cves    map[string]*CVE
	hashes  map[string]storedHash // raw SHA-256 → entry
	// baseImages are the tables of published base images, by source name.
	baseImages map[string][]byte
	sources    []SourceInfo
	missing    []MissingSource
	done       bool
}

type recEntry struct {
	modified time.Time
	data     []byte // zstd(JSON storedRecord)
}

type pkgGroup struct {
	entries []groupEntry
	index   map[string]int // id → position; built once the group grows large
}

// find returns the position of id in the group, or -1.
func (g *pkgGroup) find(id string) int {
	if g.index == nil && len(g.entries) > 32 {
		g.index = make(map[string]int, len(g.entries))
		for i, e := range g.entries {
			g.index[e.id] = i
		}
	}
	if g.index != nil {
		if i, ok := g.index[id]; ok {
			return i
		}
		return -1
	}
	return slices.IndexFunc(g.entries, func(e groupEntry) bool { return e.id == id })
}

func (g *pkgGroup) add(e groupEntry) {
	g.entries = append(g.entries, e)
	if g.index != nil {
		g.index[e.id] = len(g.entries) - 1
	}
}

type groupEntry struct {
	id       string
	modified time.Time
	data     []byte // JSON storedEntry
}

// writeBatch is how many keys are written per bbolt transaction.
const writeBatch = 20000

// fillPercent packs pages fully: every bucket is written in key order.
const fillPercent = 0.95

// NewBuilder starts a new database that Commit will place at path. The
// directory is created if needed.
func NewBuilder(path string) (*Builder, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating database directory %q: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating temporary database in %q: %w", dir, err)
	}
	tmp := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("creating temporary database %q: %w", tmp, err)
	}
	db, err := bbolt.Open(tmp, 0o644, &bbolt.Options{Timeout: time.Second, NoSync: true, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("opening temporary database %q: %w", tmp, err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		db.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("creating zstd encoder: %w", err)
	}
	return &Builder{
		path:    path,
		tmp:     tmp,
		db:      db,
		enc:     enc,
		now:     time.Now,
		records: map[string]recEntry{},
		pkgs:    map[string]map[string]*pkgGroup{},
		cves:    map[string]*CVE{},
		hashes:  map[string]storedHash{},
	}, nil
}

// Add stores advisories. An advisory with the same (ecosystem, package, id)
// as one already added replaces it only if its Modified is later; the shared
// record text is kept from the latest-modified copy of an id.
func (b *Builder) Add(advs ...Advisory) error {
	if b.done {
		return errors.New("builder already committed or aborted")
	}
	for i := range advs {
		a := &advs[i]
		if a.ID == "" || a.Ecosystem == "" || a.Package == "" {
			return fmt.Errorf("advisory %q for %q %q: id, ecosystem and package are required", a.ID, a.Ecosystem, a.Package)
		}
		rec, ent := splitAdvisory(a)
		if old, ok := b.records[a.ID]; !ok || a.Modified.After(old.modified) {
			data, err := json.Marshal(rec)
			if err != nil {
				return fmt.Errorf("encoding advisory %s: %w", a.ID, err)
			}
			b.records[a.ID] = recEntry{modified: a.Modified, data: b.enc.EncodeAll(data, nil)}
		}
		data, err := json.Marshal(ent)
		if err != nil {
			return fmt.Errorf("encoding advisory %s: %w", a.ID, err)
		}
		names := b.pkgs[a.Ecosystem]
		if names == nil {
			names = map[string]*pkgGroup{}
			b.pkgs[a.Ecosystem] = names
		}
		key := NormalizeName(a.Ecosystem, a.Package)
		g := names[key]
		if g == nil {
			g = &pkgGroup{}
			names[key] = g
		}
		j := g.find(a.ID)
		switch {
		case j < 0:
			g.add(groupEntry{id: a.ID, modified: a.Modified, data: data})
		case a.Modified.After(g.entries[j].modified):
			g.entries[j] = groupEntry{id: a.ID, modified: a.Modified, data: data}
		}
	}
	return nil
}

// AddCVE merges enrichment data: NVD fields from c replace earlier NVD fields
// when c has a vector, KEV fields are set when c.KEV.
func (b *Builder) AddCVE(c CVE) {
	cur := b.cves[c.ID]
	if cur == nil {
		cur = &CVE{ID: c.ID}
		b.cves[c.ID] = cur
	}
	if c.NVDVector != "" {
		cur.NVDSeverity, cur.NVDScore, cur.NVDVector, cur.NVDVersion = c.NVDSeverity, c.NVDScore, c.NVDVector, c.NVDVersion
	}
	if c.KEV {
		cur.KEV, cur.KEVDateAdded, cur.KEVDueDate, cur.KEVRansomware = true, c.KEVDateAdded, c.KEVDueDate, c.KEVRansomware
	}
}

// AddSource records a source in the metadata.
func (b *Builder) AddSource(s SourceInfo) {
	b.sources = append(b.sources, s)
}

// AddMissing records a feed that the database does not hold (see
// Metadata.Missing).
func (b *Builder) AddMissing(m MissingSource) {
	b.missing = append(b.missing, m)
}

// ImportOSVZip imports an OSV all.zip. name identifies it in errors; src
// is recorded in the metadata with Records filled in.
func (b *Builder) ImportOSVZip(ctx context.Context, r io.ReaderAt, size int64, name string, src SourceInfo) (OSVStats, error) {
	st, err := ReadOSVZip(ctx, r, size, name, src.Name, func(advs []Advisory) error { return b.Add(advs...) })
	if err != nil {
		return st, err
	}
	src.Records = st.Records
	b.AddSource(src)
	return st, nil
}

// ImportAlpineSecDB imports one secdb file; branch is used if the file does
// not name its distroversion.
func (b *Builder) ImportAlpineSecDB(r io.Reader, name, branch string, src SourceInfo) (SecDBStats, error) {
	advs, st, err := ParseAlpineSecDB(r, name, branch)
	if err != nil {
		return st, err
	}
	if err := b.Add(advs...); err != nil {
		return st, err
	}
	src.Records = st.Advisories
	b.AddSource(src)
	return st, nil
}

// ImportNVD imports an NVD file (any shape ParseNVD reads). Like the other
// native importers it reads the whole file before adding anything, so a
// file that fails leaves the builder as it was.
func (b *Builder) ImportNVD(r io.Reader, name string, src SourceInfo) (int, error) {
	var list []CVE
	n, err := ParseNVD(r, name, func(c CVE) error { list = append(list, c); return nil })
	if err != nil {
		return n, err
	}
	for _, c := range list {
		b.AddCVE(c)
	}
	src.Records = n
	b.AddSource(src)
	return n, nil
}

// ImportKEV imports the CISA KEV catalog.
func (b *Builder) ImportKEV(r io.Reader, name string, src SourceInfo) (int, error) {
	list, err := ParseKEV(r, name)
	if err != nil {
		return 0, err
	}
	for _, c := range list {
		b.AddCVE(c)
	}
	src.Records = len(list)
	b.AddSource(src)
	return len(list), nil
}

// putSorted writes keys in order into the bucket at path, in transactions
// of writeBatch keys.
func (b *Builder) putSorted(bucketPath []string, keys []string, value func(string) ([]byte, error)) error {
	for len(keys) > 0 {
		n := min(len(keys), writeBatch)
		chunk := keys[:n]
		keys = keys[n:]
		err := b.db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte(bucketPath[0]))
			if err != nil {
				return err
			}
			for _, p := range bucketPath[1:] {
				if bk, err = bk.CreateBucketIfNotExists([]byte(p)); err != nil {
					return err
				}
			}
			bk.FillPercent = fillPercent
			for _, k := range chunk {
				v, err := value(k)
				if err != nil {
					return fmt.Errorf("%q: %w", k, err)
				}
				if err := bk.Put([]byte(k), v); err != nil {
					return fmt.Errorf("%q: %w", k, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("writing %s to %q: %w", strings.Join(bucketPath, "/"), b.tmp, err)
		}
	}
	return nil
}

// SetNow sets the clock that stamps Metadata.BuiltAt at Commit; the default
// is time.Now.
func (b *Builder) SetNow(now func() time.Time) {
	b.now = now
}

// Commit writes the index and metadata, syncs the file and renames it over
// the target path. It returns the metadata written.
func (b *Builder) Commit(ctx context.Context) (Metadata, error) {
	if b.done {
		return Metadata{}, errors.New("builder already committed or aborted")
	}
	meta, err := b.commit(ctx)
	if err != nil {
		b.Abort()
		return Metadata{}, err
	}
	return meta, nil
}

func (b *Builder) commit(ctx context.Context) (Metadata, error) {
	meta := Metadata{
		SchemaVersion: SchemaVersion,
		BuiltAt:       b.now().UTC().Truncate(time.Second),
		Sources:       slices.Clone(b.sources),
		Counts:        map[string]int{},
		Hashes:        len(b.hashes),
	}
	slices.SortStableFunc(meta.Sources, func(x, y SourceInfo) int { return cmp.Compare(x.Name, y.Name) })
	if len(b.missing) > 0 {
		meta.Missing = slices.Clone(b.missing)
		slices.SortStableFunc(meta.Missing, func(x, y MissingSource) int { return cmp.Compare(x.Name, y.Name) })
	}
	err := b.putSorted([]string{bucketRecords}, slices.Sorted(maps.Keys(b.records)), func(id string) ([]byte, error) {
		return b.records[id].data, nil
	})
	if err != nil {
		return Metadata{}, err
	}
	var buf bytes.Buffer
	for _, eco := range slices.Sorted(maps.Keys(b.pkgs)) {
		if err := ctx.Err(); err != nil {
			return Metadata{}, err
		}
		ids := map[string]bool{}
		names := b.pkgs[eco]
		err := b.putSorted([]string{bucketPackages, eco}, slices.Sorted(maps.Keys(names)), func(k string) ([]byte, error) {
			g := names[k]
			slices.SortFunc(g.entries, func(x, y groupEntry) int { return cmp.Compare(x.id, y.id) })
			buf.Reset()
			buf.WriteByte('[')
			for i, e := range g.entries {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.Write(e.data)
				ids[e.id] = true
			}
			buf.WriteByte(']')
			return b.enc.EncodeAll(buf.Bytes(), nil), nil
		})
		if err != nil {
			return Metadata{}, err
		}
		meta.Counts[eco] = len(ids)
	}
	err = b.putSorted([]string{bucketCVEs}, slices.Sorted(maps.Keys(b.cves)), func(id string) ([]byte, error) {
		return json.Marshal(b.cves[id])
	})
	if err != nil {
		return Metadata{}, err
	}
	if err := b.putBaseImages(); err != nil {
		return Metadata{}, err
	}
	meta.BaseImages = len(b.baseImages)
	if len(b.hashes) > 0 {
		err = b.putSorted([]string{bucketHashes}, slices.Sorted(maps.Keys(b.hashes)), func(k string) ([]byte, error) {
			return json.Marshal(b.hashes[k])
		})
		if err != nil {
			return Metadata{}, err
		}
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return Metadata{}, fmt.Errorf("encoding metadata: %w", err)
	}
	err = b.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range []string{bucketRecords, bucketPackages, bucketCVEs} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		mb, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
		if err != nil {
			return err
		}
		if err := mb.Put([]byte(keySchema), []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
		return mb.Put([]byte(keyMetadata), metaJSON)
	})
	if err != nil {
		return Metadata{}, fmt.Errorf("writing metadata to %q: %w", b.tmp, err)
	}
	// bbolt grows the file ahead of its use; the pages past the high-water
	// mark are never read, so the file is cut there.
	var used int64
	if err := b.db.View(func(tx *bbolt.Tx) error { used = tx.Size(); return nil }); err != nil {
		return Metadata{}, fmt.Errorf("reading %q: %w", b.tmp, err)
	}
	if err := b.db.Close(); err != nil {
		return Metadata{}, fmt.Errorf("closing %q: %w", b.tmp, err)
	}
	b.db = nil
	if err := finishFile(b.tmp, used); err != nil {
		return Metadata{}, err
	}
	if err := os.Rename(b.tmp, b.path); err != nil {
		return Metadata{}, fmt.Errorf("replacing database %q: %w", b.path, err)
	}
	b.done = true
	b.enc.Close()
	syncDir(filepath.Dir(b.path))
	return meta, nil
}

// Abort discards the temporary file; the target is not touched. It is safe
// to call after Commit (it then does nothing).
func (b *Builder) Abort() error {
	if b.done {
		return nil
	}
	b.done = true
	b.enc.Close()
	var err error
	if b.db != nil {
		err = b.db.Close()
		b.db = nil
	}
	if rmErr := os.Remove(b.tmp); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
		err = rmErr
	}
	return err
}

// finishFile truncates the built file to size, makes it world-readable and
// syncs it to disk.
func finishFile(p string, size int64) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("finishing %q: %w", p, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && size > 0 && st.Size() > size {
		if err := f.Truncate(size); err != nil {
			return fmt.Errorf("finishing %q: %w", p, err)
		}
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("finishing %q: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %q: %w", p, err)
	}
	return f.Close()
}

// syncDir makes a rename durable; errors are ignored (not all filesystems
// support syncing directories).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
