package update

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/vulndb"
)

// buildTestDB builds a database from testdata (npm, Maven, Go, Alpine v3.16
// main, KEV, NVD) and returns its path.
func buildTestDB(t testing.TB, dir string) (string, Result) {
	t.Helper()
	path := filepath.Join(dir, "db", "drydock.db")
	res, err := Run(context.Background(), Options{
		Mirrors:    []string{testMirror},
		Ecosystems: []string{"npm", "Maven", "Go"},
		Path:       path,
		Now:        func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return path, res
}

func TestBuildAndRead(t *testing.T) {
	ctx := context.Background()
	path, res := buildTestDB(t, t.TempDir())
	if len(res.Warnings) != 0 || res.UpToDate {
		t.Errorf("warnings %v, up to date %v", res.Warnings, res.UpToDate)
	}
	db := openTest(t, path)

	meta, err := db.Meta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[string]int{"Alpine:v3.16": 2172, "Go": 4274, "Maven": 2, "npm": 2}
	if diff := cmp.Diff(wantCounts, meta.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	type src struct {
		Name    string
		Records int
	}
	var gotSrc []src
	for _, s := range meta.Sources {
		gotSrc = append(gotSrc, src{s.Name, s.Records})
		if !strings.HasPrefix(s.Digest, "sha256:") || s.URL == "" {
			t.Errorf("source %s: digest %q url %q", s.Name, s.Digest, s.URL)
		}
	}
	wantSrc := []src{
		{"alpine-secdb/v3.16/main", 2265}, {"cisa-kev", 3}, {"nvd/CVE-2023-29491.json", 1}, {"nvd/CVE-2023-42366.json", 1},
		{"osv/Go", 4274}, {"osv/Maven", 2}, {"osv/npm", 2},
	}
	if diff := cmp.Diff(wantSrc, gotSrc); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if meta.SchemaVersion != vulndb.SchemaVersion || !meta.BuiltAt.Equal(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("schema %d built %v", meta.SchemaVersion, meta.BuiltAt)
	}

	// A full round trip of one real record.
	lodash, err := db.Advisories(ctx, "npm", "lodash")
	if err != nil {
		t.Fatal(err)
	}
	wantLodash := []vulndb.Advisory{{
		ID:        "GHSA-35jh-r3h4-6jhm",
		Aliases:   []string{"CVE-2021-23337"},
		Summary:   "Command Injection in lodash",
		Details:   "`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
		Published: mustTime("2021-05-06T16:05:51Z"),
		Modified:  mustTime("2022-02-08T21:35:09Z"),
		Ecosystem: "npm",
		Package:   "lodash",
		Ranges:    []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "4.17.21"}}}},
		Severity:  []vulndb.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}},
		References: []string{
			"https://nvd.nist.gov/vuln/detail/CVE-2021-23337",
			"https://github.com/lodash/lodash/commit/3469357cff396a26c363f8c1b5a91dde28ba4b1c",
			"https://cert-portal.siemens.com/productcert/pdf/ssa-637483.pdf",
			"https://github.com/lodash/lodash",
			"https://github.com/lodash/lodash/blob/ddfd9b11a0126db2302cb70ec9973b66baec0975/lodash.js#L14851",
			"https://github.com/lodash/lodash/blob/ddfd9b11a0126db2302cb70ec9973b66baec0975/lodash.js%23L14851",
			"https://security.netapp.com/advisory/ntap-20210312-0006/",
			"https://snyk.io/vuln/SNYK-JAVA-ORGFUJIONWEBJARS-1074932",
			"https://snyk.io/vuln/SNYK-JAVA-ORGWEBJARS-1074930",
			"https://snyk.io/vuln/SNYK-JAVA-ORGWEBJARSBOWER-1074928",
		},
		Source:            "osv/npm",
		EcosystemSpecific: json.RawMessage(`{"affected_functions":["lodash.template"]}`),
	}}
	if diff := cmp.Diff(wantLodash, lodash); diff != "" {
		t.Errorf("lodash (-want +got):\n%s", diff)
	}

	lookups := []struct {
		eco, name string
		want      []string // ids
	}{
		{"npm", "lodash-es", []string{"GHSA-35jh-r3h4-6jhm"}},
		{"npm", "minimist", []string{"GHSA-xvch-5gv4-984h"}},
		{"npm", "Lodash", nil}, // npm names are exact
		{"Maven", "org.apache.logging.log4j:log4j-core", []string{"GHSA-jfh8-c2jp-5v3q", "GHSA-p6xc-xr62-6r2g"}},
		{"Alpine:v3.16", "zlib", []string{"CVE-2018-25032", "CVE-2022-37434"}}, // not the "0" entry CVE-2023-45853
		{"Alpine:v3.17", "zlib", nil},
		{"AlmaLinux:9", "glibc", nil},
		{"Go", "golang.org/x/text", []string{"GO-2020-0015", "GO-2021-0113", "GO-2022-1059", "GO-2026-5970"}},
		{"Go", "no/such/module", nil},
	}
	for _, l := range lookups {
		got, err := db.Advisories(ctx, l.eco, l.name)
		if err != nil {
			t.Fatalf("%s %s: %v", l.eco, l.name, err)
		}
		if diff := cmp.Diff(l.want, ids(got)); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", l.eco, l.name, diff)
		}
	}

	log4j, _ := db.Advisories(ctx, "Maven", "org.apache.logging.log4j:log4j-core")
	if len(log4j) != 2 || len(log4j[0].Ranges) != 3 || log4j[0].Aliases[0] != "CVE-2021-44228" {
		t.Errorf("log4j-core: %+v", log4j)
	}
	busybox, _ := db.Advisories(ctx, "Alpine:v3.16", "busybox")
	i := slices.IndexFunc(busybox, func(a vulndb.Advisory) bool { return a.ID == "CVE-2023-42366" })
	if i < 0 || busybox[i].Ranges[0].Events[1].Fixed != "1.35.0-r18" || busybox[i].Source != "alpine-secdb/v3.16/main" {
		t.Errorf("busybox CVE-2023-42366 missing or wrong: %+v", busybox)
	}
	k8s, _ := db.Advisories(ctx, "Go", "k8s.io/kubernetes")
	if len(k8s) == 0 || slices.Contains(ids(k8s), "GO-2022-0617") {
		t.Errorf("k8s.io/kubernetes: %v (withdrawn GO-2022-0617 must be absent)", ids(k8s))
	}
	text, _ := db.Advisories(ctx, "Go", "golang.org/x/text")
	if len(text) < 2 || !strings.Contains(string(text[1].EcosystemSpecific), `"symbols":["MatchStrings"`) {
		t.Errorf("GO-2021-0113 ecosystem_specific: %s", text[1].EcosystemSpecific)
	}

	cves := []struct {
		id    string
		want  vulndb.CVE
		found bool
	}{
		{"CVE-2023-42366", vulndb.CVE{ID: "CVE-2023-42366", NVDSeverity: "MEDIUM", NVDScore: 5.5, NVDVector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", NVDVersion: "3.1"}, true},
		{"CVE-2023-29491", vulndb.CVE{ID: "CVE-2023-29491", NVDSeverity: "HIGH", NVDScore: 7.8, NVDVector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", NVDVersion: "3.1"}, true},
		{"CVE-2021-44228", vulndb.CVE{ID: "CVE-2021-44228", KEV: true, KEVDateAdded: "2021-12-10", KEVDueDate: "2021-12-24", KEVRansomware: "Known"}, true},
		{"CVE-1999-0001", vulndb.CVE{}, false},
	}
	for _, c := range cves {
		got, found, err := db.CVE(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if found != c.found {
			t.Errorf("%s found = %v", c.id, found)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.id, diff)
		}
	}

	st, err := vulndb.Status(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(meta, st); diff != "" {
		t.Errorf("Status differs from Meta:\n%s", diff)
	}
}

// TestAlmaLinuxShared imports the real AlmaLinux all.zip (5.5 MB, kept in
// the shared data rather than in testdata).
func TestAlmaLinuxShared(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	zipPath := sharedData(t, "osv/AlmaLinux/all.zip")
	ctx := context.Background()
	mirror := t.TempDir()
	if err := os.Mkdir(filepath.Join(mirror, "AlmaLinux"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(zipPath, filepath.Join(mirror, "AlmaLinux", "all.zip")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "drydock.db")
	res, err := Run(ctx, Options{Mirrors: []string{mirror}, Ecosystems: []string{"AlmaLinux"}, Path: path, AlpineSecDB: Off, KEV: Off})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Metadata.Sources) != 1 || res.Metadata.Sources[0].Records != 5637 {
		t.Errorf("sources %+v, want 5637 records", res.Metadata.Sources)
	}
	for _, eco := range []string{"AlmaLinux:8", "AlmaLinux:9", "AlmaLinux:10"} {
		if res.Metadata.Counts[eco] == 0 {
			t.Errorf("no advisories for %s: %v", eco, res.Metadata.Counts)
		}
	}
	db := openTest(t, path)
	glibc, err := db.Advisories(ctx, "AlmaLinux:9", "glibc")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(glibc, func(a vulndb.Advisory) bool { return a.ID == "ALSA-2023:5453" })
	if i < 0 {
		t.Fatalf("ALSA-2023:5453 not found in %v", ids(glibc))
	}
	a := glibc[i]
	if a.VendorSeverity != "Important" || !slices.Contains(a.Aliases, "CVE-2023-4911") ||
		a.Ranges[0].Events[1].Fixed != "2.34-60.el9_2.7" || a.Source != "osv/AlmaLinux" {
		t.Errorf("ALSA-2023:5453: %+v", a)
	}
	langpack, _ := db.Advisories(ctx, "AlmaLinux:9", "glibc-langpack-en")
	if !slices.Contains(ids(langpack), "ALSA-2023:5453") {
		t.Errorf("glibc-langpack-en lacks ALSA-2023:5453")
	}
	el8, _ := db.Advisories(ctx, "AlmaLinux:8", "glibc")
	if !slices.Contains(ids(el8), "ALSA-2023:5455") {
		t.Errorf("AlmaLinux:8 glibc lacks ALSA-2023:5455: %v", ids(el8))
	}
}
