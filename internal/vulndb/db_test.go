package vulndb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.etcd.io/bbolt"
)

// testMirror is the testdata directory in the mirror layout.
const testMirror = "testdata/mirror"

func openTest(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ids(advs []Advisory) []string {
	var out []string
	for _, a := range advs {
		out = append(out, a.ID)
	}
	return out
}

func TestBuilderMerge(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	old := Advisory{ID: "PYSEC-1", Summary: "old", Modified: mustTime("2020-01-01T00:00:00Z"), Ecosystem: "PyPI", Package: "Foo_Bar",
		Versions: []string{"1.0"}, Source: "osv/PyPI"}
	newer := old
	newer.Summary, newer.Modified, newer.Versions = "new", mustTime("2021-01-01T00:00:00Z"), []string{"1.0", "1.1"}
	other := old
	other.ID, other.Package = "PYSEC-2", "foo.bar" // same PEP 503 name
	if err := b.Add(newer, old, other); err != nil {
		t.Fatal(err)
	}
	b.AddCVE(CVE{ID: "CVE-1", KEV: true, KEVDateAdded: "2024-01-01"})
	b.AddCVE(CVE{ID: "CVE-1", NVDVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", NVDScore: 9.8, NVDSeverity: "CRITICAL", NVDVersion: "3.1"})
	b.AddCVE(CVE{ID: "CVE-1"}) // no data: changes nothing
	if err := b.Add(Advisory{ID: "X"}); err == nil {
		t.Errorf("advisory without ecosystem accepted")
	}
	meta, err := b.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(old); err == nil {
		t.Errorf("Add after Commit accepted")
	}
	if meta.Counts["PyPI"] != 2 {
		t.Errorf("counts %v", meta.Counts)
	}
	db := openTest(t, path)
	for _, name := range []string{"foo-bar", "FOO.BAR", "foo__bar", "Foo_Bar"} {
		got, err := db.Advisories(ctx, "PyPI", name)
		if err != nil {
			t.Fatal(err)
		}
		want := []Advisory{newer, other}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("PyPI %q (-want +got):\n%s", name, diff)
		}
	}
	c, _, err := db.CVE(ctx, "CVE-1")
	if err != nil {
		t.Fatal(err)
	}
	want := CVE{ID: "CVE-1", NVDSeverity: "CRITICAL", NVDScore: 9.8, NVDVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", NVDVersion: "3.1", KEV: true, KEVDateAdded: "2024-01-01"}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("CVE-1 (-want +got):\n%s", diff)
	}
}

// TestReplaceWhileOpen checks the atomic rename: a reader that has the old
// file open keeps reading it, a new Open sees the new one, and an aborted
// build leaves the current database and no temporary file behind.
func TestReplaceWhileOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "drydock.db")
	build := func(advs ...Advisory) {
		b, err := NewBuilder(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(advs...); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a1 := Advisory{ID: "A-1", Ecosystem: "npm", Package: "one", Versions: []string{"1"}}
	a2 := Advisory{ID: "A-2", Ecosystem: "npm", Package: "two", Versions: []string{"2"}}
	build(a1)
	oldDB := openTest(t, path)
	build(a2)

	got, err := oldDB.Advisories(ctx, "npm", "one")
	if err != nil || len(got) != 1 {
		t.Errorf("old handle after replace: %v, %v", got, err)
	}
	newDB := openTest(t, path)
	if got, _ := newDB.Advisories(ctx, "npm", "one"); len(got) != 0 {
		t.Errorf("new database still has the old data")
	}
	if got, _ := newDB.Advisories(ctx, "npm", "two"); len(got) != 1 {
		t.Errorf("new database lacks the new data")
	}

	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(a1); err != nil {
		t.Fatal(err)
	}
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx); err == nil {
		t.Errorf("Commit after Abort succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "drydock.db" {
		t.Errorf("directory holds %v, want only drydock.db", entries)
	}
	db3 := openTest(t, path)
	if got, _ := db3.Advisories(ctx, "npm", "two"); len(got) != 1 {
		t.Errorf("aborted build changed the database")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	_, err := Open(ctx, filepath.Join(dir, "missing.db"))
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), "drydock db update") {
		t.Errorf("missing: %v", err)
	}
	if _, err := Status(ctx, filepath.Join(dir, "missing.db")); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("Status missing: %v", err)
	}

	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o644)
	if _, err := Open(ctx, garbage); err == nil || !strings.Contains(err.Error(), garbage) {
		t.Errorf("garbage: %v", err)
	}

	bolt := func(name string, fn func(*bbolt.Tx) error) string {
		p := filepath.Join(dir, name)
		b, err := bbolt.Open(p, 0o644, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Update(fn); err != nil {
			t.Fatal(err)
		}
		b.Close()
		return p
	}
	empty := bolt("empty.db", func(*bbolt.Tx) error { return nil })
	if _, err := Open(ctx, empty); err == nil || !strings.Contains(err.Error(), "not a drydock vulnerability database") {
		t.Errorf("empty bolt file: %v", err)
	}
	oldSchema := bolt("old.db", func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte(bucketMeta))
		if err != nil {
			return err
		}
		return b.Put([]byte(keySchema), []byte("0"))
	})
	if _, err := Open(ctx, oldSchema); err == nil || !strings.Contains(err.Error(), "schema version") {
		t.Errorf("old schema: %v", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Open(cancelled, empty); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("DRYDOCK_CACHE_DIR", "/srv/cache")
	if p, err := DefaultPath(); err != nil || p != filepath.Join("/srv/cache", "db", "drydock.db") {
		t.Errorf("with DRYDOCK_CACHE_DIR: %q, %v", p, err)
	}
	t.Setenv("DRYDOCK_CACHE_DIR", "")
	t.Setenv("XDG_CACHE_HOME", "/home/u/.cache")
	t.Setenv("HOME", "/home/u")
	if p, err := DefaultPath(); err != nil || p != filepath.Join("/home/u/.cache", "drydock", "db", "drydock.db") {
		t.Errorf("from the user cache dir: %q, %v", p, err)
	}
}

func TestCVSSBaseScore(t *testing.T) {
	s, sev, err := CVSSBaseScore("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H")
	if err != nil || s != 5.5 || sev != "MEDIUM" {
		t.Errorf("got %v %q %v", s, sev, err)
	}
}

// findShared finds a file of the project's shared test data: beside the
// repository (CI's layout), at $DRYDOCK_SHARED_DATA or at /work/shared/data.
func findShared(rel string) (string, []string) {
	var candidates []string
	if d := os.Getenv("DRYDOCK_SHARED_DATA"); d != "" {
		candidates = append(candidates, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(filepath.Dir(dir), "shared", "data"))
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	candidates = append(candidates, "/work/shared/data")
	for _, c := range candidates {
		p := filepath.Join(c, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p, candidates
		}
	}
	return "", candidates
}

// TestCorruptDatabase damages a built database: reads must fail with an
// error naming the file, never crash.
func TestCorruptDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "drydock.db")
	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		name := fmt.Sprintf("pkg-%04d", i)
		if err := b.Add(Advisory{ID: "X-" + name, Ecosystem: "npm", Package: name, Details: strings.Repeat("d", 500), Versions: []string{"1"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	cases := map[string][]byte{
		"truncated":   data[:len(data)/2],
		"zeroed tail": append(slices.Clone(data[:len(data)/2]), make([]byte, len(data)-len(data)/2)...),
	}
	flipped := slices.Clone(data)
	for i := 16 << 10; i < len(flipped); i += 97 {
		flipped[i] ^= 0x5a
	}
	cases["bit flips"] = flipped
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
			if err := os.WriteFile(p, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			db, err := Open(ctx, p)
			if err != nil {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("open error %v does not name the file", err)
				}
				return
			}
			defer db.Close()
			failed := false
			for i := 0; i < 3000; i += 7 {
				if _, err := db.Advisories(ctx, "npm", fmt.Sprintf("pkg-%04d", i)); err != nil {
					failed = true
					if !strings.Contains(err.Error(), p) {
						t.Fatalf("error %v does not name the file", err)
					}
				}
			}
			if !failed {
				t.Errorf("no read failed on a damaged database")
			}
		})
	}
}
