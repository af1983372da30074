package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
)

// fleetImage is one synthetic image for the fleet views.
type fleetImage struct {
	repo, digest string
	layers       []string // diff IDs, bottom first
	findings     []finding.Finding
	coverage     []result.Coverage
	dbBuilt      time.Time
}

func vuln(id, pkg, sev, fix string, kev bool, aliases ...string) finding.Finding {
	return finding.Finding{ID: id, Aliases: aliases, Package: finding.PackageRef{ID: pkg}, Severity: sev, FixedVersion: fix, KEV: kev}
}

var (
	dbOld = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dbNew = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
)

// fleet is: a base image (also mirrored in a second repository), two
// applications built on it, one image with the base's layers in another
// order and one with only its first layer.
var fleet = []fleetImage{
	{repo: "r/base", digest: "sha256:b", layers: []string{"sha256:l1", "sha256:l2"}, dbBuilt: dbNew,
		findings: []finding.Finding{vuln("CVE-1", "apk/a", "CRITICAL", "1.1", true)}},
	{repo: "r/app1", digest: "sha256:a1", layers: []string{"sha256:l1", "sha256:l2", "sha256:l3"}, dbBuilt: dbNew,
		findings: []finding.Finding{vuln("CVE-1", "apk/a", "CRITICAL", "1.1", true), vuln("GHSA-2", "npm/b", "HIGH", "", false, "CVE-2")}},
	{repo: "r/app2", digest: "sha256:a2", layers: []string{"sha256:l1", "sha256:l2", "sha256:l4"}, dbBuilt: dbOld,
		findings: []finding.Finding{vuln("CVE-1", "apk/a", "CRITICAL", "1.1", true), vuln("GHSA-2", "npm/c", "MEDIUM", "2.0", false, "CVE-2")},
		coverage: []result.Coverage{{Ecosystem: "Alpine:v3.16", OS: true, Packages: 3, Advisories: 10, Status: "complete"},
			{Ecosystem: "crates.io", Packages: 1, Status: "no-advisories", Reasons: []string{"the database has no crates.io advisories"}}}},
	{repo: "r/other", digest: "sha256:o", layers: []string{"sha256:l2", "sha256:l1"}, dbBuilt: dbNew,
		findings: []finding.Finding{vuln("CVE-3", "apk/d", "LOW", "", false)}},
	{repo: "r/short", digest: "sha256:s", layers: []string{"sha256:l1"}, dbBuilt: dbNew},
	{repo: "r/base-mirror", digest: "sha256:b", layers: []string{"sha256:l1", "sha256:l2"}, dbBuilt: dbNew,
		findings: []finding.Finding{vuln("CVE-1", "apk/a", "CRITICAL", "1.1", true)}},
}

// seedFleet stores fleet and returns the image IDs by repository.
func seedFleet(t *testing.T, st *store.Store) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, im := range fleet {
		res := &result.Result{Image: inventory.Image{Digest: im.digest, OS: "linux", Arch: "amd64"},
			Findings: im.findings, Coverage: im.coverage, Database: &result.Database{BuiltAt: im.dbBuilt}}
		for i, l := range im.layers {
			res.Image.Layers = append(res.Image.Layers, inventory.Layer{Index: i, DiffID: l})
		}
		saved, err := st.SaveScan(t.Context(), store.ImageKey{Repository: im.repo, Tags: []string{"latest"}}, res)
		if err != nil {
			t.Fatal(err)
		}
		ids[im.repo] = saved.ImageID
	}
	return ids
}

