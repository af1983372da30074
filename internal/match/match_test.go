package match

import (
	"archive/zip"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/version"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/vulndb"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

// fakeDB is an in-memory vulndb.Reader.
type fakeDB struct {
	advs map[string][]vulndb.Advisory // "eco\x00name"
	cves map[string]vulndb.CVE
}

func (f *fakeDB) Advisories(_ context.Context, eco, name string) ([]vulndb.Advisory, error) {
	return f.advs[eco+"\x00"+name], nil
}
func (f *fakeDB) CVE(_ context.Context, id string) (vulndb.CVE, bool, error) {
	c, ok := f.cves[id]
	return c, ok, nil
}
func (f *fakeDB) Meta(context.Context) (vulndb.Metadata, error) { return vulndb.Metadata{}, nil }
func (f *fakeDB) Close() error                                  { return nil }

func ev(intro, fixed string) []vulndb.Event {
	e := []vulndb.Event{{Introduced: intro}}
	if fixed != "" {
		e = append(e, vulndb.Event{Fixed: fixed})
	}
	return e
}

func TestInRange(t *testing.T) {
	apk, err := version.For("apk")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		events []vulndb.Event
		v      string
		want   bool
		fixed  string
	}{
		{"below fixed", ev("0", "1.35.0-r18"), "1.35.0-r17", true, "1.35.0-r18"},
		{"at fixed", ev("0", "1.35.0-r18"), "1.35.0-r18", false, ""},
		{"above fixed", ev("0", "1.35.0-r18"), "1.36.1-r0", false, ""},
		{"before introduced", ev("1.36.0-r0", "1.36.1-r2"), "1.35.0-r17", false, ""},
		{"no fix", ev("0", ""), "1.0-r0", true, ""},
		{"last affected inclusive", []vulndb.Event{{Introduced: "0"}, {LastAffected: "1.2-r0"}}, "1.2-r0", true, ""},
		{"after last affected", []vulndb.Event{{Introduced: "0"}, {LastAffected: "1.2-r0"}}, "1.2-r1", false, ""},
		{"second interval", []vulndb.Event{{Introduced: "1.0-r0"}, {Fixed: "1.1-r0"}, {Introduced: "2.0-r0"}, {Fixed: "2.1-r0"}}, "2.0-r5", true, "2.1-r0"},
		{"between intervals", []vulndb.Event{{Introduced: "1.0-r0"}, {Fixed: "1.1-r0"}, {Introduced: "2.0-r0"}, {Fixed: "2.1-r0"}}, "1.5-r0", false, ""},
		{"limit excludes", []vulndb.Event{{Introduced: "0"}, {Limit: "2.0-r0"}}, "2.5-r0", false, ""},
		{"limit includes", []vulndb.Event{{Introduced: "0"}, {Limit: "2.0-r0"}}, "1.5-r0", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, got, err := inRange(apk.Compare, tc.events, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || h.fixed != tc.fixed {
				t.Errorf("inRange(%v, %s) = %v fixed %q, want %v fixed %q", tc.events, tc.v, got, h.fixed, tc.want, tc.fixed)
			}
		})
	}
}

