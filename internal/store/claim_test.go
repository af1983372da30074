package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// The store is the scan's claimer.
var _ scan.LayerClaimer = (*store.Store)(nil)

// claimResult is what a Claim running in the background returned.
type claimResult struct {
	release func()
	err     error
}

func claimAsync(ctx context.Context, st *store.Store, key string) <-chan claimResult {
	ch := make(chan claimResult, 1)
	go func() {
		r, err := st.Claim(ctx, key)
		ch <- claimResult{r, err}
	}()
	return ch
}

// advisoryLocks counts the advisory locks on the database (granted or
// waited for), seen from a connection of its own.
func advisoryLocks(t *testing.T, conn *pgx.Conn) (granted, waiting int) {
	t.Helper()
	err := conn.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted)
		FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&granted, &waiting)
	if err != nil {
		t.Fatal(err)
	}
	return granted, waiting
}

// waitLocks polls until the database shows granted and waiting advisory
// locks, failing after 10 seconds.
func waitLocks(t *testing.T, conn *pgx.Conn, granted, waiting int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, w := advisoryLocks(t, conn)
		if g == granted && w == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("advisory locks: %d granted, %d waiting; want %d, %d", g, w, granted, waiting)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func receive(t *testing.T, ch <-chan claimResult) claimResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the claim did not return within 10s")
		return claimResult{}
	}
}

// TestClaimAcrossProcesses: two stores on one database stand for two worker
// processes. A layer key claimed by one is waited for by the other until it
// is released, or until the holder's connection dies (a killed worker);
// other keys are not held up; a cancelled wait leaves nothing behind.
func TestClaimAcrossProcesses(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	obs, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close(context.Background())
	const key = "sha256:aaaa|os/apk@2,pipeline@3"

	relA, err := a.Claim(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	waitB := claimAsync(t.Context(), b, key)
	waitLocks(t, obs, 1, 1) // b queues behind a

	// Another key is free.
	relOther, err := b.Claim(t.Context(), "sha256:bbbb|os/apk@2,pipeline@3")
	if err != nil {
		t.Fatal(err)
	}
	relOther()
	waitLocks(t, obs, 1, 1)

	// A cancelled waiter leaves the queue.
	ctx, cancel := context.WithCancel(t.Context())
	waitC := claimAsync(ctx, b, key)
	waitLocks(t, obs, 1, 2)
	cancel()
	if r := receive(t, waitC); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled claim: %v, want context.Canceled", r.err)
	}
	waitLocks(t, obs, 1, 1)

	relA()
	relA() // a second call is a no-op
	rb := receive(t, waitB)
	if rb.err != nil {
		t.Fatal(rb.err)
	}
	waitLocks(t, obs, 1, 0)

	// The holder's session dies (its process was killed, or the database
	// restarted): the claim is free again, and its release is harmless.
	waitA := claimAsync(t.Context(), a, key)
	waitLocks(t, obs, 1, 1)
	if _, err := obs.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	ra := receive(t, waitA)
	if ra.err != nil {
		t.Fatal(ra.err)
	}
	rb.release()
	waitLocks(t, obs, 1, 0)
	ra.release()
	waitLocks(t, obs, 0, 0)

	// Both stores claim again on fresh connections.
	for _, st := range []*store.Store{a, b} {
		rel, err := st.Claim(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		rel()
	}
	waitLocks(t, obs, 0, 0)
}

// TestSharedLayerAnalysedOnceInStore: scans on two stores (two processes)
// of one image at once analyse each layer once.
func TestSharedLayerAnalysedOnceInStore(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	stores := []*store.Store{open(t, dsn, nil), open(t, dsn, nil), open(t, dsn, nil)}
	if err := stores[0].Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	walked := make(chan int, len(stores))
	for _, st := range stores {
		go func() {
			n := 0
			_, err := scan.Run(t.Context(), scan.Config{
				Reference: "docker-archive:" + alpineImage,
				Cache:     st,
				Progress: func(p scan.Progress) {
					if p.Done && !p.Cached {
						n++
					}
				},
			})
			if err != nil {
				t.Error(err)
			}
			walked <- n
		}()
	}
	total := 0
	for range stores {
		total += <-walked
	}
	if n, err := stores[0].LayerResults(t.Context()); err != nil || n != 1 || total != 1 {
		t.Errorf("%d walks, %d layer results (%v); want 1 and 1", total, n, err)
	}
}

// TestLayerCacheWaitsForTheDatabase: while the database is down (restarting),
// the layer cache's writes and claims wait for it to come back, for a few
// seconds, rather than lose the layer's result or its claim.
func TestLayerCacheWaitsForTheDatabase(t *testing.T) {
	pg := storetest.StartPrivate(t)
	st := open(t, pg.DSN, nil)
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	res, err := scan.Run(t.Context(), scan.Config{Reference: "docker-archive:" + alpineImage})
	if err != nil {
		t.Fatal(err)
	}
	layer := inventory.LayerResult{Layer: res.Image.Layers[0]}
	pg.Stop()
	started := make(chan error, 1)
	go func() { started <- pg.Start() }()
	if err := st.Put(t.Context(), "k", &layer); err != nil {
		t.Fatalf("Put while the database starts: %v", err)
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Get(t.Context(), "k"); !ok {
		t.Error("the layer stored while the database started is not there")
	}
	pg.Stop()
	go func() { started <- pg.Start() }()
	release, err := st.Claim(t.Context(), "k")
	if err != nil {
		t.Fatalf("Claim while the database starts: %v", err)
	}
	release()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
}
