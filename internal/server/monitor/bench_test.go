package monitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

// overlay is a database built at builtAt that adds advisories to another.
type overlay struct {
	vulndb.Reader
	builtAt time.Time
	extra   map[[2]string][]vulndb.Advisory
}

func (o overlay) Advisories(ctx context.Context, eco, name string) ([]vulndb.Advisory, error) {
	advs, err := o.Reader.Advisories(ctx, eco, name)
	if err != nil {
		return nil, err
	}
	return append(advs, o.extra[[2]string{eco, name}]...), nil
}

func (o overlay) Meta(ctx context.Context) (vulndb.Metadata, error) {
	m, err := o.Reader.Meta(ctx)
	m.BuiltAt = o.builtAt
	return m, err
}

// benchFleet stores n copies of the Alpine 3.16.9 image (each its own
// digest) scanned against db, and applies db (which indexes them).
func benchFleet(b *testing.B, n int, db vulndb.Reader) *store.Store {
	b.Helper()
	st := openStore(b)
	res, err := scan.Run(b.Context(), scan.Config{Reference: "docker-archive:../../../testdata/images/alpine-3.16.9.tar", DB: db})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		r := *res
		sum := sha256.Sum256(fmt.Appendf(nil, "image %d", i))
		r.Image.Digest = "sha256:" + hex.EncodeToString(sum[:])
		if _, err := st.SaveScan(b.Context(), store.ImageKey{Repository: fmt.Sprintf("registry.test/app%d", i), Tags: []string{"1"}}, &r); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := Apply(b.Context(), st, db, MatchOptions{}, false); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkApply1000: a database update that changes the findings of every
// one of 1,000 stored images (an advisory for busybox added, then
// withdrawn, in turn): each apply re-matches 1,000 images and writes 2,000
// events (busybox and ssl_client).
func BenchmarkApply1000(b *testing.B) {
	base := vulndbtest.Alpine316(b)
	st := benchFleet(b, 1000, base)
	extra := map[[2]string][]vulndb.Advisory{{"Alpine:v3.16", "busybox"}: {{ID: "CVE-2099-9999", Ecosystem: "Alpine:v3.16",
		Package: "busybox", Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "9.9-r0"}}}}}}}
	meta, err := base.Meta(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	built := meta.BuiltAt
	i := 0
	var rep Report
	for b.Loop() {
		i++
		db := overlay{Reader: base, builtAt: built.Add(time.Duration(i) * time.Hour)}
		if i%2 == 1 {
			db.extra = extra
		}
		if rep, err = Apply(b.Context(), st, db, MatchOptions{}, false); err != nil {
			b.Fatal(err)
		}
		// busybox is the origin of busybox and ssl_client: two findings.
		if rep.Images != 1000 || rep.Events != 2000 {
			b.Fatalf("apply %d: %+v, want 1000 images and 2000 events", i, rep)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/1000, "ms/image")
}

// BenchmarkApplyUnchanged1000: a database update that changes nothing for
// 1,000 stored images: the lookups are answered again, nothing is
// re-matched.
func BenchmarkApplyUnchanged1000(b *testing.B) {
	base := vulndbtest.Alpine316(b)
	st := benchFleet(b, 1000, base)
	meta, err := base.Meta(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	// What the monitor keeps per image: its lookups and its match state.
	var size int64
	if err := st.Pool().QueryRow(b.Context(),
		"SELECT pg_total_relation_size('image_match_keys') + pg_total_relation_size('image_match_state')").Scan(&size); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		rep, err := Apply(b.Context(), st, overlay{Reader: base, builtAt: meta.BuiltAt.Add(time.Duration(i) * time.Hour)}, MatchOptions{}, false)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Images != 0 {
			b.Fatalf("apply %d: %+v, want nothing re-matched", i, rep)
		}
	}
	b.ReportMetric(float64(size)/1000, "monitorB/image")
}

// BenchmarkRematchAll1000: the periodic full re-match of 1,000 stored
// images, nothing changed.
func BenchmarkRematchAll1000(b *testing.B) {
	base := vulndbtest.Alpine316(b)
	st := benchFleet(b, 1000, base)
	for b.Loop() {
		rep, err := RematchAll(b.Context(), st, base, MatchOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Images != 1000 || rep.Events != 0 {
			b.Fatalf("%+v, want 1000 images and no events", rep)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/1000, "ms/image")
}
