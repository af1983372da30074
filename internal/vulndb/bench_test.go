package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// benchDB builds a database from testdata (Go: 4274 records, npm, Maven)
// plus, when the shared data is present, the real AlmaLinux all.zip (5637
// records, 64k package entries). It imports the zips with the Builder: the
// updater (package update) imports this package, so it cannot be used here.
func benchDB(b *testing.B) string {
	b.Helper()
	zips := map[string]string{}
	ecos := []string{"Go", "npm", "Maven"}
	for _, eco := range ecos {
		zips[eco] = filepath.Join(testMirror, eco, "all.zip")
	}
	if p, _ := findShared("osv/AlmaLinux/all.zip"); p != "" {
		zips["AlmaLinux"] = p
		ecos = append(ecos, "AlmaLinux")
	}
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "drydock.db")
	bld, err := NewBuilder(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, eco := range ecos {
		f, err := os.Open(zips[eco])
		if err != nil {
			b.Fatal(err)
		}
		st, err := f.Stat()
		if err != nil {
			b.Fatal(err)
		}
		_, err = bld.ImportOSVZip(ctx, f, st.Size(), zips[eco], SourceInfo{Name: "osv/" + eco})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := bld.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	if st, err := os.Stat(path); err == nil {
		b.Logf("database: %d bytes, ecosystems %v", st.Size(), ecos)
	}
	return path
}

// BenchmarkOpen measures a read-only open (what every scan pays once).
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	path := benchDB(b)
	b.ResetTimer()
	for b.Loop() {
		db, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup measures Advisories for one package (what every scanned
// package pays).
func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	path := benchDB(b)
	db, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, q := range []struct{ name, eco, pkg string }{
		{"Go_stdlib", "Go", "stdlib"},
		{"Go_x_text", "Go", "golang.org/x/text"},
		{"npm_lodash", "npm", "lodash"},
		{"miss", "npm", "no-such-package"},
		{"AlmaLinux9_glibc", "AlmaLinux:9", "glibc"},
	} {
		b.Run(q.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				advs, err := db.Advisories(ctx, q.eco, q.pkg)
				if err != nil {
					b.Fatal(err)
				}
				n = len(advs)
			}
			b.ReportMetric(float64(n), "advisories")
		})
	}
	b.Run("CVE", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := db.CVE(ctx, "CVE-2021-44228"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStatus measures Status, which reads the whole database (what
// "drydock db status" and every "drydock db update" pay once).
func BenchmarkStatus(b *testing.B) {
	ctx := context.Background()
	path := benchDB(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Status(ctx, path); err != nil {
			b.Fatal(err)
		}
	}
}
