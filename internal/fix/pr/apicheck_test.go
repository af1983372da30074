package pr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// apiDesc is a provider's published API description (an OpenAPI 3.0
// subset in testdata), with its schemas compiled as JSON Schema. check says
// what is wrong with a request against it.
type apiDesc struct {
	file string
	ops  []*operation
	// auth says what is wrong with a request's credentials ("" = fine).
	auth func(h http.Header) string
}

type operation struct {
	id, method string
	segs       []string // path template segments: "repos", "{owner}", …
	params     []param
	body       *jsonschema.Schema // nil: the operation takes no body
	bodyNeeded bool
	responses  map[int]*jsonschema.Schema // status → schema (nil: no content)
}

type param struct {
	name, in, typ string
	required      bool
	schema        *jsonschema.Schema
}

// loadDesc reads an OpenAPI 3.0 description: `nullable: true` becomes a union
// with null, and each schema is compiled with the document's components
// beside it, so "#/components/schemas/…" references resolve.
func loadDesc(t testing.TB, file string, auth func(http.Header) string) *apiDesc {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	doc = nullableToUnion(doc).(map[string]any)
	components, _ := doc["components"].(map[string]any)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // OpenAPI 3.0's schema dialect
	c.AssertFormat()
	n := 0
	compile := func(where string, s any) *jsonschema.Schema {
		obj, ok := s.(map[string]any)
		if !ok {
			t.Fatalf("%s: %s: schema is not an object", file, where)
		}
		res := map[string]any{"components": components}
		for k, v := range obj {
			res[k] = v
		}
		// Re-decode through the library so numbers are what it expects.
		j, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		n++
		u := fmt.Sprintf("mem:///%d.json", n)
		if err := c.AddResource(u, v); err != nil {
			t.Fatalf("%s: %s: %v", file, where, err)
		}
		sch, err := c.Compile(u)
		if err != nil {
			t.Fatalf("%s: %s: %v", file, where, err)
		}
		return sch
	}
	deref := func(v any) map[string]any {
		m, _ := v.(map[string]any)
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var cur any = doc
		for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")]
		}
		if cur == nil {
			t.Fatalf("%s: unresolved %s", file, ref)
		}
		return cur.(map[string]any)
	}
	d := &apiDesc{file: file, auth: auth}
	paths := doc["paths"].(map[string]any)
	for tmpl, item := range paths {
		for method, o := range item.(map[string]any) {
			om := o.(map[string]any)
			op := &operation{id: om["operationId"].(string), method: strings.ToUpper(method),
				segs: strings.Split(strings.Trim(tmpl, "/"), "/"), responses: map[int]*jsonschema.Schema{}}
			for _, p := range om["parameters"].([]any) {
				pm := deref(p)
				sm := pm["schema"].(map[string]any)
				typ, _ := sm["type"].(string)
				req, _ := pm["required"].(bool)
				op.params = append(op.params, param{name: pm["name"].(string), in: pm["in"].(string), typ: typ,
					required: req, schema: compile(op.id+" parameter "+pm["name"].(string), sm)})
			}
			if rb, ok := om["requestBody"].(map[string]any); ok {
				op.bodyNeeded, _ = rb["required"].(bool)
				s := rb["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
				op.body = compile(op.id+" request body", s)
			}
			for code, r := range om["responses"].(map[string]any) {
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Fatalf("%s: %s: response %q", file, op.id, code)
				}
				rm := deref(r)
				if content, ok := rm["content"].(map[string]any); ok {
					s := content["application/json"].(map[string]any)["schema"]
					op.responses[status] = compile(fmt.Sprintf("%s response %d", op.id, status), s)
				} else {
					op.responses[status] = nil
				}
			}
			d.ops = append(d.ops, op)
		}
	}
	sort.Slice(d.ops, func(i, j int) bool { return d.ops[i].id < d.ops[j].id })
	return d
}

// nullableToUnion rewrites OpenAPI 3.0's {"type": T, "nullable": true} as
// JSON Schema's {"type": [T, "null"]} (and a nullable $ref/allOf as anyOf
// with null).
func nullableToUnion(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = nullableToUnion(e)
		}
		if n, _ := out["nullable"].(bool); n {
			delete(out, "nullable")
			if t, ok := out["type"].(string); ok {
				out["type"] = []any{t, "null"}
			} else {
				return map[string]any{"anyOf": []any{out, map[string]any{"type": "null"}}}
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = nullableToUnion(e)
		}
		return out
	}
	return v
}

// match finds the operation for a method and an escaped path (relative to
// the API base), and the path parameters' decoded values.
func (d *apiDesc) match(method, escapedPath string) (*operation, map[string]string) {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	for _, op := range d.ops {
		if op.method != method || len(op.segs) != len(segs) {
			continue
		}
		vals := map[string]string{}
		ok := true
		for i, s := range op.segs {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				v, err := url.PathUnescape(segs[i])
				if err != nil {
					ok = false
					break
				}
				vals[strings.Trim(s, "{}")] = v
			} else if s != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return op, vals
		}
	}
	return nil, nil
}

