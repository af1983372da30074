package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/riverqueue/river/rivertype"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/server"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/vulndb"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

const alpineImage = "../../testdata/images/alpine-3.16.9.tar"

// soon retries failed jobs at once (River's default back-off is minutes).
type soon struct{}

func (soon) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(50 * time.Millisecond) }

type fixture struct {
	st  *store.Store
	srv *server.Server
	api *httptest.Server
	db  vulndb.Reader
	// write and read are API tokens of each scope; do sends write.
	write, read string
}

// tokens gives f a write and a read token.
func (f *fixture) tokens(t *testing.T) {
	t.Helper()
	var err error
	if _, f.write, err = f.st.CreateToken(t.Context(), "test-write", store.ScopeWrite); err != nil {
		t.Fatal(err)
	}
	if _, f.read, err = f.st.CreateToken(t.Context(), "test-read", store.ScopeRead); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, workers int) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), storetest.NewDatabase(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := server.Migrate(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	db := vulndbtest.Alpine316(t)
	srv, err := server.New(server.Options{Store: st, DB: db, Workers: workers, AllowLocal: true, RetryPolicy: soon{}, ScanTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(t.Context()); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(api.Close)
	f := &fixture{st: st, srv: srv, api: api, db: db}
	f.tokens(t)
	return f
}

// do sends a request with the write token and checks its status.
func (f *fixture) do(t *testing.T, method, path string, body any, want int) []byte {
	t.Helper()
	resp, b := f.call(t, method, path, f.write, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return b
}

// call sends a request with token (none if "") and returns the response
// and its body.
func (f *fixture) call(t *testing.T, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.api.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.api.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp, buf.Bytes()
}

type job struct {
	ID     int64    `json:"id"`
	State  string   `json:"state"`
	Errors []string `json:"errors"`
}

// wait polls a job until it is finalized.
func (f *fixture) wait(t *testing.T, id int64) job {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var j job
		if err := json.Unmarshal(f.do(t, "GET", fmt.Sprintf("/api/v1/jobs/%d", id), nil, 200), &j); err != nil {
			t.Fatal(err)
		}
		switch j.State {
		case "completed", "discarded", "cancelled":
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s", id, j.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func submit(t *testing.T, f *fixture, ref string, tags ...string) int64 {
	t.Helper()
	var out struct {
		JobID int64 `json:"job_id"`
	}
	body := map[string]any{"reference": ref, "repository": "registry.test/library/alpine", "tags": tags}
	if err := json.Unmarshal(f.do(t, "POST", "/api/v1/scans", body, http.StatusAccepted), &out); err != nil {
		t.Fatal(err)
	}
	return out.JobID
}

// TestScanThroughTheServer: a scan submitted to the API is run by a worker
// with the CLI's library; the stored report has the findings `drydock image`
// gives for the same image, and the fleet can be asked where it is exposed.
func TestScanThroughTheServer(t *testing.T) {
	f := start(t, 2)
	id := submit(t, f, "docker-archive:"+alpineImage, "3.16")
	if j := f.wait(t, id); j.State != "completed" {
		t.Fatalf("job %d: %s %v", id, j.State, j.Errors)
	}
	var list struct {
		Images []store.ImageSummary `json:"images"`
	}
	if err := json.Unmarshal(f.do(t, "GET", "/api/v1/images?severity=medium", nil, 200), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Images) != 1 || list.Images[0].Findings != 2 || !slices.Equal(list.Images[0].Tags, []string{"3.16"}) {
		t.Fatalf("images = %+v", list.Images)
	}
	img := list.Images[0].ID

	var rep report.Report
	if err := json.Unmarshal(f.do(t, "GET", fmt.Sprintf("/api/v1/images/%d/report", img), nil, 200), &rep); err != nil {
		t.Fatal(err)
	}
	cli, err := scan.Run(t.Context(), scan.Config{Reference: "docker-archive:" + alpineImage, DB: f.db})
	if err != nil {
		t.Fatal(err)
	}
	want := report.New(cli, nil, report.Tool{}, time.Time{}).Normalized()
	if d := cmp.Diff(want.Findings, rep.Normalized().Findings); d != "" {
		t.Errorf("server findings differ from the library's (-cli +server):\n%s", d)
	}
	if len(rep.Packages) != 14 || len(rep.Coverage) != 1 || rep.Coverage[0].Status != "complete" {
		t.Errorf("report: %d packages, coverage %+v", len(rep.Packages), rep.Coverage)
	}
	for _, format := range []string{"sarif", "cyclonedx", "cyclonedx-1.7", "gitlab", "table", "html"} {
		if b := f.do(t, "GET", fmt.Sprintf("/api/v1/images/%d/report?format=%s", img, format), nil, 200); !bytes.Contains(b, []byte("CVE-2023-42366")) {
			t.Errorf("%s report lacks CVE-2023-42366", format)
		}
	}
	for format, want := range map[string]string{"spdx-3.0": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "spdx-json": `"spdxVersion": "SPDX-2.3"`} {
		if b := f.do(t, "GET", fmt.Sprintf("/api/v1/images/%d/report?format=%s", img, format), nil, 200); !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s report lacks %s:\n%.300s", format, want, b)
		}
	}
	var exp struct {
		Images []store.Exposure `json:"images"`
	}
	if err := json.Unmarshal(f.do(t, "GET", "/api/v1/exposure?id=CVE-2023-42366", nil, 200), &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Images) != 1 || exp.Images[0].ImageID != img || len(exp.Images[0].Packages) != 2 {
		t.Errorf("exposure = %+v", exp.Images)
	}

	// Errors the API must give.
	f.do(t, "GET", "/api/v1/images/999999/report", nil, 404)
	f.do(t, "GET", fmt.Sprintf("/api/v1/images/%d/report?format=xml", img), nil, 400)
	f.do(t, "GET", "/api/v1/jobs/999999", nil, 404)
	f.do(t, "GET", "/api/v1/exposure", nil, 400)
	f.do(t, "POST", "/api/v1/scans", map[string]any{"reference": ""}, 400)
	f.do(t, "GET", "/healthz", nil, 200)
	f.do(t, "GET", "/readyz", nil, 200)
}

// TestPoisonImageParked: an image whose layer fails extraction fails its job
// with the error recorded, is retried a bounded number of times, then
// parked; the other jobs complete.
func TestPoisonImageParked(t *testing.T) {
	f := start(t, 2)
	poison := filepath.Join(t.TempDir(), "poison.tar")
	if err := os.WriteFile(poison, []byte("this is not a docker archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := submit(t, f, "docker-archive:"+poison)
	good := submit(t, f, "docker-archive:"+alpineImage)
	if j := f.wait(t, good); j.State != "completed" {
		t.Errorf("good job: %s %v", j.State, j.Errors)
	}
	j := f.wait(t, bad)
	if j.State != "discarded" || len(j.Errors) != 3 {
		t.Errorf("poison job: state %s after %d errors, want discarded after 3", j.State, len(j.Errors))
	}
	for _, e := range j.Errors {
		if !bytes.Contains([]byte(e), []byte("poison.tar")) {
			t.Errorf("recorded error does not name the file: %s", e)
		}
	}
}

// TestLocalReferencesRefused: by default an API caller cannot make the
// server read its own files.
func TestLocalReferencesRefused(t *testing.T) {
	st, err := store.Open(t.Context(), storetest.NewDatabase(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := server.Migrate(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(api.Close)
	f := &fixture{st: st, srv: srv, api: api}
	f.tokens(t)
	for _, ref := range []string{"docker-archive:/etc/passwd", "dir:/", "oci:/tmp/x", "/etc/shadow", "./x.tar", "docker:alpine", "podman:alpine:3.16"} {
		f.do(t, "POST", "/api/v1/scans", map[string]any{"reference": ref}, 400)
	}
	f.do(t, "POST", "/api/v1/scans", map[string]any{"reference": "registry.test/app:1"}, 202)
}

// TestOpenAPIDocumentsEveryRoute: docs/server-api.yaml describes exactly the
// routes the server serves, each with its scope (x-drydock-scope) and the
// matching security: none for public routes, the bearer token otherwise.
// Operations of the server's other parts (x-drydock-part: watch, harbor…)
// are served through Options.Routes by the command; their own tests hold
// them to the file.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	raw, err := os.ReadFile("../../docs/server-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                               `yaml:"openapi"`
		Security   []map[string][]string                `yaml:"security"`
		Paths      map[string]map[string]map[string]any `yaml:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]any `yaml:"securitySchemes"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]map[string]any{"bearer": {"type": "http", "scheme": "bearer", "description": doc.Components.SecuritySchemes["bearer"]["description"]}},
		doc.Components.SecuritySchemes); d != "" {
		t.Errorf("securitySchemes (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]map[string][]string{{"bearer": {}}}, doc.Security); d != "" {
		t.Errorf("global security (-want +got):\n%s", d)
	}
	documented := map[string]string{} // route → scope
	for path, ops := range doc.Paths {
		for method, op := range ops {
			route := strings.ToUpper(method) + " " + path
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s: no responses", route)
			}
			scope, _ := op["x-drydock-scope"].(string)
			sec, hasSec := op["security"]
			switch scope {
			case "public":
				if l, ok := sec.([]any); !ok || len(l) != 0 {
					t.Errorf("%s: public, but security is %v (want [])", route, sec)
				}
			case "read", "write":
				if hasSec {
					t.Errorf("%s: scope %s, but overrides the global security with %v", route, scope, sec)
				}
				if _, ok := op["responses"].(map[string]any)["401"]; !ok {
					t.Errorf("%s: no 401 response", route)
				}
				if _, ok := op["responses"].(map[string]any)["403"]; !ok {
					t.Errorf("%s: no 403 response", route)
				}
			default:
				t.Errorf("%s: x-drydock-scope %q (public, read or write)", route, scope)
			}
			if _, part := op["x-drydock-part"]; !part {
				documented[route] = scope
			}
		}
	}
	srv, err := server.New(server.Options{Store: &store.Store{}})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{}
	for _, r := range srv.Routes() {
		served[r.Pattern] = string(r.Scope)
	}
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("routes and scopes (-served +documented):\n%s", d)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
}

// authServer serves the core routes, a route of each scope added through
// Options.Routes (as the server's parts add theirs) and a mounted handler.
func authServer(t *testing.T, noAuth bool) (*fixture, []server.Route) {
	t.Helper()
	st, err := store.Open(t.Context(), storetest.NewDatabase(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := server.Migrate(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }
	parts := []server.Route{
		{Pattern: "GET /api/v1/part/public", Handler: ok, Scope: api.Public},
		{Pattern: "GET /api/v1/part/read", Handler: ok, Scope: api.Read},
		{Pattern: "POST /api/v1/part/write", Handler: ok, Scope: api.Write},
	}
	srv, err := server.New(server.Options{Store: st, NoAuth: noAuth, Routes: parts,
		Mounts: []server.Mount{{Prefix: "/mounted/", Handler: http.HandlerFunc(ok)}}})
	if err != nil {
		t.Fatal(err)
	}
	a := httptest.NewServer(srv.Handler())
	t.Cleanup(a.Close)
	f := &fixture{st: st, srv: srv, api: a}
	f.tokens(t)
	routes := srv.Routes()
	// The mount: read for GET and HEAD, write for the other methods.
	routes = append(routes,
		server.Route{Pattern: "GET /mounted/x", Scope: api.Read},
		server.Route{Pattern: "HEAD /mounted/x", Scope: api.Read},
		server.Route{Pattern: "POST /mounted/x", Scope: api.Write},
		server.Route{Pattern: "DELETE /mounted/x", Scope: api.Write})
	return f, routes
}

// TestAuth: every route class — public, read, write, the parts' routes and
// mounted handlers — answers 401 (with a Bearer challenge) without a valid
// token, 403 when the token's scope is too narrow, and serves otherwise.
func TestAuth(t *testing.T) {
	f, routes := authServer(t, false)
	_, revoked, err := f.st.CreateToken(t.Context(), "gone", store.ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.st.Authenticate(t.Context(), revoked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.RevokeToken(t.Context(), tok.ID); err != nil {
		t.Fatal(err)
	}
	malformed := "Basic dXNlcjpwYXNz"
	tokens := []struct {
		name, token string
		scope       api.Scope // what it allows; "" nothing
	}{
		{"none", "", ""},
		{"unknown", "ddk_" + strings.Repeat("A", 43), ""},
		{"revoked", revoked, ""},
		{"basic", malformed, ""},
		{"read", f.read, api.Read},
		{"write", f.write, api.Write},
	}
	classes := map[api.Scope]int{}
	for _, r := range routes {
		classes[r.Scope]++
		method, path, _ := strings.Cut(r.Pattern, " ")
		path = strings.ReplaceAll(path, "{id}", "1")
		for _, tk := range tokens {
			t.Run(r.Pattern+"/"+tk.name, func(t *testing.T) {
				req, err := http.NewRequestWithContext(t.Context(), method, f.api.URL+path, strings.NewReader("{}"))
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case tk.token == malformed:
					req.Header.Set("Authorization", malformed)
				case tk.token != "":
					req.Header.Set("Authorization", "Bearer "+tk.token)
				}
				resp, err := f.api.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				challenge := resp.Header.Get("WWW-Authenticate")
				switch {
				case r.Scope == api.Public:
					if resp.StatusCode == 401 || resp.StatusCode == 403 {
						t.Errorf("public route: %d", resp.StatusCode)
					}
				case tk.scope == "":
					if resp.StatusCode != 401 || !strings.HasPrefix(challenge, `Bearer realm="drydock"`) {
						t.Errorf("%d, WWW-Authenticate %q; want 401 with a Bearer challenge", resp.StatusCode, challenge)
					}
				case tk.scope == api.Read && r.Scope == api.Write:
					if resp.StatusCode != 403 || !strings.Contains(challenge, `error="insufficient_scope"`) {
						t.Errorf("%d, WWW-Authenticate %q; want 403 insufficient_scope", resp.StatusCode, challenge)
					}
				default:
					if resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 {
						t.Errorf("%d, want the route's own answer", resp.StatusCode)
					}
				}
			})
		}
	}
	if classes[api.Public] < 3 || classes[api.Read] < 6 || classes[api.Write] < 3 {
		t.Errorf("route classes tested: %v", classes)
	}
}

// TestNoAuth: with NoAuth every route is served without a token.
func TestNoAuth(t *testing.T) {
	f, routes := authServer(t, true)
	for _, r := range routes {
		method, path, _ := strings.Cut(r.Pattern, " ")
		path = strings.ReplaceAll(path, "{id}", "1")
		if resp, body := f.call(t, method, path, "", map[string]any{}); resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 {
			t.Errorf("%s: %d %s", r.Pattern, resp.StatusCode, body)
		}
	}
}

// TestRouteScopeRequired: a part's route without a known scope is refused,
// never served as public.
func TestRouteScopeRequired(t *testing.T) {
	for _, scope := range []api.Scope{"", "admin", "Read"} {
		_, err := server.New(server.Options{Store: &store.Store{}, Routes: []server.Route{
			{Pattern: "GET /api/v1/x", Handler: func(http.ResponseWriter, *http.Request) {}, Scope: scope}}})
		if err == nil || !strings.Contains(err.Error(), "GET /api/v1/x") {
			t.Errorf("scope %q: %v, want an error naming the route", scope, err)
		}
	}
}

// seed stores two synthetic images: a base (one critical KEV finding) and
// an application built on it (plus a high one, and a coverage gap).
func seed(t *testing.T, st *store.Store) (base, app int64) {
	t.Helper()
	for i, im := range []struct {
		repo, digest string
		layers       []string
		findings     []finding.Finding
		coverage     []result.Coverage
	}{
		{"r/base", "sha256:base", []string{"sha256:l1"}, []finding.Finding{
			{ID: "CVE-1", Package: finding.PackageRef{ID: "apk/a"}, Severity: "CRITICAL", KEV: true, FixedVersion: "2"}}, nil},
		{"r/app", "sha256:app", []string{"sha256:l1", "sha256:l2"}, []finding.Finding{
			{ID: "CVE-1", Package: finding.PackageRef{ID: "apk/a"}, Severity: "CRITICAL", KEV: true, FixedVersion: "2"},
			{ID: "GHSA-x", Aliases: []string{"CVE-2"}, Package: finding.PackageRef{ID: "npm/b"}, Severity: "HIGH"}},
			[]result.Coverage{{Ecosystem: "crates.io", Packages: 1, Status: "no-advisories"}}},
	} {
		res := &result.Result{Image: inventory.Image{Digest: im.digest}, Findings: im.findings, Coverage: im.coverage}
		for j, l := range im.layers {
			res.Image.Layers = append(res.Image.Layers, inventory.Layer{Index: j, DiffID: l})
		}
		saved, err := st.SaveScan(t.Context(), store.ImageKey{Repository: im.repo}, res)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			base = saved.ImageID
		} else {
			app = saved.ImageID
		}
	}
	return base, app
}

// TestFleetViews: the summary and the image filters over HTTP.
func TestFleetViews(t *testing.T) {
	f := start(t, 0)
	base, app := seed(t, f.st)
	var sum store.Summary
	if err := json.Unmarshal(f.do(t, "GET", "/api/v1/summary", nil, 200), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Images != 2 || sum.Findings != 3 || sum.BySeverity["CRITICAL"] != 2 || sum.ImagesWithCritical != 2 ||
		sum.KEVFindings != 2 || sum.FixableFindings != 2 || len(sum.TopAdvisories) != 2 || sum.TopAdvisories[0].ID != "CVE-1" ||
		sum.CoverageGapImages != 1 || sum.CoverageGaps[0].ImageID != app {
		t.Errorf("summary = %+v", sum)
	}
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{base, app}},
		{"?base=" + fmt.Sprint(base), []int64{app}},
		{"?base=sha256:base", []int64{app}},
		{"?base=sha256:app", []int64{}},
		{"?advisory=CVE-2", []int64{app}},
		{"?advisory=GHSA-x&base=sha256:base&severity=high", []int64{app}},
		{"?kev=true&fixable=1", []int64{base, app}},
		{"?kev=false", []int64{base, app}},
		{"?severity=high&kev=true", []int64{app}},
	} {
		var list struct {
			Images []store.ImageSummary `json:"images"`
		}
		if err := json.Unmarshal(f.do(t, "GET", "/api/v1/images"+tc.query, nil, 200), &list); err != nil {
			t.Fatal(err)
		}
		got := []int64{}
		for _, im := range list.Images {
			got = append(got, im.ID)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("images%s (-want +got):\n%s", tc.query, d)
		}
	}
	for _, q := range []string{"?base=sha256:nope", "?base=999999", "?base=x", "?kev=maybe", "?severity=bad", "?limit=0"} {
		f.do(t, "GET", "/api/v1/images"+q, nil, 400)
	}
	// A read token reads the fleet views.
	if resp, body := f.call(t, "GET", "/api/v1/summary", f.read, nil); resp.StatusCode != 200 {
		t.Errorf("summary with a read token: %d %s", resp.StatusCode, body)
	}
}

// TestMetrics: /metrics (read scope) shows the HTTP metrics of the requests
// served and, read from PostgreSQL at scrape time, the queue's jobs, the
// store's images and layer results, and open findings by severity.
func TestMetrics(t *testing.T) {
	f := start(t, 0)
	seed(t, f.st)
	f.do(t, "POST", "/api/v1/scans", map[string]any{"reference": "registry.test/app:1"}, 202)
	f.call(t, "GET", "/api/v1/images", "", nil) // 401
	f.do(t, "GET", "/api/v1/images", nil, 200)
	if resp, _ := f.call(t, "GET", "/metrics", "", nil); resp.StatusCode != 401 {
		t.Errorf("/metrics without a token: %d, want 401", resp.StatusCode)
	}
	resp, body := f.call(t, "GET", "/metrics", f.read, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the metrics: %v\n%s", err, body)
	}
	// value returns the sample of family name with exactly these labels.
	value := func(name string, labels map[string]string) float64 {
		fam, ok := fams[name]
		if !ok {
			t.Errorf("no metric %s", name)
			return -1
		}
		for _, m := range fam.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if !cmp.Equal(got, labels, cmpopts.EquateEmpty()) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
		t.Errorf("no %s%v", name, labels)
		return -1
	}
	kind := server.ScanArgs{}.Kind()
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"drydock_http_requests_total", map[string]string{"route": "POST /api/v1/scans", "code": "202"}, 1},
		{"drydock_http_requests_total", map[string]string{"route": "GET /api/v1/images", "code": "200"}, 1},
		{"drydock_http_requests_total", map[string]string{"route": "GET /api/v1/images", "code": "401"}, 1},
		{"drydock_http_request_duration_seconds", map[string]string{"route": "GET /api/v1/images"}, 2},
		{"drydock_jobs", map[string]string{"kind": kind, "state": "available"}, 1},
		{"drydock_jobs", map[string]string{"kind": kind, "state": "discarded"}, 0},
		{"drydock_images", nil, 2},
		{"drydock_repositories", nil, 2},
		{"drydock_layer_results", nil, 0},
		{"drydock_open_findings", map[string]string{"severity": "CRITICAL"}, 2},
		{"drydock_open_findings", map[string]string{"severity": "HIGH"}, 1},
		{"drydock_open_findings", map[string]string{"severity": "LOW"}, 0},
		{"drydock_store_up", nil, 1},
	} {
		if got := value(tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	for _, name := range []string{"drydock_build_info", "go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no metric %s", name)
		}
	}

	// The store down: drydock_store_up 0, no stale store metrics, the
	// process's metrics still served.
	down, err := store.Open(t.Context(), storetest.NewDatabase(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Store: down, NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	down.Close()
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics with the store down: %d %s", rec.Code, rec.Body)
	}
	if fams, err = p.TextToMetricFamilies(rec.Body); err != nil {
		t.Fatal(err)
	}
	if got := value("drydock_store_up", nil); got != 0 {
		t.Errorf("drydock_store_up = %v with the store down, want 0", got)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no go_goroutines with the store down")
	}
	for _, name := range []string{"drydock_images", "drydock_jobs", "drydock_open_findings", "drydock_layer_results"} {
		if _, ok := fams[name]; ok {
			t.Errorf("%s shown with the store down", name)
		}
	}
}

// TestAuthStoreDown: when tokens cannot be checked the API says so (503),
// it never lets the request through; a request without a token is still
// a 401.
func TestAuthStoreDown(t *testing.T) {
	f, _ := authServer(t, false)
	f.st.Close()
	if resp, body := f.call(t, "GET", "/api/v1/images", f.read, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("with a token and the store down: %d %s, want 503", resp.StatusCode, body)
	}
	if resp, _ := f.call(t, "GET", "/api/v1/images", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token and the store down: %d, want 401", resp.StatusCode)
	}
	if resp, _ := f.call(t, "GET", "/healthz", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with the store down: %d, want 200", resp.StatusCode)
	}
}

// TestReportSuppressions: the server's ignore file (drydock server
// --ignore-file) marks the findings of the reports it serves, as the CLI's:
// kept, annotated with the reason and expiry.
func TestReportSuppressions(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	_, app := seed(t, st)
	ig, err := policy.ParseIgnoreFile("server.yaml", []byte("ignores:\n  - id: CVE-1\n    reason: accepted until the rebuild\n    expires: 2099-01-31\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Store: st, NoAuth: true, Suppress: &policy.Engine{Ignores: []*policy.IgnoreFile{ig}}})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	resp, err := h.Client().Get(fmt.Sprintf("%s/api/v1/images/%d/report?format=json", h.URL, app))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep report.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		for _, a := range f.Annotations {
			if a.Kind == "suppressed" {
				got[f.ID] = a.Reason + " until " + a.Expires
			}
		}
	}
	if d := cmp.Diff(map[string]string{"CVE-1": "accepted until the rebuild until 2099-01-31"}, got); d != "" {
		t.Errorf("suppressed findings (-want +got):\n%s", d)
	}
	if len(rep.Findings) != 2 {
		t.Errorf("%d findings in the report, want both (suppressed ones kept)", len(rep.Findings))
	}
}
