package harbor_test

import (
	"crypto/rand"
	"testing"

	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server/api/apitest"
	"github.com/drydock-scan/drydock/internal/server/harbor"
	"github.com/drydock-scan/drydock/internal/store"
)

// TestRoutesDocumented: docs/server-api.yaml lists exactly the adapter's
// routes (x-drydock-part: harbor), each with its scope.
func TestRoutesDocumented(t *testing.T) {
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
	apitest.CheckDocumented(t, "harbor", ad.Routes())
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