func TestMatchVendorSemantics(t *testing.T) {
	db := &fakeDB{
		advs: map[string][]vulndb.Advisory{
			"Alpine:v3.16\x00busybox": {{
				ID: "CVE-2023-42366", Ecosystem: "Alpine:v3.16", Package: "busybox", Source: "alpine-secdb/v3.16/main",
				Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: ev("0", "1.35.0-r18")}},
			}},
			"npm\x00lodash": {
				{ID: "GHSA-35jh-r3h4-6jhm", Aliases: []string{"CVE-2021-23337"}, Ranges: []vulndb.Range{{Type: "SEMVER", Events: ev("0", "4.17.21")}},
					Severity: []vulndb.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}}},
				// The same flaw published again under its CVE: one finding.
				{ID: "CVE-2021-23337", Ranges: []vulndb.Range{{Type: "SEMVER", Events: ev("0", "4.17.21")}}},
			},
			"AlmaLinux:9\x00glibc": {
				{
					ID: "ALSA-2023:5453", Aliases: []string{"CVE-2023-4911"}, VendorSeverity: "Important",
					Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: ev("0", "2.34-60.el9_2.7")}},
				},
				// A later erratum citing the same CVE is a distinct advisory.
				{
					ID: "ALSA-2023:9999", Aliases: []string{"CVE-2023-4911"}, VendorSeverity: "Moderate",
					Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: ev("0", "2.34-61.el9_2")}},
				},
			},
		},
		cves: map[string]vulndb.CVE{
			"CVE-2023-42366": {ID: "CVE-2023-42366", NVDScore: 5.5, NVDSeverity: "MEDIUM", NVDVector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", NVDVersion: "3.1"},
			"CVE-2023-4911":  {ID: "CVE-2023-4911", KEV: true},
		},
	}
	type row struct {
		Pkg, ID, Fixed, Status, Severity, SevSource string
		KEV                                         bool
		Aliases                                     []string
	}
	tests := []struct {
		name string
		inv  inventory.Inventory
		want []row
	}{
		{
			name: "alpine by origin, severity from NVD",
			inv: inventory.Inventory{
				Distro: &inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16"},
				Packages: []inventory.Package{
					{ID: "a", Name: "busybox", Version: "1.35.0-r17", SourceName: "busybox", Ecosystem: inventory.EcoAPK},
					{ID: "b", Name: "ssl_client", Version: "1.35.0-r17", SourceName: "busybox", Ecosystem: inventory.EcoAPK},
					{ID: "c", Name: "busybox-extras", Version: "1.35.0-r18", SourceName: "busybox", Ecosystem: inventory.EcoAPK},
				},
			},
			want: []row{
				{"busybox", "CVE-2023-42366", "1.35.0-r18", vocab.StatusFixed, vocab.SevMedium, "nvd", false, nil},
				{"ssl_client", "CVE-2023-42366", "1.35.0-r18", vocab.StatusFixed, vocab.SevMedium, "nvd", false, nil},
			},
		},
		{
			name: "aliases merged, finding.CVSS from record",
			inv: inventory.Inventory{Packages: []inventory.Package{
				{ID: "l", Name: "lodash", Version: "4.17.15", Ecosystem: inventory.EcoNPM},
				{ID: "d", Name: "lodash", Version: "4.17.15", Ecosystem: inventory.EcoNPM, Declared: true},
				{ID: "o", Name: "lodash", Version: "4.17.15", Ecosystem: inventory.EcoNPM, Owner: "x"},
			}},
			want: []row{{"lodash", "GHSA-35jh-r3h4-6jhm", "4.17.21", vocab.StatusFixed, vocab.SevHigh, "osv-cvss", false, []string{"CVE-2021-23337"}}},
		},
		{
			name: "rpm by binary name, vendor severity, KEV",
			inv: inventory.Inventory{
				Distro:   &inventory.Distro{ID: "almalinux", VersionID: "9.0", Release: "9"},
				Packages: []inventory.Package{{ID: "g", Name: "glibc", Version: "2.34-28.el9_0", SourceName: "glibc", Ecosystem: inventory.EcoRPM}},
			},
			want: []row{
				{"glibc", "ALSA-2023:5453", "2.34-60.el9_2.7", vocab.StatusFixed, vocab.SevHigh, "vendor", true, []string{"CVE-2023-4911"}},
				{"glibc", "ALSA-2023:9999", "2.34-61.el9_2", vocab.StatusFixed, vocab.SevMedium, "vendor", true, []string{"CVE-2023-4911"}},
			},
		},
		{
			name: "no distro: OS packages not matched",
			inv:  inventory.Inventory{Packages: []inventory.Package{{ID: "a", Name: "busybox", Version: "1.35.0-r17", Ecosystem: inventory.EcoAPK}}},
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Matcher{DB: db}
			res, err := m.Match(context.Background(), &tc.inv)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, f := range res.Findings {
				got = append(got, row{f.Package.Name, f.ID, f.FixedVersion, f.Status, f.Severity, f.SeveritySource, f.KEV, f.Aliases})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtendingEcosystems(t *testing.T) {
	counts := map[string]int{
		"Red Hat:enterprise_linux:9::baseos":    3,
		"Red Hat:enterprise_linux:9::appstream": 2,
		"Red Hat:enterprise_linux:8::baseos":    1,
		"Red Hat:enterprise_linux:90":           1,
		"AlmaLinux:9":                           5,
	}
	got := extendingEcosystems("Red Hat:enterprise_linux:9", counts)
	want := []string{"Red Hat:enterprise_linux:9", "Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("extendingEcosystems (-want +got):\n%s", diff)
	}
}

// TestFindingKeepsEcosystemSpecific: the advisory's ecosystem_specific data
// (for Go: the vulnerable packages and symbols) reaches the finding's
// evidence, for enrichers such as reachability.
func TestFindingKeepsEcosystemSpecific(t *testing.T) {
	es := `{"imports":[{"path":"golang.org/x/text/language","symbols":["MatchStrings","Parse"]}]}`
	db := &fakeDB{advs: map[string][]vulndb.Advisory{
		"Go\x00golang.org/x/text": {{
			ID: "GO-2021-0113", Ecosystem: "Go", Package: "golang.org/x/text",
			Ranges:            []vulndb.Range{{Type: "SEMVER", Events: ev("0", "0.3.7")}},
			EcosystemSpecific: json.RawMessage(es),
		}},
	}}
	m := Matcher{DB: db}
	inv := inventory.Inventory{Packages: []inventory.Package{{ID: "x", Name: "golang.org/x/text", Version: "v0.3.5", Ecosystem: inventory.EcoGo}}}
	res, err := m.Match(context.Background(), &inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || len(res.Findings[0].Evidence) != 1 {
		t.Fatalf("findings = %+v, want one with one evidence", res.Findings)
	}
	if got := string(res.Findings[0].Evidence[0].EcosystemSpecific); got != es {
		t.Errorf("ecosystem_specific = %s, want %s", got, es)
	}
}

// sharedData returns the path of a file of the project's shared test data
// (beside the repository, at $DRYDOCK_SHARED_DATA or at /work/shared/data),
// or skips the test.
func sharedData(t *testing.T, rel string) string {
	t.Helper()
	var dirs []string
	if d := os.Getenv("DRYDOCK_SHARED_DATA"); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, filepath.Join("..", "..", "..", "shared", "data"), "/work/shared/data")
	for _, d := range dirs {
		p := filepath.Join(d, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("shared data %s not found in %v", rel, dirs)
	return ""
}

// realDB builds a database from real OSV archives with the importer that
// `drydock db update` uses, and opens it.
func realDB(t *testing.T, zips map[string]string) *vulndb.DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "real.db")
	bld, err := vulndb.NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, eco := range slices.Sorted(maps.Keys(zips)) {
		f, err := os.Open(zips[eco])
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.Stat()
		if err == nil {
			_, err = bld.ImportOSVZip(ctx, f, st.Size(), zips[eco], vulndb.SourceInfo{Name: "osv/" + eco})
		}
		f.Close()
		if err != nil {
			t.Fatalf("importing %s: %v", zips[eco], err)
		}
	}
	if _, err := bld.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// osvFixes reads the ECOSYSTEM/SEMVER "fixed" events of every record in an
// OSV archive, by record ID and normalised package name (every affected
// package has a key, with no events if it has no fix).
func osvFixes(t *testing.T, zipPath string) map[[2]string][]string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[[2]string][]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			ID       string `json:"id"`
			Affected []struct {
				Package struct{ Ecosystem, Name string } `json:"package"`
				Ranges  []struct {
					Type   string              `json:"type"`
					Events []map[string]string `json:"events"`
				} `json:"ranges"`
			} `json:"affected"`
		}
		err = json.NewDecoder(rc).Decode(&rec)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, a := range rec.Affected {
			key := [2]string{rec.ID, vulndb.NormalizeName(a.Package.Ecosystem, a.Package.Name)}
			if _, ok := out[key]; !ok {
				out[key] = nil // a record without a fix is still listed
			}
			for _, r := range a.Ranges {
				if r.Type != "ECOSYSTEM" && r.Type != "SEMVER" {
					continue
				}
				for _, e := range r.Events {
					if fx := e["fixed"]; fx != "" {
						out[key] = append(out[key], fx)
					}
				}
			}
		}
	}
	return out
}

// TestListedVersionKeepsFix: an OSV record whose "versions" list holds the
// installed version still gives the fix of the range that contains it
// (2,447 of 2,661 PyPI records carry both). Without it --ignore-unfixed hid
// every PyPI finding.
func TestListedVersionKeepsFix(t *testing.T) {
	db := realDB(t, map[string]string{"PyPI": "../../testdata/mirror/PyPI/all.zip"})
	inv := inventory.Inventory{Packages: []inventory.Package{
		{ID: "r", Name: "requests", Version: "2.25.0", Ecosystem: inventory.EcoPyPI},
		{ID: "u", Name: "urllib3", Version: "1.26.4", Ecosystem: inventory.EcoPyPI},
	}}
	res, err := (&Matcher{DB: db}).Match(context.Background(), &inv)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Pkg, ID, Fixed, Status, Range string }
	var got []row
	for _, f := range res.Findings {
		got = append(got, row{f.Package.Name, f.ID, f.FixedVersion, f.Status, f.Evidence[0].Range})
	}
	slices.SortFunc(got, func(a, b row) int { return strings.Compare(a.Pkg+a.ID, b.Pkg+b.ID) })
	// The fixes and ranges as the records (pypa/advisory-database) give them.
	want := []row{
		{"requests", "PYSEC-2023-74", "2.31.0", vocab.StatusFixed, ">=2.3.0, <2.31.0"},
		{"urllib3", "PYSEC-2021-108", "1.26.5", vocab.StatusFixed, ">=0, <1.26.5"},
		{"urllib3", "PYSEC-2023-192", "1.26.17", vocab.StatusFixed, ">=0, <1.26.17"},
		{"urllib3", "PYSEC-2023-212", "1.26.18", vocab.StatusFixed, ">=0, <1.26.18"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestListedVersionKeepsFixSharedData: django 3.2 and urllib3 1.26.4 against
// the whole PyPI archive of shared/data (the SBOM: 28 findings, all
// shown unfixed before). Every finding whose record has a fix above the
// installed version carries the smallest such fix: the fix of the interval
// that holds it.
func TestListedVersionKeepsFixSharedData(t *testing.T) {
	zipPath := sharedData(t, "osv/PyPI/all.zip")
	db := realDB(t, map[string]string{"PyPI": zipPath})
	fixes := osvFixes(t, zipPath)
	pep440, err := version.For("PyPI")
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.Inventory{Packages: []inventory.Package{
		{ID: "d", Name: "Django", Version: "3.2", Ecosystem: inventory.EcoPyPI},
		{ID: "u", Name: "urllib3", Version: "1.26.4", Ecosystem: inventory.EcoPyPI},
	}}
	res, err := (&Matcher{DB: db}).Match(context.Background(), &inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 28 {
		t.Errorf("%d findings, want 28", len(res.Findings))
	}
	withFix := 0
	for _, f := range res.Findings {
		want := ""
		for _, ev := range f.Evidence {
			for _, fx := range fixes[[2]string{ev.Advisory, vulndb.NormalizeName("PyPI", f.Package.Name)}] {
				above, err := pep440.Compare(fx, f.InstalledVersion)
				if err != nil {
					t.Fatal(err)
				}
				if above <= 0 {
					continue
				}
				if smaller, _ := pep440.Compare(fx, want); want == "" || smaller < 0 {
					want = fx
				}
			}
		}
		if want != "" {
			withFix++
		}
		wantStatus := vocab.StatusAffected
		if want != "" {
			wantStatus = vocab.StatusFixed
		}
		if f.FixedVersion != want || f.Status != wantStatus {
			t.Errorf("%s %s %s: fixed %q status %q, want %q %q (range %q)", f.Package.Name, f.InstalledVersion, f.ID,
				f.FixedVersion, f.Status, want, wantStatus, f.Evidence[0].Range)
		}
	}
	if withFix == 0 {
		t.Errorf("no finding has a fix in the data: the check checked nothing")
	}
	t.Logf("%d findings, %d with a fix in the data", len(res.Findings), withFix)
}

// TestGoFixedVersionPrefix: Go module versions are written with a "v"
// ("v0.3.5") while the Go vulnerability database writes its SEMVER events
// without one ("0.3.7"); the fixed version is written like the installed one.
// stdlib versions have no "v" on either side.
func TestGoFixedVersionPrefix(t *testing.T) {
	db := realDB(t, map[string]string{"Go": "../../testdata/mirror/Go/all.zip"})
	inv := inventory.Inventory{Packages: []inventory.Package{
		{ID: "t", Name: "golang.org/x/text", Version: "v0.3.5", Ecosystem: inventory.EcoGo},
		{ID: "s", Name: "stdlib", Version: "1.19.8", Ecosystem: inventory.EcoGo},
	}}
	res, err := (&Matcher{DB: db}).Match(context.Background(), &inv)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Installed, Fixed string }
	got := map[string]row{}
	for _, f := range res.Findings {
		got[f.Package.Name+" "+f.ID] = row{f.InstalledVersion, f.FixedVersion}
	}
	// GO-2021-0113: golang.org/x/text fixed in 0.3.7; GO-2023-1753:
	// html/template fixed in 1.19.9 and 1.20.4.
	want := map[string]row{
		"golang.org/x/text GO-2021-0113": {"v0.3.5", "v0.3.7"},
		"golang.org/x/text GO-2022-1059": {"v0.3.5", "v0.3.8"},
		"stdlib GO-2023-1753":            {"1.19.8", "1.19.9"},
	}
	for k, w := range want {
		if diff := cmp.Diff(w, got[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	for k, g := range got {
		if g.Fixed != "" && strings.HasPrefix(g.Installed, "v") != strings.HasPrefix(g.Fixed, "v") {
			t.Errorf("%s: installed %q, fixed %q: prefixes differ", k, g.Installed, g.Fixed)
		}
	}
}

// TestListedVersionsSweep evaluates every version listed by every PyPI
// record of shared/data: each is affected, and has a fix exactly when its
// record has a fix above it; the fix is one of the record's and above it.
// (Which one, when intervals overlap, is the interval's that holds the
// version, as for a version that is not listed: TestAffected.)
func TestListedVersionsSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("139,479 listed versions: several CPU seconds")
	}
	t.Parallel()
	zipPath := sharedData(t, "osv/PyPI/all.zip")
	db := realDB(t, map[string]string{"PyPI": zipPath})
	fixes := osvFixes(t, zipPath)
	pep440, err := version.For("PyPI")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for k := range fixes {
		names[k[1]] = true
	}
	var listed, inRange, outside, noFix int
	for _, name := range slices.Sorted(maps.Keys(names)) {
		advs, err := db.Advisories(context.Background(), "PyPI", name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range advs {
			adv := &advs[i]
			recFixes := fixes[[2]string{adv.ID, name}]
			for _, v := range adv.Versions {
				listed++
				h, ok, err := affected(pep440, adv, v)
				if err != nil || !ok {
					t.Errorf("%s %s %s: affected = %v, %v; want listed", adv.ID, name, v, ok, err)
					continue
				}
				var above []string
				for _, fx := range recFixes {
					if c, err := pep440.Compare(fx, v); err == nil && c > 0 {
						above = append(above, fx)
					}
				}
				switch {
				case len(above) == 0:
					noFix++
					if h.fixed != "" {
						t.Errorf("%s %s %s: fixed %q, but the record has no fix above it", adv.ID, name, v, h.fixed)
					}
				case !slices.Contains(above, h.fixed):
					t.Errorf("%s %s %s: fixed %q (range %q), want one of %q", adv.ID, name, v, h.fixed, h.rangeText, above)
				case strings.HasSuffix(h.rangeText, " listed"):
					outside++
				default:
					inRange++
				}
			}
		}
	}
	t.Logf("%d listed versions: %d in a range with a fix, %d outside every range, given the next fix, %d without a fix above them",
		listed, inRange, outside, noFix)
	if inRange == 0 || outside == 0 {
		t.Errorf("the sweep no longer covers both ways to a fix")
	}
}

// TestAffected: how a version is evaluated against a record's ranges and
// versions list, on the events of real PyPI records (pypa/advisory-database
// via shared/data; versions lists cut to the versions used).
func TestAffected(t *testing.T) {
	pep440, err := version.For("PyPI")
	if err != nil {
		t.Fatal(err)
	}
	eco := func(evs ...vulndb.Event) []vulndb.Range { return []vulndb.Range{{Type: "ECOSYSTEM", Events: evs}} }
	in := func(v string) vulndb.Event { return vulndb.Event{Introduced: v} }
	fx := func(v string) vulndb.Event { return vulndb.Event{Fixed: v} }
	// PYSEC-2023-61 (django): 3.2 ≤ v < 3.2.19, 4.0 ≤ v < 4.1.9, 4.2 ≤ v < 4.2.1;
	// the list also holds the pre-releases of 3.2 and 4.2, below the ranges.
	django := vulndb.Advisory{ID: "PYSEC-2023-61", Versions: []string{"3.2", "3.2rc1", "4.2b1"},
		Ranges: eco(in("3.2"), fx("3.2.19"), in("4.0"), fx("4.1.9"), in("4.2"), fx("4.2.1"))}
	// PYSEC-2021-114 (wagtail): overlapping intervals; 2.11.6 is listed.
	wagtail := vulndb.Advisory{ID: "PYSEC-2021-114", Versions: []string{"2.11.3", "2.11.6"},
		Ranges: eco(in("2.11"), fx("2.11.7"), in("0"), fx("2.11.6"), in("2.12"), fx("2.12.4"))}
	// PYSEC-2023-177 (gevent): fixed in 23.9.0, yet 23.9.0.post1 is listed.
	gevent := vulndb.Advisory{ID: "PYSEC-2023-177", Versions: []string{"20.9.0", "23.9.0.post1"},
		Ranges: eco(in("0"), fx("23.9.0"))}
	// A listed version inside an interval that ends with last_affected has
	// no fix, even though another interval has one above it.
	lastAffected := vulndb.Advisory{ID: "X", Versions: []string{"1.5"},
		Ranges: eco(in("1.0"), vulndb.Event{LastAffected: "1.9"}, in("0"), fx("2.0"))}
	// Only a GIT range: the list decides, the commit hash is no version.
	gitOnly := vulndb.Advisory{ID: "Y", Versions: []string{"1.0"},
		Ranges: []vulndb.Range{{Type: "GIT", Events: []vulndb.Event{in("0"), fx("74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5")}}}}
	tests := []struct {
		adv                  *vulndb.Advisory
		v                    string
		want                 bool
		wantFixed, wantRange string
	}{
		{&django, "3.2", true, "3.2.19", ">=3.2, <3.2.19"},
		{&django, "3.2.5", true, "3.2.19", ">=3.2, <3.2.19"}, // not listed: the range alone
		{&django, "3.2rc1", true, "3.2.19", "version 3.2rc1 listed"},
		{&django, "4.2b1", true, "4.2.1", "version 4.2b1 listed"},
		{&django, "4.2.1", false, "", ""},
		{&wagtail, "2.11.3", true, "2.11.7", ">=2.11, <2.11.7"}, // the first interval that holds it
		{&wagtail, "2.11.6", true, "2.11.7", ">=2.11, <2.11.7"},
		{&gevent, "20.9.0", true, "23.9.0", ">=0, <23.9.0"},
		{&gevent, "23.9.0.post1", true, "", "version 23.9.0.post1 listed"},
		{&lastAffected, "1.5", true, "", ">=1.0, <=1.9"},
		{&gitOnly, "1.0", true, "", "version 1.0 listed"},
		{&gitOnly, "1.1", false, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.adv.ID+"@"+tc.v, func(t *testing.T) {
			h, ok, err := affected(pep440, tc.adv, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			type res struct {
				Affected     bool
				Fixed, Range string
			}
			if diff := cmp.Diff(res{tc.want, tc.wantFixed, tc.wantRange}, res{ok, h.fixed, h.rangeText}); diff != "" {
				t.Errorf("affected (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGPGPubkeyNeverMatched: rpm signing keys are listed in the inventory but
// are no software: an advisory naming gpg-pubkey never matches them.
func TestGPGPubkeyNeverMatched(t *testing.T) {
	db := &fakeDB{advs: map[string][]vulndb.Advisory{
		"AlmaLinux:8\x00gpg-pubkey": {{ID: "ALSA-0000:0001", Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: ev("0", "")}}}},
	}}
	inv := inventory.Inventory{
		Distro: &inventory.Distro{ID: "almalinux", VersionID: "8.8", Release: "8"},
		Packages: []inventory.Package{
			{ID: "k", Name: "gpg-pubkey", Version: "c21ad6ea-5e5e4e36", Ecosystem: inventory.EcoRPM},
		},
	}
	res, err := (&Matcher{DB: db}).Match(context.Background(), &inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("gpg-pubkey matched: %+v", res.Findings)
	}
}

// metaDB is a fakeDB with metadata.
type metaDB struct {
	fakeDB
	meta vulndb.Metadata
}

func (m *metaDB) Meta(context.Context) (vulndb.Metadata, error) { return m.meta, nil }

// TestCoverageMissingFeed: a feed the last update could not get (the
// Alpine secdb for v3.16 while OSV's Alpine records came through) makes the
// coverage of its ecosystem partial, naming the feed; feeds of other
// ecosystems do not.
func TestCoverageMissingFeed(t *testing.T) {
	inv := inventory.Inventory{
		Distro:   &inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16"},
		Packages: []inventory.Package{{ID: "b", Name: "busybox", Version: "1.35.0-r17", Ecosystem: inventory.EcoAPK, SourceName: "busybox"}},
	}
	meta := vulndb.Metadata{Counts: map[string]int{"Alpine:v3.16": 100}}
	tests := []struct {
		name    string
		missing []vulndb.MissingSource
		want    []result.Coverage
	}{
		{"nothing missing", nil, []result.Coverage{{Ecosystem: "Alpine:v3.16", OS: true, Packages: 1, Advisories: 100, Status: vocab.CoverageComplete}}},
		{"the secdb branch missing", []vulndb.MissingSource{{Name: "alpine-secdb/v3.16/main", Ecosystem: "Alpine:v3.16", URL: "https://secdb.alpinelinux.org/v3.16/main.json", Reason: "503 Service Unavailable"}},
			[]result.Coverage{{Ecosystem: "Alpine:v3.16", OS: true, Packages: 1, Advisories: 100, Status: vocab.CoveragePartial,
				Reasons: []string{"the advisory feed alpine-secdb/v3.16/main (https://secdb.alpinelinux.org/v3.16/main.json) is missing from this database: 503 Service Unavailable"}}}},
		{"the whole secdb missing (prefix)", []vulndb.MissingSource{{Name: "alpine-secdb", Ecosystem: "Alpine", Reason: "turned off"}},
			[]result.Coverage{{Ecosystem: "Alpine:v3.16", OS: true, Packages: 1, Advisories: 100, Status: vocab.CoveragePartial,
				Reasons: []string{"the advisory feed alpine-secdb is missing from this database: turned off"}}}},
		{"another ecosystem's feed missing", []vulndb.MissingSource{{Name: "osv/Debian", Ecosystem: "Debian", Reason: "x"}},
			[]result.Coverage{{Ecosystem: "Alpine:v3.16", OS: true, Packages: 1, Advisories: 100, Status: vocab.CoverageComplete}}},
		{"the KEV catalog missing", []vulndb.MissingSource{{Name: "cisa-kev", Reason: "turned off"}},
			[]result.Coverage{
				{Ecosystem: "Alpine:v3.16", OS: true, Packages: 1, Advisories: 100, Status: vocab.CoverageComplete},
				{Ecosystem: "cisa-kev", Status: vocab.CoveragePartial, Reasons: []string{"known-exploited (KEV) marks are missing from this database: turned off"}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := meta
			m.Missing = tt.missing
			got, err := Coverage(context.Background(), &metaDB{meta: m}, &inv, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("coverage (-want +got):\n%s", d)
			}
		})
	}
}

// TestMaliciousPackages matches real OpenSSF MAL- records: explicit
// version lists, "introduced 0" with no fix (every version), a bounded
// SEMVER range, PEP 440 names and versions. A matched package is malware,
// never a vulnerability, and the same names at other versions are clean.
func TestMaliciousPackages(t *testing.T) {
	db := vulndbtest.Malicious(t)
	pkg := func(eco, name, ver string) inventory.Package {
		return inventory.Package{ID: eco + "/" + name + "@" + ver, Name: name, Version: ver, Ecosystem: eco,
			Locations: []inventory.Location{{Path: "/x"}}, Layer: &inventory.Layer{Index: 1, DiffID: "sha256:1"}}
	}
	inv := inventory.Inventory{Packages: []inventory.Package{
		pkg("npm", "chalk", "5.6.1"), pkg("npm", "chalk", "5.6.0"),
		pkg("npm", "@solana/web3.js", "1.95.7"), pkg("npm", "@solana/web3.js", "1.95.8"),
		pkg("npm", "@ctrl/tinycolor", "3.4.0"), pkg("npm", "-d3-ushape", "0.0.1"),
		pkg("npm", "is", "3.3.1"), pkg("npm", "is", "3.3.0"), pkg("npm", "debug", "4.4.1"),
		pkg("PyPI", "aiocpa", "0.1.13"), pkg("PyPI", "aiocpa", "0.1.12"),
		pkg("PyPI", "AioHTT", "1.0"), pkg("PyPI", "191239aa", "10.87"), pkg("PyPI", "num2words", "0.5.14"),
	}}
	m := Matcher{DB: db, Opt: Options{Malicious: true}}
	res, err := m.Match(t.Context(), &inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("malicious records reported as vulnerabilities: %+v", res.Findings)
	}
	var got []string
	for _, f := range res.Malware {
		if f.Kind != vocab.MalwarePackage || f.Severity != vocab.SevCritical || f.Engine != vocab.EngineRecord || f.LayerIndex != 1 {
			t.Errorf("%s: kind %q severity %q engine %q layer %d", f.ID, f.Kind, f.Severity, f.Engine, f.LayerIndex)
		}
		got = append(got, f.Package.Name+"@"+f.Package.Version+" "+f.ID+" "+f.Range)
	}
	want := []string{
		"-d3-ushape@0.0.1 MAL-2022-5 >=0",
		"191239aa@10.87 MAL-2024-4722 version 10.87 listed",
		"@ctrl/tinycolor@3.4.0 MAL-2025-47141 >=0",
		"@solana/web3.js@1.95.7 MAL-2024-11183 >=1.95.6, <1.95.8",
		"AioHTT@1.0 MAL-2023-1578 >=0",
		"aiocpa@0.1.13 MAL-2024-11518 version 0.1.13 listed",
		"chalk@5.6.1 MAL-2025-46969 version 5.6.1 listed",
		"is@3.3.1 MAL-2025-6020 version 3.3.1 listed",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("malicious packages (-want +got):\n%s", d)
	}

	// Off, the records are left out altogether: never vulnerabilities.
	off, err := (&Matcher{DB: db}).Match(t.Context(), &inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(off.Findings) != 0 || len(off.Malware) != 0 {
		t.Errorf("without Malicious: %d findings, %d malware", len(off.Findings), len(off.Malware))
	}
}

// TestMaliciousAliasedVulnerability: the GHSA that GitHub publishes for the
// malware in a package (aliased by the MAL- record) is reported once, as
// malware; another vulnerability of the same package stays a finding, and
// NoVulns drops the vulnerabilities only.
func TestMaliciousAliasedVulnerability(t *testing.T) {
	db := &fakeDB{advs: map[string][]vulndb.Advisory{"npm\x00chalk": {
		{ID: "MAL-2025-46969", Aliases: []string{"GHSA-2v46-p5h4-248w"}, Ecosystem: "npm", Package: "chalk", Versions: []string{"5.6.1"}, Class: vulndb.ClassMalicious},
		{ID: "GHSA-2v46-p5h4-248w", Ecosystem: "npm", Package: "chalk", Versions: []string{"5.6.1"}},
		{ID: "GHSA-other", Ecosystem: "npm", Package: "chalk", Ranges: []vulndb.Range{{Type: "SEMVER", Events: ev("0", "6.0.0")}}},
	}}}
	inv := inventory.Inventory{Packages: []inventory.Package{{ID: "c", Name: "chalk", Version: "5.6.1", Ecosystem: "npm"}}}
	for _, tc := range []struct {
		opt            Options
		vulns, malware []string
	}{
		{Options{Malicious: true}, []string{"GHSA-other"}, []string{"MAL-2025-46969"}},
		{Options{Malicious: true, NoVulns: true}, nil, []string{"MAL-2025-46969"}},
		{Options{}, []string{"GHSA-2v46-p5h4-248w", "GHSA-other"}, nil},
	} {
		res, err := (&Matcher{DB: db, Opt: tc.opt}).Match(t.Context(), &inv)
		if err != nil {
			t.Fatal(err)
		}
		var vulns, mal []string
		for _, f := range res.Findings {
			vulns = append(vulns, f.ID)
		}
		for _, f := range res.Malware {
			mal = append(mal, f.ID)
		}
		slices.Sort(vulns)
		if d := cmp.Diff(tc.vulns, vulns); d != "" {
			t.Errorf("%+v: vulnerabilities (-want +got):\n%s", tc.opt, d)
		}
		if d := cmp.Diff(tc.malware, mal); d != "" {
			t.Errorf("%+v: malware (-want +got):\n%s", tc.opt, d)
		}
	}
}
