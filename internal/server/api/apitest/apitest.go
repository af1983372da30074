// Package apitest holds the test kit the server's parts share: whether
// docs/server-api.yaml documents exactly a part's routes.
package apitest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/server/api"
)

// OpenAPIFile is the path of docs/server-api.yaml, found from this file's
// place in the module (tests run in their own package's directory).
func OpenAPIFile(t testing.TB) string {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("apitest: cannot locate the module")
	}
	return filepath.Join(filepath.Dir(self), "..", "..", "..", "..", "docs", "server-api.yaml")
}

// Documented returns "METHOD /path" → x-drydock-scope of every operation of
// docs/server-api.yaml whose x-drydock-part is part ("" for the server's own
// operations, which carry no part).
func Documented(t testing.TB, part string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(OpenAPIFile(t))
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
		t.Fatalf("%s: %v", OpenAPIFile(t), err)
	}
	out := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Part == part {
				out[strings.ToUpper(method)+" "+path] = op.Scope
			}
		}
	}
	return out
}

// Served returns "METHOD /path" → scope of routes. A pattern's "{$}"
// (ServeMux's "this path exactly") is dropped: OpenAPI paths are exact.
func Served(routes []api.Route) map[string]string {
	out := map[string]string{}
	for _, r := range routes {
		out[strings.ReplaceAll(r.Pattern, "{$}", "")] = string(r.Scope)
	}
	return out
}

// CheckDocumented fails t unless docs/server-api.yaml documents exactly
// routes under x-drydock-part part, each with the scope it is served with.
func CheckDocumented(t testing.TB, part string, routes []api.Route) {
	t.Helper()
	if len(routes) == 0 {
		t.Fatalf("part %q serves no routes", part)
	}
	if d := cmp.Diff(Served(routes), Documented(t, part)); d != "" {
		t.Errorf("%s routes and scopes (-served +documented):\n%s", part, d)
	}
}
