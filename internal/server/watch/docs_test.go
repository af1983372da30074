package watch_test

import (
	"testing"

	"github.com/drydock-scan/drydock/internal/server/api/apitest"
	"github.com/drydock-scan/drydock/internal/server/watch"
	"github.com/drydock-scan/drydock/internal/store"
)

// TestOpenAPIDocumentsTheRoutes: docs/server-api.yaml documents exactly the
// watch's routes (x-drydock-part: watch), each with the scope it is served
// with.
func TestOpenAPIDocumentsTheRoutes(t *testing.T) {
	w, err := watch.New(watch.Options{Store: &store.Store{}})
	if err != nil {
		t.Fatal(err)
	}
	apitest.CheckDocumented(t, "watch", w.Routes())
}
