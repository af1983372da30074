package harbor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// specFile is the Harbor scanner API the adapter must answer per.
const specFile = "testdata/spec/scanner-adapter-openapi-v1.2.yaml"

// spec is the OpenAPI document, with its component schemas compiled as
// JSON Schema.
type spec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

const specURL = "https://drydock.test/harbor-scanner-openapi.json"

// loadSpec reads the OpenAPI 3.0 file and converts it to a JSON Schema
// resource: YAML → JSON values, and OpenAPI's `nullable: true` → a union with
// null. Format assertions are on (links must be URIs, generated_at a
// date-time).
func loadSpec(t *testing.T) *spec {
	t.Helper()
	raw, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	var y any
	if err := yaml.Unmarshal(raw, &y); err != nil {
		t.Fatalf("%s: %v", specFile, err)
	}
	j, err := json.Marshal(openAPIToJSONSchema(jsonValue(y)))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // OpenAPI 3.0's schema dialect is draft 4/5
	c.AssertFormat()
	if err := c.AddResource(specURL, doc); err != nil {
		t.Fatal(err)
	}
	return &spec{doc: doc.(map[string]any), compiler: c, schemas: map[string]*jsonschema.Schema{}}
}

// jsonValue turns YAML's decoded values into JSON's (map keys are strings:
// the response codes are YAML integers).
func jsonValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonValue(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[fmt.Sprint(k)] = jsonValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonValue(x)
		}
		return out
	}
	return v
}

// openAPIToJSONSchema rewrites OpenAPI 3.0's `nullable: true` as JSON
// Schema: {"anyOf": [schema, {"type": "null"}]}.
func openAPIToJSONSchema(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = openAPIToJSONSchema(x)
		}
		if n, ok := out["nullable"].(bool); ok {
			delete(out, "nullable")
			if n {
				return map[string]any{"anyOf": []any{out, map[string]any{"type": "null"}}}
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = openAPIToJSONSchema(x)
		}
		return out
	}
	return v
}

// schema compiles a component schema ("HarborVulnerabilityReport").
func (s *spec) schema(t tb, name string) *jsonschema.Schema {
	t.Helper()
	if sch, ok := s.schemas[name]; ok {
		return sch
	}
	sch, err := s.compiler.Compile(specURL + "#/components/schemas/" + name)
	if err != nil {
		t.Fatalf("compiling schema %s: %v", name, err)
	}
	s.schemas[name] = sch
	return sch
}

// validate checks a JSON document against a component schema.
func (s *spec) validate(t tb, name string, body []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s: not JSON: %v\n%s", name, err, body)
		return
	}
	if err := s.schema(t, name).Validate(v); err != nil {
		t.Errorf("does not validate against %s:\n%v\nbody: %s", name, err, body)
	}
}

// tb is what the checks report to: a *testing.T, or a recorder in the
// test that shows the checks catch what they must.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// sameMediaType compares media types with their parameters (the version).
func sameMediaType(a, b string) bool {
	at, ap, err1 := mime.ParseMediaType(a)
	bt, bp, err2 := mime.ParseMediaType(b)
	if err1 != nil || err2 != nil || at != bt || len(ap) != len(bp) {
		return false
	}
	for k, v := range ap {
		if bp[k] != v {
			return false
		}
	}
	return true
}

// checkResponse validates a response of the operation at method and path
// (as the spec writes it: "/scan/{scan_request_id}/report"): its status is
// one the spec lists for the operation, its content type one listed for that
// status, its body valid against that content's schema, and the headers
// the spec lists for it are present and of their type.
func (s *spec) checkResponse(t tb, method, path string, resp *http.Response, body []byte) {
	t.Helper()
	op := obj(obj(obj(s.doc["paths"])[path])[strings.ToLower(method)])
	if op == nil {
		t.Fatalf("the spec has no operation %s %s", method, path)
	}
	status := strconv.Itoa(resp.StatusCode)
	r := obj(obj(op["responses"])[status])
	if r == nil {
		t.Errorf("%s %s answered %s, a status the spec does not list for it", method, path, status)
		return
	}
	for h, def := range obj(r["headers"]) {
		v := resp.Header.Get(h)
		if v == "" {
			t.Errorf("%s %s %s: no %s header", method, path, status, h)
			continue
		}
		if obj(obj(def)["schema"])["type"] == "integer" {
			if _, err := strconv.Atoi(v); err != nil {
				t.Errorf("%s %s %s: header %s=%q is not an integer", method, path, status, h, v)
			}
		}
	}
	content := obj(r["content"])
	if content == nil {
		return // the spec says nothing of the body (302, 404)
	}
	ctype := resp.Header.Get("Content-Type")
	for mt, c := range content {
		if !sameMediaType(ctype, mt) {
			continue
		}
		sch := obj(obj(c)["schema"])
		ref, _ := sch["$ref"].(string)
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok {
			// An inline schema: the raw report, `type: string`, i.e. any text.
			if sch["type"] != "string" || len(body) == 0 {
				t.Errorf("%s %s %s %s: empty body or unexpected schema %v", method, path, status, mt, sch)
			}
			return
		}
		s.validate(t, name, body)
		return
	}
	var listed []string
	for mt := range content {
		listed = append(listed, mt)
	}
	t.Errorf("%s %s %s: Content-Type %q is not one the spec lists (%s)", method, path, status, ctype, strings.Join(listed, " | "))
}

