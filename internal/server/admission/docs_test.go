package admission

import (
	"testing"

	"github.com/drydock-scan/drydock/internal/server/api/apitest"
)

// TestOpenAPIDocumentsTheRoutes: docs/server-api.yaml documents exactly the
// gate's routes (x-drydock-part: admission), each with its scope.
func TestOpenAPIDocumentsTheRoutes(t *testing.T) {
	g, err := New(Options{Config: Config{Policies: config(t).Policies, Default: Rule{Policy: "default"}}, Store: slowStore{}, Enqueue: EnqueueWith(nil)})
	if err != nil {
		t.Fatal(err)
	}
	closeWhenDone(t, g)
	apitest.CheckDocumented(t, "admission", g.Routes())
}
