package monitor

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// failing fails the nth lookup of one package.
type failing struct {
	vulndb.Reader
	pkg   string
	nth   int64
	calls atomic.Int64
}

func (f *failing) Advisories(ctx context.Context, eco, name string) ([]vulndb.Advisory, error) {
	if name == f.pkg && f.calls.Add(1) == f.nth {
		return nil, errors.New("disk on fire")
	}
	return f.Reader.Advisories(ctx, eco, name)
}

// An apply that fails part-way (one image's re-match fails) keeps what it
// did; applying again re-matches only what is left, and two applies at once
// write each event once: 5 events in all, each idempotency key once.
func TestApplyRetriedAndConcurrent(t *testing.T) {
	st := openStore(t)
	reg := startRegistry(t)
	f := buildFleet(t, reg)
	v1, v2 := dbV1(t), dbV2(t)
	scanFleet(t, st, v1, f, false)
	opt := MatchOptions{Parallel: 1}
	if _, err := Apply(t.Context(), st, v1, opt, false); err != nil {
		t.Fatal(err)
	}
	// The first lookup of pkggone is the apply's own (its fingerprint);
	// the second is the first image's re-match.
	broken := &failing{Reader: v2, pkg: "pkggone", nth: 2}
	rep, err := Apply(t.Context(), st, broken, opt, false)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("apply with a failing lookup: err = %v", err)
	}
	if rep.Images != 4 || rep.Events != 4 {
		t.Errorf("failed apply: %+v, want 4 images re-matched with 4 events", rep)
	}
	vs, err := st.DBVersions(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if vs[0].Completed != nil {
		t.Errorf("a failed apply is recorded completed: %+v", vs[0])
	}
	// Only the images whose every lookup answers as under v2 can be
	// recorded as matched against v2: not the one whose re-match failed
	// (nor the 4 re-matched, already recorded).
	meta, err := v2.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.MatchKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		if keys[i].Fingerprint, err = fingerprint(t.Context(), v2, meta, keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	marked, err := st.MarkCurrent(t.Context(), &result.Database{BuiltAt: meta.BuiltAt}, opt.versions(v2), keys)
	if err != nil {
		t.Fatal(err)
	}
	if marked != 45 {
		t.Errorf("marked %d images as matched against v2, want 45", marked)
	}

	// Periodic check: v2 is not completed, so it is applied.
	var wg sync.WaitGroup
	reps := make([]Report, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = Apply(t.Context(), st, v2, opt, true)
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	if got := reps[0].Events + reps[1].Events; got != 1 {
		t.Errorf("concurrent applies wrote %d events (%+v), want 1", got, reps)
	}
	evs, err := st.Events(t.Context(), store.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	ikeys := map[string]bool{}
	for _, e := range evs {
		ikeys[e.IdempotencyKey] = true
	}
	if len(evs) != 5 || len(ikeys) != 5 {
		t.Errorf("%d events with %d keys, want 5 and 5", len(evs), len(ikeys))
	}
}
