package monitor

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/source"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// countingRegistry is go-containerregistry's in-memory registry on
// 127.0.0.1 that counts every request it serves.
type countingRegistry struct {
	host     string
	requests atomic.Int64
}

func startRegistry(t *testing.T) *countingRegistry {
	t.Helper()
	r := &countingRegistry{}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// openStore gives the test a migrated store (the store's schema and the
// job queue's) on a database of its own.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	return storetest.Open(t, store.Options{})
}

const alpineEco = "Alpine:v3.16"

// apkDB writes an apk installed database.
func apkDB(pkgs ...[2]string) []byte {
	var b strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&b, "P:%s\nV:%s\nA:x86_64\no:%s\n\n", p[0], p[1], p[0])
	}
	return []byte(b.String())
}

// fleet is what testFleet built: 5 bases × 10 applications, and which
// images hold the packages the databases change.
type fleet struct {
	refs []string
	// withNew hold pkgnew (v2 adds an advisory for it); withGone hold
	// pkggone (v2 withdraws its advisory).
	withNew, withGone []string
}

// buildFleet pushes 50 Alpine 3.16 images to reg: base b (os-release and
// musl) under application a (its own package app<a>). Images b0/app0..2
// also hold pkgnew, images b1/app0..1 pkggone.
func buildFleet(t *testing.T, reg *countingRegistry) fleet {
	t.Helper()
	var f fleet
	for b := range 5 {
		for a := range 10 {
			pkgs := [][2]string{{"musl", "1.2.3-r0"}, {fmt.Sprintf("base%d", b), "1.0-r0"}, {fmt.Sprintf("app%d", a), "1.0-r0"}}
			ref := fmt.Sprintf("%s/base%d/app%d:1", reg.host, b, a)
			if b == 0 && a < 3 {
				pkgs = append(pkgs, [2]string{"pkgnew", "1.0-r0"})
				f.withNew = append(f.withNew, ref)
			}
			if b == 1 && a < 2 {
				pkgs = append(pkgs, [2]string{"pkggone", "2.0-r0"})
				f.withGone = append(f.withGone, ref)
			}
			img, err := testimage.Build(testimage.Config{OS: "linux", Arch: "amd64"},
				testimage.Layer{Files: map[string][]byte{
					"etc/os-release":       []byte("ID=alpine\nVERSION_ID=3.16.9\n"),
					"lib/apk/db/installed": apkDB(pkgs[:2]...),
				}, CreatedBy: fmt.Sprintf("base %d", b)},
				testimage.Layer{Files: map[string][]byte{"lib/apk/db/installed": apkDB(pkgs...)}, CreatedBy: fmt.Sprintf("app %d", a)},
			)
			if err != nil {
				t.Fatal(err)
			}
			r, err := name.ParseReference(ref, name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(r, img); err != nil {
				t.Fatal(err)
			}
			f.refs = append(f.refs, ref)
		}
	}
	return f
}

func advisory(id, pkg, fixed string) vulndb.Advisory {
	return vulndb.Advisory{ID: id, Ecosystem: alpineEco, Package: pkg, Source: "test",
		Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: fixed}}}}}
}