// recorder collects what a check reports.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) {
	r.errs = append(r.errs, "FATAL "+fmt.Sprintf(format, a...))
}

// TestContractCheckCatches: the contract check rejects responses that break
// the spec — so that TestHarborContract passing means something.
func TestContractCheckCatches(t *testing.T) {
	s := loadSpec(t)
	resp := func(code int, ctype string, headers ...string) *http.Response {
		r := &http.Response{StatusCode: code, Header: http.Header{}}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		return r
	}
	const vuln = "application/vnd.security.vulnerability.report; version=1.1"
	good := `{"generated_at": "2026-12-01T12:00:00Z", "severity": "High", "vulnerabilities": [{"id": "CVE-1", "severity": "Low", "links": ["https://x.test/CVE-1"]}]}`
	for _, c := range []struct {
		name, method, path string
		resp               *http.Response
		body               string
		bad                bool
	}{
		{"valid report", "GET", reportPath, resp(200, vuln), good, false},
		{"valid 302", "GET", reportPath, resp(302, "", "Refresh-After", "5"), "", false},
		{"valid error", "POST", "/scan", resp(422, "application/vnd.scanner.adapter.error+json; version=1.0"), `{"error": {"message": "x"}}`, false},
		{"valid metadata", "GET", "/metadata", resp(200, "application/vnd.scanner.adapter.metadata+json; version=1.1"),
			`{"scanner": {"name": "d"}, "capabilities": [{"consumes_mime_types": [], "produces_mime_types": []}]}`, false},
		{"severity outside the enum", "GET", reportPath, resp(200, vuln), strings.Replace(good, `"High"`, `"Severe"`, 1), true},
		{"link not a URI", "GET", reportPath, resp(200, vuln), strings.Replace(good, "https://x.test/CVE-1", "not a uri", 1), true},
		{"generated_at not a date-time", "GET", reportPath, resp(200, vuln), strings.Replace(good, "2026-12-01T12:00:00Z", "yesterday", 1), true},
		{"version of the media type", "GET", reportPath, resp(200, "application/vnd.security.vulnerability.report; version=1.2"), good, true},
		{"plain JSON content type", "GET", reportPath, resp(200, "application/json"), good, true},
		{"status not listed", "POST", "/scan", resp(409, "application/vnd.scanner.adapter.error+json; version=1.0"), `{"error": {"message": "x"}}`, true},
		{"302 without Refresh-After", "GET", reportPath, resp(302, ""), "", true},
		{"Refresh-After not an integer", "GET", reportPath, resp(302, "", "Refresh-After", "soon"), "", true},
		{"error message not a string", "POST", "/scan", resp(400, "application/vnd.scanner.adapter.error+json; version=1.0"), `{"error": {"message": 3}}`, true},
		{"metadata without capabilities", "GET", "/metadata", resp(200, "application/vnd.scanner.adapter.metadata+json; version=1.1"), `{"scanner": {"name": "d"}}`, true},
		{"SBOM of another format", "GET", reportPath, resp(200, "application/vnd.security.sbom.report+json; version=1.0"), `{"media_type": "text/spdx", "sbom": {}}`, true},
		{"not JSON", "GET", reportPath, resp(200, vuln), `{`, true},
	} {
		r := &recorder{}
		s.checkResponse(r, c.method, c.path, c.resp, []byte(c.body))
		if bad := len(r.errs) > 0; bad != c.bad {
			t.Errorf("%s: check reported %v, want a failure: %v", c.name, r.errs, c.bad)
		}
	}
}
