package update

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/vulndb"
)

// testMirror is vulndb's testdata directory in the mirror layout.
const testMirror = "../testdata/mirror"

func openTest(t testing.TB, path string) *vulndb.DB {
	t.Helper()
	db, err := vulndb.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ids(advs []vulndb.Advisory) []string {
	var out []string
	for _, a := range advs {
		out = append(out, a.ID)
	}
	return out
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
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

// sharedData returns the path of a shared test data file. It skips the test
// when the data is absent, except under CI, where that is a failure.
func sharedData(t testing.TB, rel string) string {
	t.Helper()
	p, looked := findShared(rel)
	if p != "" {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("shared test data %s not found (looked in %v)", rel, looked)
	}
	t.Skipf("shared test data %s not found", rel)
	return ""
}
