package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

// TestHarborScans: the Harbor adapter's scan requests are found by ID until
// they are older than the retention; the image they name is found by
// repository and digest once stored; the database date comes from the
// newest applied database, else from the latest scan.
func TestHarborScans(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	st := open(t, storetest.NewDatabase(t), func() time.Time { return now })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	add := func(h store.HarborScan) {
		t.Helper()
		tx, err := st.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if err := st.AddHarborScan(ctx, tx, h, 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first := store.HarborScan{ID: "a", JobID: 1, Repository: "r.test/app", Digest: "sha256:01", Artifact: []byte(`{"repository": "app"}`)}
	add(first)
	got, ok, err := st.HarborScan(ctx, "a")
	if err != nil || !ok {
		t.Fatalf("HarborScan(a): %v %v", ok, err)
	}
	first.CreatedAt = now
	if d := cmp.Diff(first, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	now = now.Add(8 * 24 * time.Hour)
	add(store.HarborScan{ID: "b", JobID: 2, Repository: "r.test/app", Digest: "sha256:02", Artifact: []byte(`{}`)})
	for id, want := range map[string]bool{"a": false, "b": true, "unknown": false} {
		if _, ok, err := st.HarborScan(ctx, id); err != nil || ok != want {
			t.Errorf("HarborScan(%s) = %v, %v; want %v", id, ok, err, want)
		}
	}

	if _, ok, err := st.LatestDBBuiltAt(ctx); err != nil || ok {
		t.Errorf("empty store: a database date (%v, %v)", ok, err)
	}
	res, err := scan.Run(ctx, scan.Config{Reference: "docker-archive:" + alpineImage, DB: vulndbtest.Alpine316(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.ImageByDigest(ctx, "r.test/alpine", res.Image.Digest); err != nil || ok {
		t.Errorf("ImageByDigest before the scan is stored: %v, %v", ok, err)
	}
	saved, err := st.SaveScan(ctx, store.ImageKey{Repository: "r.test/alpine"}, res)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		repo, digest string
		ok           bool
	}{
		{"r.test/alpine", res.Image.Digest, true},
		{"r.test/other", res.Image.Digest, false},
		{"r.test/alpine", "sha256:02", false},
	} {
		id, ok, err := st.ImageByDigest(ctx, c.repo, c.digest)
		if err != nil || ok != c.ok || (ok && id != saved.ImageID) {
			t.Errorf("ImageByDigest(%s, %s) = %d, %v, %v; want %v (image %d)", c.repo, c.digest, id, ok, err, c.ok, saved.ImageID)
		}
	}
	at, ok, err := st.LatestDBBuiltAt(ctx)
	if err != nil || !ok || !at.Equal(res.Database.BuiltAt) {
		t.Errorf("after a scan: %v %v %v, want the scan's database %v", at, ok, err, res.Database.BuiltAt)
	}
	applied := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	if _, err := st.Pool().Exec(ctx, "INSERT INTO db_versions (built_at, sources, applied_at) VALUES ($1, '[]', $1)", applied); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := st.LatestDBBuiltAt(ctx); err != nil || !ok || !at.Equal(applied) {
		t.Errorf("after a database is applied: %v %v %v, want %v", at, ok, err, applied)
	}
}
