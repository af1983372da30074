package match_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// zips are real OSV archives the repo carries.
var zips = map[string]string{
	"Go":        "../vulndb/testdata/mirror/Go/all.zip",
	"AlmaLinux": "../../testdata/mirror/AlmaLinux/all.zip",
	"npm":       "../../testdata/mirror/npm/all.zip",
	"Maven":     "../../testdata/mirror/Maven/all.zip",
}

func buildDB(b *testing.B) (string, int) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.db")
	bld, err := vulndb.NewBuilder(path)
	if err != nil {
		b.Fatal(err)
	}
	records := 0
	for eco, z := range zips {
		f, err := os.Open(z)
		if err != nil {
			b.Skipf("%s: %v", z, err)
		}
		st, _ := f.Stat()
		s, err := bld.ImportOSVZip(context.Background(), f, st.Size(), z, vulndb.SourceInfo{Name: "osv/" + eco})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		records += s.Records
	}
	if _, err := bld.Commit(context.Background()); err != nil {
		b.Fatal(err)
	}
	return path, records
}

// goModules lists module paths named by the Go archive, for a realistic
// inventory.
func goModules(b *testing.B) []string {
	zr, err := zip.OpenReader(zips["Go"])
	if err != nil {
		b.Skip(err)
	}
	defer zr.Close()
	seen := map[string]bool{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			b.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		var rec struct {
			Affected []struct{ Package struct{ Name string } } `json:"affected"`
		}
		if json.Unmarshal(data, &rec) == nil {
			for _, a := range rec.Affected {
				seen[a.Package.Name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// BenchmarkMatch2000 matches an inventory of 2,000 packages (Go modules named
// by real advisories, AlmaLinux rpms, npm) against a database built from real
// OSV archives, with the database warm. Target: < 50 ms per inventory.
func BenchmarkMatch2000(b *testing.B) {
	path, _ := buildDB(b)
	db, err := vulndb.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	mods := goModules(b)
	inv := inventory.Inventory{Distro: &inventory.Distro{ID: "almalinux", VersionID: "9.0", Release: "9"}}
	rpms := []string{"glibc", "glibc-common", "bash", "libcap", "ncurses-libs", "pcre2", "libgcc", "tzdata", "openssl-libs", "systemd-libs", "zlib", "curl", "libxml2", "expat", "krb5-libs"}
	for i := 0; len(inv.Packages) < 2000; i++ {
		switch {
		case i%4 == 0:
			inv.Packages = append(inv.Packages, inventory.Package{ID: fmt.Sprint(i), Name: rpms[i%len(rpms)], Version: "1.0-1.el9", Ecosystem: inventory.EcoRPM})
		case i%13 == 0:
			inv.Packages = append(inv.Packages, inventory.Package{ID: fmt.Sprint(i), Name: "lodash", Version: "4.17.15", Ecosystem: inventory.EcoNPM})
		default:
			inv.Packages = append(inv.Packages, inventory.Package{ID: fmt.Sprint(i), Name: mods[i%len(mods)], Version: "v0.1.0", Ecosystem: inventory.EcoGo})
		}
	}
	m := match.Matcher{DB: db}
	if _, err := m.Match(context.Background(), &inv); err != nil { // warm
		b.Fatal(err)
	}
	b.ResetTimer()
	var findings int
	for b.Loop() {
		res, err := m.Match(context.Background(), &inv)
		if err != nil {
			b.Fatal(err)
		}
		findings = len(res.Findings)
	}
	b.ReportMetric(float64(findings), "findings")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/inventory")
}

// BenchmarkImport measures the database build rate from real OSV archives.
func BenchmarkImport(b *testing.B) {
	var records int
	start := time.Now()
	for b.Loop() {
		_, records = buildDB(b)
	}
	b.ReportMetric(float64(records*b.N)/time.Since(start).Seconds(), "records/s")
}
