package monitor

import (
	"testing"

	"github.com/drydock-scan/drydock/internal/server/api/apitest"
	"github.com/drydock-scan/drydock/internal/server/webhook"
)

// TestOpenAPIDocumentsRoutes: docs/server-api.yaml lists exactly the
// monitor's and the webhooks' routes under their x-drydock-part, each with
// its scope (the server's own test checks the rest of the file).
func TestOpenAPIDocumentsRoutes(t *testing.T) {
	st := openStore(t)
	mon, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := webhook.New(webhook.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	apitest.CheckDocumented(t, "monitor", mon.Routes())
	apitest.CheckDocumented(t, "webhook", hooks.Routes())
}
