package admission

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// TestOpenAPIDocumentsTheRoutes: docs/server-api.yaml documents exactly the
// gate's routes (x-drydock-part: admission), each with its scope.
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
			if op.Part == "admission" {
				documented[strings.ToUpper(method)+" "+path] = op.Scope
			}
		}
	}
	g, err := New(Options{Config: Config{Policies: config(t).Policies, Default: Rule{Policy: "default"}}, Store: slowStore{}, Enqueue: EnqueueWith(nil)})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, r := range g.Routes() {
		served[r.Pattern] = string(r.Scope)
	}
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("routes and scopes (-served +documented):\n%s", d)
	}
}
