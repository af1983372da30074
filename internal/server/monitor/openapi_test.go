package monitor

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/server/webhook"
)

// TestOpenAPIDocumentsRoutes: docs/server-api.yaml lists exactly the
// monitor's and the webhooks' routes under their x-drydock-part, each with
// its scope (the server's own test checks the rest of the file).
func TestOpenAPIDocumentsRoutes(t *testing.T) {
	raw, err := os.ReadFile("../../../docs/server-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	mon, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := webhook.New(webhook.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	for part, routes := range map[string][]struct{ pattern, scope string }{
		"monitor": routeScopes(mon.Routes()),
		"webhook": routeScopes(hooks.Routes()),
	} {
		documented := map[string]string{}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				if op["x-drydock-part"] == part {
					scope, _ := op["x-drydock-scope"].(string)
					documented[strings.ToUpper(method)+" "+path] = scope
				}
			}
		}
		served := map[string]string{}
		for _, r := range routes {
			served[r.pattern] = r.scope
		}
		if d := cmp.Diff(served, documented); d != "" {
			t.Errorf("%s routes and scopes (-served +documented):\n%s", part, d)
		}
	}
}

func routeScopes(rs []api.Route) []struct{ pattern, scope string } {
	var out []struct{ pattern, scope string }
	for _, r := range rs {
		out = append(out, struct{ pattern, scope string }{r.Pattern, string(r.Scope)})
	}
	return out
}
