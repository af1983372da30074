package harbor_test

import (
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server/harbor"
	"github.com/drydock-scan/drydock/internal/store"
)

// TestRoutesDocumented: docs/server-api.yaml lists exactly the adapter's
// routes (x-drydock-part: harbor), each with its scope.
func TestRoutesDocumented(t *testing.T) {
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
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op["x-drydock-part"] == "harbor" {
				scope, _ := op["x-drydock-scope"].(string)
				documented[strings.ToUpper(method)+" "+path] = scope
			}
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	ad, err := harbor.New(harbor.Options{Store: &store.Store{}, Secrets: box})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, r := range ad.Routes() {
		served[r.Pattern] = string(r.Scope)
	}
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("routes and scopes (-served +documented):\n%s", d)
	}
}

// TestNewRefuses: the adapter needs a store, a secret key and a usable prefix.
func TestNewRefuses(t *testing.T) {
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []harbor.Options{
		{Secrets: box},
		{Store: &store.Store{}},
		{Store: &store.Store{}, Secrets: box, Prefix: "harbor"},
		{Store: &store.Store{}, Secrets: box, Prefix: "/harbor/"},
		{Store: &store.Store{}, Secrets: box, Prefix: "/{x}"},
	} {
		if _, err := harbor.New(o); err == nil {
			t.Errorf("New(%+v) did not refuse", o)
		}
	}
	ad, err := harbor.New(harbor.Options{Store: &store.Store{}, Secrets: box, Prefix: "/scanners/harbor"})
	if err != nil {
		t.Fatal(err)
	}
	if p := ad.Routes()[0].Pattern; p != "GET /scanners/harbor/api/v1/metadata" {
		t.Errorf("pattern %q", p)
	}
}
