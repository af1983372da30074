package scan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/enrich"
	"github.com/drydock-scan/drydock/internal/extract/gobinary"
	"github.com/drydock-scan/drydock/internal/extract/gobinary/gobuildtest"
	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

// execTar is a layer holding files as executables.
func execTar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		b, err := os.ReadFile(files[name])
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg,
			ModTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reachability returns the reachability annotations of the findings on the
// module mod at path, by finding ID: status, and fails on a finding with
// none or several.
func reachability(t *testing.T, res *result.Result, mod, path string) map[string]finding.Annotation {
	t.Helper()
	out := map[string]finding.Annotation{}
	for _, f := range res.Findings {
		if f.Package.Name != mod || f.Package.Path != path {
			continue
		}
		var as []finding.Annotation
		for _, a := range f.Annotations {
			if a.Kind == vocab.AnnotationReachability {
				as = append(as, a)
			}
		}
		if len(as) != 1 {
			t.Fatalf("%s in %s: %d reachability annotations, want 1", f.ID, path, len(as))
		}
		out[f.ID] = as[0]
	}
	return out
}

// ourLevel is govulncheck's word for a reachability status.
func ourLevel(status string) string {
	switch status {
	case vocab.ReachabilitySymbolPresent:
		return "symbol"
	case vocab.ReachabilityPackageImported:
		return "package"
	case vocab.ReachabilityModuleOnly:
		return "module"
	}
	return status
}

