package server_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/server"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// writeTestDB writes an advisory database built at builtAt, with one apk
// advisory per name, replacing the file at path as "drydock db update" does
// (a new file renamed over it).
func writeTestDB(t *testing.T, path string, builtAt time.Time, names ...string) {
	t.Helper()
	b, err := vulndb.NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	b.SetNow(func() time.Time { return builtAt })
	b.AddSource(vulndb.SourceInfo{Name: "test", Records: len(names)})
	for _, n := range names {
		if err := b.Add(vulndb.Advisory{ID: "CVE-2099-" + n, Ecosystem: "Alpine:v3.16", Package: n,
			Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "9.9-r0"}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestDBFileFollowsUpdates: a DBFile answers from the file at its path as it
// is replaced — a new build is seen by the next Acquire, while a job that
// acquired the old one keeps reading it until it releases it; a
// replacement by the same build keeps the open handle; a broken
// replacement keeps the working database and says so.
func TestDBFileFollowsUpdates(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "drydock.db")
	v1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	v2 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	writeTestDB(t, path, v1, "pkga")
	f, err := server.OpenDBFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	builtAt := func(db vulndb.Reader) time.Time {
		t.Helper()
		m, err := db.Meta(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m.BuiltAt.UTC()
	}
	count := func(db vulndb.Reader, name string) int {
		t.Helper()
		a, err := db.Advisories(ctx, "Alpine:v3.16", name)
		if err != nil {
			t.Fatal(err)
		}
		return len(a)
	}
	old, releaseOld, err := f.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeTestDB(t, path, v2, "pkga", "pkgb")
	cur, release, err := f.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		BuiltAt time.Time
		PkgB    int
	}
	if d := cmp.Diff(view{v2, 1}, view{builtAt(cur), count(cur, "pkgb")}); d != "" {
		t.Errorf("after the update (-want +got):\n%s", d)
	}
	// The job that acquired v1 still reads v1, from the replaced file.
	if d := cmp.Diff(view{v1, 0}, view{builtAt(old), count(old, "pkgb")}); d != "" {
		t.Errorf("the job holding the old database (-want +got):\n%s", d)
	}
	releaseOld()
	release()

	// The same build copied over the file: the open handle is kept.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	same, release, err := f.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if same != cur {
		t.Errorf("a replacement by the same build reopened the database")
	}
	release()

	// A broken file: the working database is kept, and the error says so.
	if err := os.WriteFile(tmp, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	kept, release, err := f.Acquire(ctx)
	if err == nil {
		t.Errorf("a broken replacement gave no error")
	}
	if kept == nil || builtAt(kept) != v2 {
		t.Errorf("a broken replacement did not keep the working database")
	}
	release()
}

// BenchmarkDBFileAcquire is the per-scan cost of following the database
// file when it has not changed (one os.Stat), and, for comparison, of
// reading its metadata through a fresh open (what a check by build time
// alone would cost per job).
func BenchmarkDBFileAcquire(b *testing.B) {
	path := filepath.Join(b.TempDir(), "drydock.db")
	bld, err := vulndb.NewBuilder(path)
	if err != nil {
		b.Fatal(err)
	}
	bld.AddSource(vulndb.SourceInfo{Name: "test"})
	if _, err := bld.Commit(b.Context()); err != nil {
		b.Fatal(err)
	}
	f, err := server.OpenDBFile(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.Run("stat", func(b *testing.B) {
		for b.Loop() {
			_, release, err := f.Acquire(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			release()
		}
	})
	b.Run("open+meta", func(b *testing.B) {
		for b.Loop() {
			db, err := vulndb.Open(b.Context(), path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := db.Meta(b.Context()); err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
	})
}