// buildDB writes an advisory database built at builtAt and opens it.
func buildDB(t *testing.T, builtAt time.Time, advs ...vulndb.Advisory) vulndb.Reader {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	writeDB(t, path, builtAt, advs...)
	db, err := vulndb.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// writeDB writes an advisory database built at builtAt to path, replacing
// the file there as "drydock db update" does (a new file renamed over it).
func writeDB(t *testing.T, path string, builtAt time.Time, advs ...vulndb.Advisory) {
	t.Helper()
	b, err := vulndb.NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	b.SetNow(func() time.Time { return builtAt })
	b.AddSource(vulndb.SourceInfo{Name: "test", Records: len(advs)})
	if err := b.Add(advs...); err != nil {
		t.Fatal(err)
	}
	b.AddCVE(vulndb.CVE{ID: "CVE-2099-0001", NVDSeverity: "HIGH", NVDScore: 7.5, NVDVersion: "3.1",
		NVDVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"})
	if _, err := b.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

var (
	v1Time = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	v2Time = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
)

// v1 and v2 of the advisory database: v2 adds CVE-2099-0001 for pkgnew
// (3 images) and withdraws CVE-2099-0002 for pkggone (2 images); the musl
// advisory (every image) is in both.
func v1Advisories() []vulndb.Advisory {
	return []vulndb.Advisory{advisory("CVE-2099-0100", "musl", "1.2.3-r5"), advisory("CVE-2099-0002", "pkggone", "2.1-r0")}
}

func v2Advisories() []vulndb.Advisory {
	return []vulndb.Advisory{advisory("CVE-2099-0100", "musl", "1.2.3-r5"), advisory("CVE-2099-0001", "pkgnew", "1.1-r0")}
}

func dbV1(t *testing.T) vulndb.Reader { return buildDB(t, v1Time, v1Advisories()...) }

func dbV2(t *testing.T) vulndb.Reader { return buildDB(t, v2Time, v2Advisories()...) }

// scanFleet scans every image with db through the registry, as a worker
// does, and stores it; with record, the scans record their lookups
// (ScanRecorder).
func scanFleet(t *testing.T, st *store.Store, db vulndb.Reader, f fleet, record bool) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, ref := range f.refs {
		cfg := scan.Config{Reference: ref, Source: source.Options{Insecure: true}, Cache: st, DB: db, Parallel: 1}
		rec := NewScanRecorder(db, MatchOptions{})
		if record {
			cfg.DB = rec.DB()
		}
		res, err := scan.Run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("scanning %s: %v", ref, err)
		}
		saved, err := st.SaveScan(t.Context(), store.ImageKey{Repository: strings.TrimSuffix(ref, ":1"), Tags: []string{"1"}}, res)
		if err != nil {
			t.Fatal(err)
		}
		if record {
			if err := rec.Save(t.Context(), st, saved.ImageID, res); err != nil {
				t.Fatal(err)
			}
		}
		ids[ref] = saved.ImageID
	}
	return ids
}

type eventView struct {
	Kind, Image, Finding string
}

func viewEvents(t *testing.T, st *store.Store, after int64) ([]eventView, int64) {
	t.Helper()
	evs, err := st.Events(t.Context(), store.EventFilter{After: after, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []eventView
	last := after
	for _, e := range evs {
		out = append(out, eventView{Kind: e.Kind, Image: e.Image.Repository + ":" + strings.Join(e.Image.Tags, ","), Finding: e.Finding.ID})
		last = e.ID
	}
	slices.SortFunc(out, func(a, b eventView) int { return strings.Compare(a.Kind+a.Image, b.Kind+b.Image) })
	return out, last
}

// TestApplyNewDatabase is issue 14's must-show for monitoring: 50 images
// scanned through a registry under v1; v2 adds an advisory affecting 3 and
// withdraws one affecting 2: exactly those 5 images are re-matched and get
// events, with zero registry requests; applying v2 again gives no events,
// and neither does a full re-match. The re-matched findings are those a
// fresh match of the same inventory under v2 gives.
func TestApplyNewDatabase(t *testing.T) {
	st := openStore(t)
	reg := startRegistry(t)
	f := buildFleet(t, reg)
	v1, v2 := dbV1(t), dbV2(t)
	ids := scanFleet(t, st, v1, f, false)
	if len(ids) != 50 {
		t.Fatalf("stored %d images, want 50", len(ids))
	}
	opt := MatchOptions{Parallel: 2}

	// The first apply (v1, the scans' database) indexes every image: each
	// is matched once, and nothing changes.
	rep, err := Apply(t.Context(), st, v1, opt, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images != 50 || rep.Events != 0 {
		t.Errorf("first apply of v1: %+v, want 50 images indexed and no events", rep)
	}
	requests := reg.requests.Load()

	rep, err = Apply(t.Context(), st, v2, opt, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.requests.Load() - requests; got != 0 {
		t.Errorf("applying v2 made %d registry requests, want 0", got)
	}
	want := []eventView{}
	for _, ref := range f.withNew {
		want = append(want, eventView{Kind: store.EventFindingNew, Image: strings.TrimSuffix(ref, ":1") + ":1", Finding: "CVE-2099-0001"})
	}
	for _, ref := range f.withGone {
		want = append(want, eventView{Kind: store.EventFindingResolved, Image: strings.TrimSuffix(ref, ":1") + ":1", Finding: "CVE-2099-0002"})
	}
	slices.SortFunc(want, func(a, b eventView) int { return strings.Compare(a.Kind+a.Image, b.Kind+b.Image) })
	got, last := viewEvents(t, st, 0)
	t.Logf("v2: %+v; events %v", rep, got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events after v2 (-want +got):\n%s", d)
	}
	if d := cmp.Diff(Report{DBBuiltAt: v2Time, Keys: rep.Keys, Images: 5, New: 3, Resolved: 2, Events: 5}, rep); d != "" {
		t.Errorf("v2 report (-want +got):\n%s", d)
	}

	// Every image's open findings are what matching its inventory under v2
	// gives now.
	for ref, id := range ids {
		res, err := st.LoadResult(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Database.BuiltAt.Equal(v2Time) {
			t.Errorf("%s: stored as matched against the database of %s, want v2", ref, res.Database.BuiltAt)
		}
		if err := scan.MatchAndEnrich(t.Context(), res, v2, opt.Match, nil); err != nil {
			t.Fatal(err)
		}
		stored, err := st.OpenFindings(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(findingKeys(res.Findings), findingKeys(stored)); d != "" {
			t.Errorf("%s: stored findings differ from a fresh match under v2 (-fresh +stored):\n%s", ref, d)
		}
	}

	// v2 again, and a full re-match: no events.
	rep, err = Apply(t.Context(), st, v2, opt, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images != 0 || rep.Events != 0 {
		t.Errorf("v2 applied again: %+v, want nothing re-matched", rep)
	}
	rep, err = Apply(t.Context(), st, v2, opt, true)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Skipped {
		t.Errorf("periodic check with v2 applied: %+v, want skipped", rep)
	}
	rep, err = RematchAll(t.Context(), st, v2, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images != 50 || rep.Events != 0 {
		t.Errorf("full re-match: %+v, want 50 images and no events", rep)
	}
	if got, _ := viewEvents(t, st, last); len(got) != 0 {
		t.Errorf("events after v2 again and a full re-match: %v, want none", got)
	}
	if got := reg.requests.Load() - requests; got != 0 {
		t.Errorf("re-matching made %d registry requests, want 0", got)
	}

	// An older database is refused: on demand with an error, by the
	// periodic check with a reason.
	if _, err := Apply(t.Context(), st, v1, opt, false); !errors.Is(err, ErrOlderDB) {
		t.Errorf("applying v1 after v2: err = %v, want %v", err, ErrOlderDB)
	}
	if _, err := RematchAll(t.Context(), st, v1, opt); !errors.Is(err, ErrOlderDB) {
		t.Errorf("re-matching with v1 after v2: err = %v, want %v", err, ErrOlderDB)
	}
	rep, err = Apply(t.Context(), st, v1, opt, true)
	if err != nil || !rep.Skipped || !strings.Contains(rep.Reason, "older than the one applied") {
		t.Errorf("periodic check with v1 after v2: %+v, %v; want skipped with the reason", rep, err)
	}
	vs, err := st.DBVersions(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var built []time.Time
	for _, v := range vs {
		if v.Completed == nil {
			t.Errorf("database %s not completed", v.BuiltAt)
		}
		built = append(built, v.BuiltAt.UTC())
	}
	if d := cmp.Diff([]time.Time{v2Time, v1Time}, built); d != "" {
		t.Errorf("database versions (-want +got):\n%s", d)
	}
}

func findingKeys(fs []finding.Finding) []string {
	out := []string{}
	for i := range fs {
		out = append(out, fs[i].Key()+" "+fs[i].Severity)
	}
	slices.Sort(out)
	return out
}
