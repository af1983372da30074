package store_test

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

const alpineImage = "../../testdata/images/alpine-3.16.9.tar"

func open(t *testing.T, dsn string, now func() time.Time) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), dsn, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func migrated(t *testing.T) *store.Store {
	t.Helper()
	st := open(t, storetest.NewDatabase(t), nil)
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestMigrateConcurrently: processes starting together migrate once; a
// second Migrate is a no-op.
func TestMigrateConcurrently(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		st := open(t, dsn, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.Migrate(t.Context())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	st := open(t, dsn, nil)
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The newest migration file names the version.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	latest, err := strconv.ParseInt(strings.SplitN(filepath.Base(files[len(files)-1]), "_", 2)[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := st.SchemaVersion(t.Context()); err != nil || v != latest {
		t.Errorf("schema version %d, %v; want %d", v, err, latest)
	}
}

// TestLayersAnalysedOnce: the store is the layer cache of every scan; a
// layer already analysed (by any process) is not read again.
func TestLayersAnalysedOnce(t *testing.T) {
	st := migrated(t)
	var walked int
	for i := 0; i < 3; i++ {
		res, err := scan.Run(t.Context(), scan.Config{
			Reference: "docker-archive:" + alpineImage,
			Cache:     st,
			Progress: func(p scan.Progress) {
				if p.Done && !p.Cached {
					walked++
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Packages) != 14 {
			t.Fatalf("scan %d: %d packages, want 14", i, len(res.Packages))
		}
	}
	if walked != 1 {
		t.Errorf("the layer was walked %d times, want once", walked)
	}
	if n, err := st.LayerResults(t.Context()); err != nil || n != 1 {
		t.Errorf("layer results stored: %d, %v; want 1", n, err)
	}
}

// TestSaveAndQuery stores a real scan (Alpine 3.16.9: busybox and
// ssl_client, CVE-2023-42366), then asks where the fleet is exposed.
func TestSaveAndQuery(t *testing.T) {
	st := migrated(t)
	db := vulndbtest.Alpine316(t)
	res, err := scan.Run(t.Context(), scan.Config{Reference: "docker-archive:" + alpineImage, DB: db, Cache: st})
	if err != nil {
		t.Fatal(err)
	}
	saved, err := st.SaveScan(t.Context(), store.ImageKey{Repository: "registry.test/library/alpine", Tags: []string{"3.16", "3.16.9"}}, res)
	if err != nil {
		t.Fatal(err)
	}
	keys := findingKeys(res.Findings)
	if len(keys) != 2 {
		t.Fatalf("findings %v, want the two CVE-2023-42366 ones", keys)
	}
	if d := cmp.Diff(keys, saved.New); d != "" || len(saved.Resolved) != 0 {
		t.Errorf("first save: new %v resolved %v; want every finding new", saved.New, saved.Resolved)
	}
	exp, err := st.Exposed(t.Context(), "CVE-2023-42366")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Exposure{{
		ImageID: saved.ImageID, Repository: "registry.test/library/alpine", Digest: res.Image.Digest,
		Tags: []string{"3.16", "3.16.9"}, Packages: packageIDs(res.Findings),
	}}
	if d := cmp.Diff(want, exp); d != "" {
		t.Errorf("Exposed (-want +got):\n%s", d)
	}
	byPkg, err := st.WithPackage(t.Context(), "apk", "busybox", "1.35.0-r17")
	if err != nil {
		t.Fatal(err)
	}
	if len(byPkg) != 1 || byPkg[0].ImageID != saved.ImageID {
		t.Errorf("WithPackage busybox 1.35.0-r17 = %+v", byPkg)
	}
	if none, err := st.WithPackage(t.Context(), "apk", "busybox", "9.9"); err != nil || len(none) != 0 {
		t.Errorf("WithPackage busybox 9.9 = %+v, %v; want none", none, err)
	}

	// Re-matching from the store gives the scan's findings without the
	// image: the stored inventory is enough.
	stored, err := st.LoadResult(t.Context(), saved.ImageID)
	if err != nil {
		t.Fatal(err)
	}
	if err := scan.Match(t.Context(), stored, db, match.Options{}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(res.Findings, stored.Findings); d != "" {
		t.Errorf("re-match from the stored inventory differs (-scan +rematch):\n%s", d)
	}
	open, err := st.OpenFindings(t.Context(), saved.ImageID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(keys, findingKeys(open)); d != "" {
		t.Errorf("open findings (-want +got):\n%s", d)
	}
}

// TestFindingHistory: new findings are reported once, known ones kept,
// missing ones resolved; a tag that moves to another digest leaves the old
// image.
func TestFindingHistory(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := day
	st := open(t, storetest.NewDatabase(t), func() time.Time { return clock })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := func(digest string, ids ...string) *result.Result {
		r := &result.Result{}
		r.Image.Digest = digest
		for _, id := range ids {
			r.Findings = append(r.Findings, finding.Finding{ID: id, Package: finding.PackageRef{ID: "pkg-" + id}, Severity: "HIGH"})
		}
		return r
	}
	key := store.ImageKey{Repository: "r/app", Tags: []string{"latest"}}
	steps := []struct {
		res           *result.Result
		new, resolved []string
	}{
		{res("sha256:a", "CVE-1", "CVE-2"), []string{"CVE-1@pkg-CVE-1", "CVE-2@pkg-CVE-2"}, nil},
		{res("sha256:a", "CVE-2", "CVE-3"), []string{"CVE-3@pkg-CVE-3"}, []string{"CVE-1@pkg-CVE-1"}},
		{res("sha256:a", "CVE-2", "CVE-3"), nil, nil},
		{res("sha256:a", "CVE-1", "CVE-2", "CVE-3"), []string{"CVE-1@pkg-CVE-1"}, nil},
	}
	var id int64
	for i, s := range steps {
		clock = day.AddDate(0, 0, i)
		got, err := st.SaveScan(t.Context(), key, s.res)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(s.new, got.New); d != "" {
			t.Errorf("step %d new (-want +got):\n%s", i, d)
		}
		if d := cmp.Diff(s.resolved, got.Resolved); d != "" {
			t.Errorf("step %d resolved (-want +got):\n%s", i, d)
		}
		id = got.ImageID
	}
	// The tag moves to a new digest: the old image no longer carries it.
	moved, err := st.SaveScan(t.Context(), key, res("sha256:b", "CVE-2"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := st.Exposed(t.Context(), "CVE-2")
	if err != nil {
		t.Fatal(err)
	}
	var tags [][]string
	for _, e := range exp {
		tags = append(tags, e.Tags)
	}
	if d := cmp.Diff([][]string{{}, {"latest"}}, tags); d != "" || exp[0].ImageID != id || exp[1].ImageID != moved.ImageID {
		t.Errorf("after the tag moved: %+v", exp)
	}
}

func findingKeys(fs []finding.Finding) []string {
	var out []string
	for i := range fs {
		out = append(out, fs[i].Key())
	}
	slices.Sort(out)
	return out
}

func packageIDs(fs []finding.Finding) []string {
	var out []string
	for i := range fs {
		out = append(out, fs[i].Package.ID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
