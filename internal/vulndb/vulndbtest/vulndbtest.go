// Package vulndbtest builds small real advisory databases for tests, from
// the data the repo carries in testdata/mirror.
package vulndbtest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/vulndb"
)

// Mirror returns the path of the repo's testdata/mirror.
func Mirror(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("vulndbtest: cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "mirror")
}

// Alpine316 returns an open database with the Alpine 3.16 secdb (main and
// community) and the NVD records of the mirror: Alpine 3.16.9 has exactly
// the busybox and ssl_client CVE-2023-42366 findings against it, MEDIUM.
func Alpine316(t testing.TB) vulndb.Reader {
	t.Helper()
	mirror := Mirror(t)
	path := filepath.Join(t.TempDir(), "alpine316.db")
	b, err := vulndb.NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{"main", "community"} {
		f, err := os.Open(filepath.Join(mirror, "alpine-secdb", "v3.16", repo+".json"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.ImportAlpineSecDB(f, f.Name(), "v3.16", vulndb.SourceInfo{Name: "alpine-secdb/v3.16/" + repo})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	nvd, err := filepath.Glob(filepath.Join(mirror, "nvd", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range nvd {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.ImportNVD(f, p, vulndb.SourceInfo{Name: "nvd/" + filepath.Base(p)})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
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

// WriteSecDBIndex writes the directory index page secdb.alpinelinux.org
// serves at "/": one link per branch directory of dir, plus the files that
// are not branches (which the updater must skip).
func WriteSecDBIndex(w io.Writer, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("<html>\n<head><title>Index of /</title></head>\n<body>\n<h1>Index of /</h1><hr><pre><a href=\"../\">../</a>\n")
	for _, e := range entries {
		if e.IsDir() {
			fmt.Fprintf(&b, "<a href=\"%s/\">%s/</a>  01-Jan-2026 00:00  -\n", e.Name(), e.Name())
		}
	}
	b.WriteString("<a href=\"last-update\">last-update</a>  01-Jan-2026 00:00  11\n<a href=\"license.txt\">license.txt</a>  01-Jan-2026 00:00  1234\n</pre><hr></body>\n</html>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// Malicious returns an open database of the real OpenSSF malicious-package
// records the repo carries (testdata/malicious: 25 npm and 15 PyPI MAL-
// records, in osv.dev's all.zip layout).
func Malicious(t testing.TB) vulndb.Reader {
	t.Helper()
	dir := filepath.Join(Mirror(t), "..", "malicious")
	path := filepath.Join(t.TempDir(), "malicious.db")
	b, err := vulndb.NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, eco := range []string{"npm", "PyPI"} {
		p := filepath.Join(dir, eco, "all.zip")
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.Stat()
		if err == nil {
			_, err = b.ImportOSVZip(t.Context(), f, st.Size(), p, vulndb.SourceInfo{Name: "osv/" + eco})
		}
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
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
