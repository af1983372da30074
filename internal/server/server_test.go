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
	"github.com/riverqueue/river/rivertype"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/server"
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
	return &fixture{st: st, srv: srv, api: api, db: db}
}

func (f *fixture) do(t *testing.T, method, path string, body any, want int) []byte {
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, buf.String())
	}
	return buf.Bytes()
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
	for _, format := range []string{"sarif", "cyclonedx", "table", "html"} {
		if b := f.do(t, "GET", fmt.Sprintf("/api/v1/images/%d/report?format=%s", img, format), nil, 200); !bytes.Contains(b, []byte("CVE-2023-42366")) {
			t.Errorf("%s report lacks CVE-2023-42366", format)
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
	for _, ref := range []string{"docker-archive:/etc/passwd", "dir:/", "oci:/tmp/x", "/etc/shadow", "./x.tar"} {
		f.do(t, "POST", "/api/v1/scans", map[string]any{"reference": ref}, 400)
	}
	f.do(t, "POST", "/api/v1/scans", map[string]any{"reference": "registry.test/app:1"}, 202)
}

// TestOpenAPIDocumentsEveryRoute: docs/server-api.yaml describes exactly the
// routes the server serves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	raw, err := os.ReadFile("../../docs/server-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s: no responses", method, path)
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	srv, err := server.New(server.Options{Store: &store.Store{}})
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, r := range srv.Routes() {
		served = append(served, r.Pattern)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if d := cmp.Diff(served, documented); d != "" {
		t.Errorf("routes (-served +documented):\n%s", d)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
}
