package storetest

import (
	"testing"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/store"
)

// Open returns a store on a database of the test's own (NewDatabase), with
// the store's schema and the job queue's migrated, closed when the test ends.
func Open(t testing.TB, opt store.Options) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), NewDatabase(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(t.Context(), queue.Migrate(st.Pool())); err != nil {
		t.Fatal(err)
	}
	return st
}