// TestListImagesFilters: every filter of GET /api/v1/images, alone and
// combined.
func TestListImagesFilters(t *testing.T) {
	st := migrated(t)
	ids := seedFleet(t, st)
	for _, tc := range []struct {
		name string
		f    store.ImageFilter
		want []string // repositories, in ID order
	}{
		{"all", store.ImageFilter{}, []string{"r/base", "r/app1", "r/app2", "r/other", "r/short", "r/base-mirror"}},
		{"base: images built on it, not itself nor its copies", store.ImageFilter{BaseImageID: ids["r/base"]}, []string{"r/app1", "r/app2"}},
		{"base via the mirror", store.ImageFilter{BaseImageID: ids["r/base-mirror"]}, []string{"r/app1", "r/app2"}},
		{"base of one layer", store.ImageFilter{BaseImageID: ids["r/short"]}, []string{"r/base", "r/app1", "r/app2", "r/base-mirror"}},
		{"base nobody builds on", store.ImageFilter{BaseImageID: ids["r/app1"]}, nil},
		{"advisory by ID", store.ImageFilter{Advisory: "GHSA-2"}, []string{"r/app1", "r/app2"}},
		{"advisory by alias", store.ImageFilter{Advisory: "CVE-2"}, []string{"r/app1", "r/app2"}},
		{"advisory nobody has", store.ImageFilter{Advisory: "CVE-404"}, nil},
		{"base and advisory and fixable", store.ImageFilter{BaseImageID: ids["r/base"], Advisory: "CVE-2", Severity: "MEDIUM", Fixable: true}, []string{"r/app2"}},
		{"kev", store.ImageFilter{KEV: true}, []string{"r/base", "r/app1", "r/app2", "r/base-mirror"}},
		{"severity", store.ImageFilter{Severity: "LOW"}, []string{"r/other"}},
		{"repository", store.ImageFilter{Repository: "r/app2"}, []string{"r/app2"}},
		{"paging", store.ImageFilter{AfterID: ids["r/app1"], Limit: 2}, []string{"r/app2", "r/other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imgs, err := st.ListImages(t.Context(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, im := range imgs {
				got = append(got, im.Repository)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("images (-want +got):\n%s", d)
			}
		})
	}
	if id, err := st.ImageWithDigest(t.Context(), "sha256:b"); err != nil || id != ids["r/base"] {
		t.Errorf("ImageWithDigest(sha256:b) = %d, %v; want %d", id, err, ids["r/base"])
	}
}

// TestSummary: the fleet summary counts what the seeded fleet holds.
func TestSummary(t *testing.T) {
	st := migrated(t)
	ids := seedFleet(t, st)
	got, err := st.Summary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := &store.Summary{
		Images: 6, Repositories: 6,
		Findings:    7,
		BySeverity:  map[string]int{"CRITICAL": 4, "HIGH": 1, "MEDIUM": 1, "LOW": 1, "NEGLIGIBLE": 0, "UNKNOWN": 0},
		KEVFindings: 4, FixableFindings: 5,
		ImagesWithCritical: 4, ImagesWithKEV: 4, ImagesWithFixable: 4,
		TopAdvisories: []store.AdvisoryCount{
			{ID: "CVE-1", Aliases: []string{}, Severity: "CRITICAL", KEV: true, Images: 4, Findings: 4},
			{ID: "GHSA-2", Aliases: []string{"CVE-2"}, Severity: "HIGH", Images: 2, Findings: 2},
			{ID: "CVE-3", Aliases: []string{}, Severity: "LOW", Images: 1, Findings: 1},
		},
		CoverageGapImages: 1,
		CoverageGaps: []store.CoverageGap{{ImageID: ids["r/app2"], Repository: "r/app2", Digest: "sha256:a2",
			Gaps: []result.Coverage{{Ecosystem: "crates.io", Packages: 1, Status: "no-advisories", Reasons: []string{"the database has no crates.io advisories"}}}}},
		Database:              &store.SummaryDatabase{BuiltAt: dbNew},
		ImagesOnOlderDatabase: 1,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}

	// A database applied by the server is the newest one; every image
	// matched against an older one is counted.
	applied := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	built := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if _, err := st.Pool().Exec(t.Context(), `INSERT INTO db_versions (built_at, sources, applied_at) VALUES ($1, '["alpine"]', $2)`, built, applied); err != nil {
		t.Fatal(err)
	}
	got, err = st.Summary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantDB := &store.SummaryDatabase{BuiltAt: built, AppliedAt: &applied, Sources: json.RawMessage(`["alpine"]`)}
	utc := cmp.Transformer("utc", func(t time.Time) time.Time { return t.UTC() })
	if d := cmp.Diff(wantDB, got.Database, utc); d != "" || got.ImagesOnOlderDatabase != 6 {
		t.Errorf("database (-want +got):\n%s; %d images on an older one, want 6", d, got.ImagesOnOlderDatabase)
	}
}

// TestSummaryEmpty: an empty store has a summary with zeros and empty
// lists, not nulls.
func TestSummaryEmpty(t *testing.T) {
	st := migrated(t)
	got, err := st.Summary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := &store.Summary{BySeverity: map[string]int{"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "NEGLIGIBLE": 0, "UNKNOWN": 0},
		TopAdvisories: []store.AdvisoryCount{}, CoverageGaps: []store.CoverageGap{}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
}
