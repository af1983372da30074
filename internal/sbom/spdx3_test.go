package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// notBlankIRI is the one pattern of the SPDX 3.0.1 schema that Go's regexp
// (RE2, no lookahead) cannot compile: "^(?!_:).+:.+", an IRI is not a
// blank node and has a colon inside. It is checked as written, in two
// steps.
type notBlankIRI struct{ rest *regexp.Regexp }

func (n notBlankIRI) MatchString(s string) bool {
	return !strings.HasPrefix(s, "_:") && n.rest.MatchString(s)
}
func (notBlankIRI) String() string { return "^(?!_:).+:.+" }

// spdx3RegexpEngine compiles the schema's patterns with Go's regexp, and
// the lookahead one as notBlankIRI; any other pattern Go cannot compile
// fails the compilation (nothing is skipped).
func spdx3RegexpEngine(s string) (jsonschema.Regexp, error) {
	if s == "^(?!_:).+:.+" {
		return notBlankIRI{regexp.MustCompile(`^.+:.+`)}, nil
	}
	return regexp.Compile(s)
}

// spdx3Schema compiles testdata/schema/spdx-3.0.1.schema.json (see the
// README there: an excerpt of the official schema).
func spdx3Schema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	const id = "https://spdx.org/schema/3.0.1/spdx-json-schema.json"
	f, err := os.Open("testdata/schema/spdx-3.0.1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseRegexpEngine(spdx3RegexpEngine)
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateJSON(s *jsonschema.Schema, b []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// TestSPDX3ValidatesAgainstSchema: every fixture's SPDX 3 document
// validates against the SPDX 3.0.1 JSON schema; the schema refuses what the
// specification does not allow (so the check has teeth).
func TestSPDX3ValidatesAgainstSchema(t *testing.T) {
	schema := spdx3Schema(t)
	reports := fixtures()
	reports["malware"] = reporttest.Malware() // review annotations
	for name, r := range reports {
		var buf bytes.Buffer
		if err := WriteSPDX3(&buf, r); err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(schema, buf.Bytes()); err != nil {
			t.Errorf("%s: SPDX 3 output does not validate:\n%v", name, err)
		}
	}
	var good bytes.Buffer
	if err := WriteSPDX3(&good, reporttest.Alpine()); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(s string) string{
		"unknown property": func(s string) string {
			return strings.Replace(s, `"software_packageVersion"`, `"software_version"`, 1)
		},
		"relationship type": func(s string) string {
			return strings.Replace(s, `"relationshipType": "contains"`, `"relationshipType": "CONTAINS"`, 1)
		},
		"purpose": func(s string) string {
			return strings.Replace(s, `"software_primaryPurpose": "container"`, `"software_primaryPurpose": "CONTAINER"`, 1)
		},
		"blank node as element id": func(s string) string {
			return strings.Replace(s, `"spdxId": "https://`, `"spdxId": "_:x`, 1)
		},
		"no creationInfo": func(s string) string {
			return strings.Replace(s, `"creationInfo": "_:creationinfo",`, ``, 1)
		},
		"other context": func(s string) string {
			return strings.Replace(s, SPDX3Context, "https://spdx.org/rdf/3.0.0/spdx-context.jsonld", 1)
		},
		"local time": func(s string) string {
			return strings.Replace(s, `"created": "2026-01-15T10:00:00Z"`, `"created": "2026-01-15T10:00:00+01:00"`, 1)
		},
	}
	for name, mutate := range bad {
		doc := mutate(good.String())
		if doc == good.String() {
			t.Fatalf("%s: the mutation changed nothing", name)
		}
		if err := validateJSON(schema, []byte(doc)); err == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}

// TestSPDX3Content: the document's shape for the AlmaLinux fixture — the
// classes, the image as the Sbom's root, purl identifiers, licences as
// expressions with hasDeclaredLicense, one CreationInfo from the report's
// time.
func TestSPDX3Content(t *testing.T) {
	r := reporttest.AlmaLinux()
	doc := spdx3(r)
	if doc.Context != SPDX3Context {
		t.Errorf("@context = %q", doc.Context)
	}
	ci, ok := doc.Graph[0].(*spdx3CreationInfoObj)
	if !ok || ci.Created != timestamp(r.CreatedAt) || ci.SpecVersion != "3.0.1" {
		t.Fatalf("first object = %#v, want the CreationInfo of %s", doc.Graph[0], r.CreatedAt)
	}
	types := map[string]int{}
	byID := map[string]*spdx3Element{}
	for _, o := range doc.Graph[1:] {
		e := o.(*spdx3Element)
		types[e.Type]++
		byID[e.SpdxID] = e
		if e.CreationInfo != spdx3CreationInfo {
			t.Errorf("%s %s: creationInfo %q", e.Type, e.SpdxID, e.CreationInfo)
		}
	}
	if types["software_Package"] != len(r.Packages)+2 { // + image + distro
		t.Errorf("%d software_Package, want %d", types["software_Package"], len(r.Packages)+2)
	}
	for _, typ := range []string{"SpdxDocument", "software_Sbom", "SoftwareAgent", "Tool"} {
		if types[typ] != 1 {
			t.Errorf("%d %s, want 1", types[typ], typ)
		}
	}
	var sbomRoot string
	declared := map[string]string{}
	for _, e := range byID {
		if e.Type == "software_Sbom" {
			sbomRoot = e.RootElement[0]
		}
		if e.Type == "Relationship" && e.RelationshipType == "hasDeclaredLicense" {
			declared[e.From] = byID[e.To[0]].LicenseExpression
		}
	}
	if img := byID[sbomRoot]; img == nil || img.PrimaryPurpose != "container" || img.PackageVersion != r.Image.Digest {
		t.Errorf("the Sbom's root is %+v, want the image", img)
	}
	found := 0
	for i := range r.Packages {
		p := &r.Packages[i]
		for _, e := range byID {
			if e.Type != "software_Package" || e.Name != p.Name || e.PackageVersion != p.Version {
				continue
			}
			found++
			if e.PackageURL != p.PURL || len(e.ExternalIdentifier) != 1 || e.ExternalIdentifier[0].Identifier != p.PURL {
				t.Errorf("%s: purl %q / %+v, want %q", p.Name, e.PackageURL, e.ExternalIdentifier, p.PURL)
			}
			if len(p.Licenses) > 0 && declared[e.SpdxID] == "" {
				t.Errorf("%s: no hasDeclaredLicense (licences %v)", p.Name, p.Licenses)
			}
		}
	}
	if found != len(r.Packages) {
		t.Errorf("found %d of %d packages", found, len(r.Packages))
	}
	// Deterministic: the same report gives the same bytes.
	var a, b bytes.Buffer
	if err := WriteSPDX3(&a, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteSPDX3(&b, reporttest.AlmaLinux()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two encodings of the same report differ")
	}
}

// TestSPDX3LicenseRefs: a licence SPDX has no id for is a LicenseRef in the
// expression, declared once as a licensing text the expression maps it to,
// and read back as the package's own string.
func TestSPDX3LicenseRefs(t *testing.T) {
	r := fixtures()["edge"]
	var buf bytes.Buffer
	if err := WriteSPDX3(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Graph []map[string]any `json:"@graph"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	var exprs []string
	for _, o := range doc.Graph {
		switch o["type"] {
		case "simplelicensing_SimpleLicensingText":
			texts[o["spdxId"].(string)] = o["simplelicensing_licenseText"].(string)
		case "simplelicensing_LicenseExpression":
			exprs = append(exprs, o["simplelicensing_licenseExpression"].(string))
			for _, c := range asList(o["simplelicensing_customIdToUri"]) {
				m := c.(map[string]any)
				if !strings.Contains(o["simplelicensing_licenseExpression"].(string), m["key"].(string)) {
					t.Errorf("customIdToUri key %v is not in the expression", m["key"])
				}
			}
		}
	}
	if len(texts) == 0 {
		t.Fatalf("no SimpleLicensingText for the edge fixture's LicenseRef (expressions %v)", exprs)
	}
	got, err := Decode(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	want := r.Normalized()
	for i := range want.Packages {
		if d := cmp.Diff(want.Packages[i].Licenses, got.Packages[i].Licenses); d != "" {
			t.Errorf("%s licences (-want +got):\n%s", want.Packages[i].Name, d)
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestDecodeSPDX3Errors: SPDX 3 documents drydock cannot read fail with an
// error that says why, never as an empty report.
func TestDecodeSPDX3Errors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"no graph", `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","type":"software_Package","spdxId":"urn:a"}`, `no "@graph"`},
		{"expanded", `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[{"@type":"https://spdx.org/rdf/3.0.1/terms/Software/Package"}]}`, `has no "type"`},
		{"bad object", `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[{"type":"software_Package","name":7}]}`, "@graph object 0"},
		{"context list", `{"@context":["https://spdx.org/rdf/3.0.1/spdx-context.jsonld"],"@graph":[]}`, `no "@graph"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(context.Background(), strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	// A minimal document of another producer: a package with a purl reads.
	doc := `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[
	{"type":"CreationInfo","@id":"_:c","specVersion":"3.0.1","created":"2026-02-01T00:00:00Z","createdBy":["urn:agent"]},
	{"type":"software_Package","spdxId":"urn:p","creationInfo":"_:c","name":"busybox","software_packageVersion":"1.35.0-r17",
	 "externalIdentifier":[{"type":"ExternalIdentifier","externalIdentifierType":"packageUrl","identifier":"pkg:apk/alpine/busybox@1.35.0-r17?distro=alpine-3.16.9"}]},
	{"type":"simplelicensing_LicenseExpression","spdxId":"urn:l","creationInfo":"_:c","simplelicensing_licenseExpression":"GPL-2.0-only"},
	{"type":"Relationship","spdxId":"urn:r","creationInfo":"_:c","from":"urn:p","relationshipType":"hasConcludedLicense","to":["urn:l"]}]}`
	r, err := Decode(context.Background(), strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Packages) != 1 || r.Packages[0].Name != "busybox" || r.Packages[0].Ecosystem == "" ||
		cmp.Diff([]string{"GPL-2.0-only"}, r.Packages[0].Licenses) != "" {
		t.Errorf("packages = %+v", r.Packages)
	}
	if r.Image.Kind != "sbom" {
		t.Errorf("image kind = %q, want sbom (not drydock's document)", r.Image.Kind)
	}
}

// FuzzDecodeSPDX3 feeds the SPDX 3 reader small JSON-LD documents: it never
// panics, and what it reads encodes again in every format.
func FuzzDecodeSPDX3(f *testing.F) {
	f.Add([]byte(`{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[{"type":"CreationInfo","@id":"_:c","created":"2026-02-01T00:00:00Z"},{"type":"software_Sbom","spdxId":"urn:s","rootElement":["urn:i"]},{"type":"software_Package","spdxId":"urn:i","name":"img","software_primaryPurpose":"container"},{"type":"software_Package","spdxId":"urn:p","name":"busybox","software_packageVersion":"1.35.0-r17","software_packageUrl":"pkg:apk/alpine/busybox@1.35.0-r17?distro=alpine-3.16.9"},{"type":"simplelicensing_LicenseExpression","spdxId":"urn:l","simplelicensing_licenseExpression":"LicenseRef-x","simplelicensing_customIdToUri":[{"type":"DictionaryEntry","key":"LicenseRef-x","value":"urn:t"}]},{"type":"simplelicensing_SimpleLicensingText","spdxId":"urn:t","simplelicensing_licenseText":"X"},{"type":"Relationship","spdxId":"urn:r","from":"urn:p","relationshipType":"hasDeclaredLicense","to":["urn:l"]},{"type":"Annotation","spdxId":"urn:a","subject":"urn:p","statement":"drydock:ecosystem=apk"}]}`))
	f.Add([]byte(`{"@context":["https://spdx.org/rdf/3.0.1/spdx-context.jsonld"],"@graph":[{"type":"software_Package","spdxId":"urn:p","externalIdentifier":[{"externalIdentifierType":"packageUrl","identifier":"pkg:npm/a@1"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(context.Background(), bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteSPDX3(&out, r); err != nil {
			t.Fatalf("re-encoding as SPDX 3: %v", err)
		}
		if err := WriteCycloneDX(&out, r, false); err != nil {
			t.Fatalf("re-encoding as CycloneDX: %v", err)
		}
	})
}