// TestGoReachabilityImage: a program built with golang.org/x/text v0.3.5
// that calls language.MustParse and none of GO-2022-1059's functions, and
// its `strip --strip-all` twin, in an image scanned with the real Go
// advisories: GO-2021-0113 is symbol-present, GO-2022-1059
// package-imported, stripped or not. govulncheck v1.9.0, run on the same
// files with the same advisories, says the same of the unstripped binary;
// of the stripped one it can only say "symbol" for every advisory of the
// module (it reads no symbols from stripped binaries): drydock is at least
// as precise, and more for GO-2022-1059.
func TestGoReachabilityImage(t *testing.T) {
	zipPath := vulndbtest.SharedData(t, "osv/Go/all.zip")
	dir := t.TempDir()
	bin := gobuildtest.MustParse(t, dir)
	stripped := gobuildtest.Strip(t, bin)
	db := vulndbtest.OSVZip(t, zipPath, "Go")

	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{Tar: execTar(t, map[string]string{"app/mustparse": bin}), CreatedBy: "COPY mustparse /app/"},
		testimage.Layer{Tar: execTar(t, map[string]string{"app/mustparse-stripped": stripped}), CreatedBy: "COPY mustparse-stripped /app/"},
	)
	if err != nil {
		t.Fatal(err)
	}
	layout := filepath.Join(dir, "layout")
	if err := testimage.WriteOCILayout(layout, "t", img); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Config{Reference: "oci:" + layout, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Versions.Enrichers, "go-reachability@1") {
		t.Errorf("enrichers = %v, want go-reachability@1 among them", res.Versions.Enrichers)
	}

	// govulncheck, with the x/text advisories of the same data.
	records := xtextRecords(t, zipPath)
	v1 := gobuildtest.WriteV1DB(t, records)
	plain := map[string]string{}
	for _, c := range []struct{ path, file string }{{"/app/mustparse", bin}, {"/app/mustparse-stripped", stripped}} {
		t.Run(c.path, func(t *testing.T) {
			got := reachability(t, res, "golang.org/x/text", c.path)
			for id, want := range map[string]string{"GO-2021-0113": vocab.ReachabilitySymbolPresent, "GO-2022-1059": vocab.ReachabilityPackageImported} {
				if got[id].Status != want {
					t.Errorf("%s: %s (%s), want %s", id, got[id].Status, got[id].Reason, want)
				}
			}
			if r := got["GO-2021-0113"].Reason; !strings.Contains(r, "language.MustParse") {
				t.Errorf("GO-2021-0113 reason %q does not name language.MustParse", r)
			}
			ours := map[string]string{}
			for id, a := range got {
				ours[id] = ourLevel(a.Status)
			}
			gov := gobuildtest.GovulncheckBinary(t, v1, c.file)
			if c.file == bin {
				plain = ours
				if diff := cmp.Diff(gov, ours); diff != "" {
					t.Errorf("classes differ from govulncheck's (-govulncheck +drydock):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(plain, ours); diff != "" {
				t.Errorf("stripped: classes differ from the unstripped binary's (-unstripped +stripped):\n%s", diff)
			}
			rank := map[string]int{"module": 0, "package": 1, "symbol": 2}
			for id, g := range gov {
				if rank[ours[id]] > rank[g] {
					t.Errorf("%s: drydock says %s, govulncheck %s: less precise", id, ours[id], g)
				} else if ours[id] != g {
					t.Logf("%s: drydock %s, govulncheck %s (no symbols in a stripped binary)", id, ours[id], g)
				}
			}
		})
	}
}

// xtextRecords are the records of the Go advisories zip about
// golang.org/x/text.
func xtextRecords(t *testing.T, zipPath string) [][]byte {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out [][]byte
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"name": "golang.org/x/text"`)) || bytes.Contains(b, []byte(`"name":"golang.org/x/text"`)) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatal("no golang.org/x/text advisory in the Go advisories")
	}
	return out
}

// TestGoReachabilityXVulnBlob checks the classes against govulncheck's
// expected binary findings: golang.org/x/vuln's extracted test binary
// (cmd/govulncheck/testdata/common/testfiles/extract/vuln.blob: the modules
// and symbols of a Go 1.20.3 program using gjson v1.6.5 and x/text v0.3.0)
// and its test database, against binary_extract.ct, which lists the
// symbol-level findings and counts the package- and module-level ones.
func TestGoReachabilityXVulnBlob(t *testing.T) {
	testdata := filepath.Join(gobuildtest.XVuln(t), "cmd", "govulncheck", "testdata", "common")
	raw, err := os.ReadFile(filepath.Join(testdata, "testfiles", "extract", "vuln.blob"))
	if err != nil {
		t.Fatal(err)
	}
	blob, err := gobuildtest.ReadBlob(raw)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := filepath.Glob(filepath.Join(testdata, "vulndb-v1", "ID", "*.json"))
	if err != nil || len(ids) == 0 {
		t.Fatalf("no records in the test database: %v", err)
	}
	records := map[string][]byte{}
	for _, p := range ids {
		if records[filepath.Base(p)], err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
	}
	db := vulndbtest.OSVRecords(t, "Go", records)

	// The blob as the extractor would have made it.
	const path = "/usr/local/bin/vuln"
	res := &result.Result{}
	addPkg := func(name, version string, md map[string]string) {
		p := inventory.Package{Name: name, Version: version, Ecosystem: vocab.EcoGo, Metadata: md,
			Locations: []inventory.Location{{Path: path}}, FoundBy: "lang/gobinary"}
		p.ID = inventory.StableID(&p)
		res.Packages = append(res.Packages, p)
	}
	addPkg("stdlib", gobinary.ToolchainVersion(blob.GoVersion), nil)
	for _, m := range blob.Modules {
		if m.Replace != nil {
			addPkg(m.Replace.Path, m.Replace.Version, map[string]string{"replaces": m.Path + "@" + m.Version})
			continue
		}
		addPkg(m.Path, m.Version, nil)
	}
	var b inventory.GoSymbolsBuilder
	for _, s := range blob.PkgSymbols {
		pkg := s.Pkg
		if pkg == "main" {
			pkg = blob.Path
		}
		b.Add(pkg, "", s.Name) // "Recv.Name" hashes as recv, "." and name
	}
	res.GoBinaries = []inventory.GoBinary{{Path: path, GoSymbols: b.Build(blob.GOOS, blob.GOARCH)}}
	if err := MatchAndEnrich(context.Background(), res, db, match.Options{}, []enrich.Enricher{enrich.GoReachability{}}); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range res.Findings {
		for _, a := range f.Annotations {
			if a.Kind == vocab.AnnotationReachability {
				got[ourLevel(a.Status)] = append(got[ourLevel(a.Status)], f.ID)
			}
		}
	}
	for _, ids := range got {
		slices.Sort(ids)
	}

	ct, err := os.ReadFile(filepath.Join(testdata, "testfiles", "extract", "binary_extract.ct"))
	if err != nil {
		t.Fatal(err)
	}
	symbols, packages, modules := expectedBinaryFindings(t, string(ct))
	if diff := cmp.Diff(symbols, got["symbol"]); diff != "" {
		t.Errorf("symbol-present (-govulncheck +drydock):\n%s", diff)
	}
	if len(got["package"]) != packages || len(got["module"]) != modules {
		t.Errorf("package-imported %v, module-only %v; govulncheck expects %d and %d", got["package"], got["module"], packages, modules)
	}
	if len(got["unknown"]) != 0 {
		t.Errorf("unknown: %v", got["unknown"])
	}
	t.Logf("symbol-present %v, package-imported %v, module-only %v", got["symbol"], got["package"], got["module"])
}

// expectedBinaryFindings reads govulncheck's expected output for the
// extracted binary (its first command): the IDs under "Symbol Results",
// and the counts of vulnerabilities "in packages you import" and "in
// modules you require".
func expectedBinaryFindings(t *testing.T, ct string) (symbols []string, packages, modules int) {
	t.Helper()
	_, out, ok := strings.Cut(ct, "=== Symbol Results ===")
	if !ok {
		t.Fatal("binary_extract.ct: no symbol results")
	}
	out, _, _ = strings.Cut(out, "\n$ ") // the next command
	for _, m := range regexp.MustCompile(`(?m)^Vulnerability #\d+: (GO-\d{4}-\d+)$`).FindAllStringSubmatch(out, -1) {
		symbols = append(symbols, m[1])
	}
	slices.Sort(symbols)
	flat := strings.Join(strings.Fields(out), " ")
	m := regexp.MustCompile(`found (\d+) vulnerabilit(?:y|ies) in packages you import and (\d+) vulnerabilit(?:y|ies) in modules you require`).FindStringSubmatch(flat)
	if m == nil || len(symbols) == 0 {
		t.Fatalf("binary_extract.ct: cannot read the expected findings from %q", flat)
	}
	packages, _ = strconv.Atoi(m[1])
	modules, _ = strconv.Atoi(m[2])
	return symbols, packages, modules
}
