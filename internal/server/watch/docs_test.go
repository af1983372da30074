package watch_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/server/watch"
	"github.com/drydock-scan/drydock/internal/store"
)

// TestOpenAPIDocumentsTheRoutes: docs/server-api.yaml documents exactly the
// watch's routes (x-drydock-part: watch), each with the scope it is served
// with.
func TestOpenAPIDocumentsTheRoutes(t *testing.T) {
	raw, err := os.ReadFile("../../../docs/server-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Scope string `yaml:"x-drydock-scope"`
			Part  string `yaml:"x-drydock-part"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Part == "watch" {
				documented[strings.ToUpper(method)+" "+path] = op.Scope
			}
		}
	}
	w, err := watch.New(watch.Options{Store: &store.Store{}})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, r := range w.Routes() {
		served[r.Pattern] = string(r.Scope)
	}
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("routes and scopes (-served +documented):\n%s", d)
	}
}