// check returns the operation a request is, and everything in it that is
// not as the description says.
func (d *apiDesc) check(r *http.Request, prefix string, body []byte) (*operation, []string) {
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	esc := r.URL.EscapedPath()
	rel, ok := strings.CutPrefix(esc, prefix)
	if !ok {
		bad("%s %s: not under the API base %s", r.Method, esc, prefix)
		return nil, problems
	}
	op, pathVals := d.match(r.Method, rel)
	if op == nil {
		bad("%s %s: no such operation in %s", r.Method, rel, d.file)
		return nil, problems
	}
	if msg := d.auth(r.Header); msg != "" {
		bad("%s: %s", op.id, msg)
	}
	q := r.URL.Query()
	declared := map[string]bool{}
	for _, p := range op.params {
		var (
			v       string
			present bool
		)
		switch p.in {
		case "path":
			v, present = pathVals[p.name]
		case "query":
			declared[p.name] = true
			_, present = q[p.name]
			v = q.Get(p.name)
		}
		if !present {
			if p.required {
				bad("%s: required %s parameter %s missing", op.id, p.in, p.name)
			}
			continue
		}
		var val any = v
		if p.typ == "integer" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				bad("%s: %s parameter %s=%q is not an integer", op.id, p.in, p.name, v)
				continue
			}
			val = json.Number(strconv.FormatInt(n, 10))
		}
		if err := p.schema.Validate(val); err != nil {
			bad("%s: %s parameter %s=%q: %v", op.id, p.in, p.name, v, err)
		}
	}
	for k := range q {
		if !declared[k] {
			bad("%s: query parameter %s is not in the description", op.id, k)
		}
	}
	switch {
	case op.body == nil && len(body) > 0:
		bad("%s: takes no request body, got %d bytes", op.id, len(body))
	case op.body != nil && len(body) == 0:
		if op.bodyNeeded {
			bad("%s: request body required", op.id)
		}
	case op.body != nil:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			bad("%s: Content-Type %q, want application/json", op.id, r.Header.Get("Content-Type"))
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			bad("%s: request body is not JSON: %v", op.id, err)
			break
		}
		if err := op.body.Validate(v); err != nil {
			bad("%s: request body: %v", op.id, err)
		}
	}
	return op, problems
}

// checkResponse says what is wrong with an answer the fake server gives.
func (op *operation) checkResponse(status int, v any) error {
	sch, ok := op.responses[status]
	if !ok {
		return fmt.Errorf("%s: status %d is not a documented response", op.id, status)
	}
	if sch == nil {
		return nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return err
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("%s: response %d: %v", op.id, status, err)
	}
	return nil
}

// githubAuth: GitHub takes "Authorization: Bearer TOKEN" or "token TOKEN";
// the description is API version 2022-11-28, which the client must ask for.
func githubAuth(h http.Header) string {
	scheme, cred, _ := strings.Cut(h.Get("Authorization"), " ")
	if (scheme != "Bearer" && scheme != "token") || cred == "" || strings.ContainsAny(cred, " \t") {
		return fmt.Sprintf("Authorization header %q is not \"Bearer <token>\" or \"token <token>\"", redactedHeader(h.Get("Authorization")))
	}
	if v := h.Get("X-GitHub-Api-Version"); v != "2022-11-28" {
		return fmt.Sprintf("X-GitHub-Api-Version %q, the description is for 2022-11-28", v)
	}
	return ""
}

// gitlabAuth: GitLab takes "PRIVATE-TOKEN: TOKEN" or "Authorization: Bearer TOKEN".
func gitlabAuth(h http.Header) string {
	if h.Get("PRIVATE-TOKEN") != "" {
		return ""
	}
	if strings.HasPrefix(h.Get("Authorization"), "Bearer ") && len(h.Get("Authorization")) > len("Bearer ") {
		return ""
	}
	return "no PRIVATE-TOKEN header and no \"Authorization: Bearer <token>\""
}

func redactedHeader(v string) string {
	if scheme, _, ok := strings.Cut(v, " "); ok {
		return scheme + " …"
	}
	if v == "" {
		return ""
	}
	return "…"
}

// recorder keeps the calls a fake server saw and the problems found in them.
type recorder struct {
	mu       sync.Mutex
	calls    []string
	bodies   []any
	problems []string
	paths    []string // escaped request paths
}

func (rec *recorder) add(op string, path string, body []byte, problems []string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.calls = append(rec.calls, op)
	rec.paths = append(rec.paths, path)
	var v any
	if len(body) > 0 {
		_ = json.Unmarshal(body, &v)
	}
	rec.bodies = append(rec.bodies, v)
	rec.problems = append(rec.problems, problems...)
}

func (rec *recorder) problem(p string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.problems = append(rec.problems, p)
}

func (rec *recorder) snapshot() (calls []string, bodies []any, paths []string, problems []string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.calls...), append([]any(nil), rec.bodies...),
		append([]string(nil), rec.paths...), append([]string(nil), rec.problems...)
}

// readBody reads a request body for checking.
func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}
