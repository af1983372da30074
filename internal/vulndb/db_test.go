package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.etcd.io/bbolt"
)

// testMirror is the testdata directory in the mirror layout.
const testMirror = "testdata/mirror"

// buildTestDB builds a database from testdata (npm, Maven, Go, Alpine v3.16
// main, KEV, NVD) and returns its path.
func buildTestDB(t testing.TB, dir string) (string, UpdateResult) {
	t.Helper()
	path := filepath.Join(dir, "db", "drydock.db")
	res, err := Update(context.Background(), UpdateOptions{
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
	if meta.SchemaVersion != SchemaVersion || !meta.BuiltAt.Equal(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("schema %d built %v", meta.SchemaVersion, meta.BuiltAt)
	}

	// A full round trip of one real record.
	lodash, err := db.Advisories(ctx, "npm", "lodash")
	if err != nil {
		t.Fatal(err)
	}
	wantLodash := []Advisory{{
		ID:        "GHSA-35jh-r3h4-6jhm",
		Aliases:   []string{"CVE-2021-23337"},
		Summary:   "Command Injection in lodash",
		Details:   "`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
		Published: mustTime("2021-05-06T16:05:51Z"),
		Modified:  mustTime("2022-02-08T21:35:09Z"),
		Ecosystem: "npm",
		Package:   "lodash",
		Ranges:    []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "4.17.21"}}}},
		Severity:  []Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}},
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
	i := slices.IndexFunc(busybox, func(a Advisory) bool { return a.ID == "CVE-2023-42366" })
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
		want  CVE
		found bool
	}{
		{"CVE-2023-42366", CVE{ID: "CVE-2023-42366", NVDSeverity: "MEDIUM", NVDScore: 5.5, NVDVector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", NVDVersion: "3.1"}, true},
		{"CVE-2023-29491", CVE{ID: "CVE-2023-29491", NVDSeverity: "HIGH", NVDScore: 7.8, NVDVector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", NVDVersion: "3.1"}, true},
		{"CVE-2021-44228", CVE{ID: "CVE-2021-44228", KEV: true, KEVDateAdded: "2021-12-10", KEVDueDate: "2021-12-24", KEVRansomware: "Known"}, true},
		{"CVE-1999-0001", CVE{}, false},
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

	st, err := Status(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(meta, st); diff != "" {
		t.Errorf("Status differs from Meta:\n%s", diff)
	}
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
	res, err := Update(ctx, UpdateOptions{Mirrors: []string{mirror}, Ecosystems: []string{"AlmaLinux"}, Path: path})
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
	i := slices.IndexFunc(glibc, func(a Advisory) bool { return a.ID == "ALSA-2023:5453" })
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
