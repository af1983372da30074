package deploy

import (
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/drydock-scan/drydock/internal/server/admission"
)

// TestGatekeeperProvider checks gatekeeper/provider.yaml against
// Gatekeeper's Provider CRD (its v1beta1 OpenAPI schema): the group,
// version and kind, no field the schema lacks, the field types, and a URL
// that reaches the provider's path over HTTPS.
func TestGatekeeperProvider(t *testing.T) {
	crdData, err := os.ReadFile(filepath.Join("testdata", "externaldata.gatekeeper.sh_providers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type version struct {
		Name   string `json:"name"`
		Schema struct {
			OpenAPIV3Schema struct {
				Properties struct {
					Spec struct {
						Properties map[string]struct {
							Type string `json:"type"`
						} `json:"properties"`
					} `json:"spec"`
				} `json:"properties"`
			} `json:"openAPIV3Schema"`
		} `json:"schema"`
	}
	var crd struct {
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Kind string `json:"kind"`
			} `json:"names"`
			Versions []version `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(crdData, &crd); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(crd.Spec.Versions, func(v version) bool { return v.Name == "v1beta1" })
	if i < 0 {
		t.Fatal("the CRD has no v1beta1")
	}
	schema := crd.Spec.Versions[i].Schema.OpenAPIV3Schema.Properties.Spec.Properties

	data, err := os.ReadFile(filepath.Join("gatekeeper", "provider.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       map[string]any `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatal(err)
	}
	if p.APIVersion != crd.Spec.Group+"/v1beta1" || p.Kind != crd.Spec.Names.Kind {
		t.Errorf("%s %s, want %s/v1beta1 %s", p.APIVersion, p.Kind, crd.Spec.Group, crd.Spec.Names.Kind)
	}
	for k, v := range p.Spec {
		prop, ok := schema[k]
		if !ok {
			t.Errorf("spec.%s is not in the CRD's schema", k)
			continue
		}
		var typ string
		switch v.(type) {
		case string:
			typ = "string"
		case float64:
			typ = "integer"
		}
		if typ != prop.Type {
			t.Errorf("spec.%s is a %T, the schema says %s", k, v, prop.Type)
		}
	}
	u, err := url.Parse(p.Spec["url"].(string))
	if err != nil || u.Scheme != "https" || u.Path != admission.GatekeeperPath {
		t.Errorf("url %v (%v): want https and path %s", p.Spec["url"], err, admission.GatekeeperPath)
	}
	if _, err := base64.StdEncoding.DecodeString(p.Spec["caBundle"].(string)); err != nil {
		t.Errorf("caBundle: %v", err)
	}
}
