package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// benchDB builds a database from testdata (Go: 4274 records, npm, Maven,
// Alpine v3.16, KEV, NVD) plus, when the shared data is present, the real
// AlmaLinux all.zip (5637 records, 64k package entries).
func benchDB(b *testing.B) string {
	b.Helper()
	mirror := b.TempDir()
	for _, eco := range []string{"Go", "npm", "Maven"} {
		os.Mkdir(filepath.Join(mirror, eco), 0o755)
		abs, _ := filepath.Abs(filepath.Join(testMirror, eco, "all.zip"))
		if err := os.Symlink(abs, filepath.Join(mirror, eco, "all.zip")); err != nil {
			b.Fatal(err)
		}
	}
	ecos := []string{"Go", "npm", "Maven"}
	if p, _ := findShared("osv/AlmaLinux/all.zip"); p != "" {
		os.Mkdir(filepath.Join(mirror, "AlmaLinux"), 0o755)
		if err := os.Symlink(p, filepath.Join(mirror, "AlmaLinux", "all.zip")); err != nil {
			b.Fatal(err)
		}
		ecos = append(ecos, "AlmaLinux")
	}
	path := filepath.Join(b.TempDir(), "drydock.db")
	if _, err := Update(context.Background(), UpdateOptions{Mirrors: []string{mirror}, Ecosystems: ecos, Path: path}); err != nil {
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
