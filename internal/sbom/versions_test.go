package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// cdxSchemaOf compiles the official CycloneDX JSON schema of version v
// (testdata/schema, see its README).
func cdxSchemaOf(t *testing.T, v cdx.SpecVersion) *reporttest.Schema {
	t.Helper()
	root := CycloneDXSchemaURL(v)
	res := map[string]string{
		root: "testdata/schema/bom-" + v.String() + ".schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "testdata/schema/spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "testdata/schema/jsf-0.82.schema.json",
	}
	if v >= cdx.SpecVersion1_7 {
		res["http://cyclonedx.org/schema/cryptography-defs.schema.json"] = "testdata/schema/cryptography-defs.schema.json"
	}
	s, err := reporttest.CompileSchema(root, res)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCycloneDXVersionsValidate: every fixture, with and without
// vulnerabilities, validates against the schema of the version it names,
// and states that version (specVersion and $schema).
func TestCycloneDXVersionsValidate(t *testing.T) {
	for _, v := range CycloneDXVersions() {
		schema := cdxSchemaOf(t, v)
		reports := fixtures()
		reports["malware"] = reporttest.Malware() // malware vulnerabilities
		for name, r := range reports {
			for _, vulns := range []bool{false, true} {
				var buf bytes.Buffer
				if err := WriteCycloneDXVersion(&buf, r, vulns, v); err != nil {
					t.Fatal(err)
				}
				if err := schema.Validate(buf.Bytes()); err != nil {
					t.Errorf("%s %s (vulns=%v): does not validate:\n%v", v, name, vulns, err)
				}
				var head struct {
					Schema      string `json:"$schema"`
					SpecVersion string `json:"specVersion"`
				}
				if err := json.Unmarshal(buf.Bytes(), &head); err != nil {
					t.Fatal(err)
				}
				if head.SpecVersion != v.String() || head.Schema != CycloneDXSchemaURL(v) {
					t.Errorf("%s %s: specVersion %q, $schema %q", v, name, head.SpecVersion, head.Schema)
				}
			}
		}
		// The schema is strict enough to catch a broken document.
		bad := `{"bomFormat":"CycloneDX","specVersion":"` + v.String() + `","version":1,"components":[{"type":"nonsense","name":"x"}]}`
		if err := schema.Validate([]byte(bad)); err == nil {
			t.Errorf("%s schema accepted a component of type nonsense", v)
		}
	}
	// The default is 1.6, the same bytes as before the versions existed.
	var def, v16 bytes.Buffer
	r := reporttest.AlmaLinux()
	if err := WriteCycloneDX(&def, r, true); err != nil {
		t.Fatal(err)
	}
	if err := WriteCycloneDXVersion(&v16, r, true, cdx.SpecVersion1_6); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(def.Bytes(), v16.Bytes()) {
		t.Error("WriteCycloneDX differs from WriteCycloneDXVersion 1.6")
	}
	if err := WriteCycloneDXVersion(&bytes.Buffer{}, r, true, cdx.SpecVersion1_5); err == nil ||
		!strings.Contains(err.Error(), "1.5 is not written") {
		t.Errorf("writing 1.5: err = %v, want a refusal", err)
	}
}

// TestRoundTripNewVersions: CycloneDX 1.7 and SPDX 3.0 documents drydock
// writes decode to the same packages, distro, image, tool and time.
func TestRoundTripNewVersions(t *testing.T) {
	encoders := map[string]func(*bytes.Buffer, *report.Report) error{
		"cyclonedx-1.7": func(b *bytes.Buffer, r *report.Report) error {
			return WriteCycloneDXVersion(b, r, true, cdx.SpecVersion1_7)
		},
		"spdx-3.0": func(b *bytes.Buffer, r *report.Report) error { return WriteSPDX3(b, r) },
	}
	for name, r := range fixtures() {
		for encName, enc := range encoders {
			t.Run(name+"/"+encName, func(t *testing.T) {
				var buf bytes.Buffer
				if err := enc(&buf, r); err != nil {
					t.Fatal(err)
				}
				got, err := Decode(context.Background(), &buf)
				if err != nil {
					t.Fatal(err)
				}
				want := r.Normalized()
				if len(want.Packages) == 0 {
					t.Fatal("fixture without packages proves nothing")
				}
				if diff := cmp.Diff(want.Packages, got.Packages, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("packages (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want.Distro, got.Distro); diff != "" {
					t.Errorf("distro (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want.Image, got.Image, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("image (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want.Tool, got.Tool); diff != "" {
					t.Errorf("tool (-want +got):\n%s", diff)
				}
				if !got.CreatedAt.Equal(want.CreatedAt) {
					t.Errorf("created = %v, want %v", got.CreatedAt, want.CreatedAt)
				}
			})
		}
	}
}
