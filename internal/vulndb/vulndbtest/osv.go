package vulndbtest

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/drydock-scan/drydock/internal/vulndb"
)

// SharedData returns the path of rel in the shared test data
// ($DRYDOCK_SHARED_DATA, beside the repository, or /work/shared/data; see
// its README.md). The test is skipped when it is absent, and fails under
// CI=true.
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	var roots []string
	if d := os.Getenv("DRYDOCK_SHARED_DATA"); d != "" {
		roots = append(roots, d)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		roots = append(roots, filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "data"))
	}
	roots = append(roots, "/work/shared/data")
	for _, r := range roots {
		p := filepath.Join(r, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("shared test data %s not found in %v", rel, roots)
	}
	t.Skipf("shared test data %s not found", rel)
	return ""
}

// OSVZip returns an open database of the OSV records of one ecosystem in
// an all.zip (osv.dev's layout), under the source name "osv/<eco>".
func OSVZip(t testing.TB, path, eco string) vulndb.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return build(t, func(b *vulndb.Builder) error {
		_, err := b.ImportOSVZip(t.Context(), f, st.Size(), path, vulndb.SourceInfo{Name: "osv/" + eco})
		return err
	})
}

// OSVRecords returns an open database of OSV records (file name → JSON)
// of one ecosystem, imported as an all.zip holding them.
func OSVRecords(t testing.TB, eco string, records map[string][]byte) vulndb.Reader {
	t.Helper()
	names := make([]string, 0, len(records))
	for n := range records {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(records[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return build(t, func(b *vulndb.Builder) error {
		_, err := b.ImportOSVZip(t.Context(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), eco+"/all.zip", vulndb.SourceInfo{Name: "osv/" + eco})
		return err
	})
}

// build makes a database with imp and opens it.
func build(t testing.TB, imp func(*vulndb.Builder) error) vulndb.Reader {
	t.Helper()
	path := filepath.Join(t.TempDir(), "osv.db")
	b, err := vulndb.NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := imp(b); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
