package harbor_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/riverqueue/river/rivertype"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server"
	"github.com/drydock-scan/drydock/internal/server/harbor"
	"github.com/drydock-scan/drydock/internal/source"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vulndb"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	alpineArchive = "../../../testdata/images/alpine-3.16.9.tar"
	golden        = "testdata/golden/alpine-3.16.9.vulnerability-report.json"
	reportPath    = "/scan/{scan_request_id}/report"
)

// generatedAt is the adapter's clock in these tests.
func generatedAt() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }

// soon retries failed jobs at once (River's default back-off is minutes).
type soon struct{}

func (soon) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(50 * time.Millisecond) }

type fixture struct {
	spec     *spec
	st       *store.Store
	srv      *server.Server
	api      *httptest.Server
	db       vulndb.Reader
	token    string // Harbor's drydock API token (write scope)
	registry string // "https://127.0.0.1:PORT"
	digest   string // of library/alpine:3.16.9 in the registry
}

// start runs what a Harbor deployment talks to: the real docker-registry
// (TLS, htpasswd) holding the test image, a drydock server on a throwaway
// PostgreSQL database with the adapter's routes, and one scan worker —
// created, not started: the test starts it (workers) when it wants jobs run.
func start(t *testing.T) (*fixture, func()) {
	t.Helper()
	bin := testimage.RegistryBinary(t)
	ca := testimage.MakeCA(t, t.TempDir())
	host := testimage.StartRegistry(t, bin, &ca)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}

	img, err := tarball.ImageFromPath(alpineArchive, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/library/alpine:3.16.9")
	if err != nil {
		t.Fatal(err)
	}
	login := &authn.Basic{Username: testimage.RegistryUser, Password: testimage.RegistryPassword}
	if err := remote.Write(ref, img, remote.WithAuth(login), remote.WithTransport(tr), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing the test image: %v", err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(t.Context(), storetest.NewDatabase(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := server.Migrate(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	db := vulndbtest.Alpine316(t)
	ad, err := harbor.New(harbor.Options{Store: st, Secrets: box, ToolVersion: "test", RefreshAfter: 2 * time.Second,
		Now: generatedAt})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Store: st, DB: db, Workers: 1, Secrets: box, Routes: ad.Routes(),
		Scan: scan.Config{Source: source.Options{Transport: tr}}, RetryPolicy: soon{}, ScanTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(api.Close)
	// Harbor is registered with a drydock API token ("Bearer" auth): it
	// queues scans, so it needs the write scope.
	_, token, err := st.CreateToken(t.Context(), "harbor", store.ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{spec: loadSpec(t), st: st, srv: srv, api: api, db: db, token: token, registry: "https://" + host, digest: d.String()}
	workers := func() {
		t.Helper()
		if err := srv.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := srv.Stop(t.Context()); err != nil {
				t.Errorf("stopping the workers: %v", err)
			}
		})
	}
	return f, workers
}

// call sends a request to the adapter (path under /harbor/api/v1) and checks
// the response against the spec's operation (specPath).
func (f *fixture) call(t *testing.T, method, path, specPath, accept string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.api.URL+"/harbor/api/v1"+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	if body != nil {
		req.Header.Set("Content-Type", harbor.ScanRequestMIME)
	}
	// Harbor polls the report and reads a 302 itself: no redirects followed.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	f.spec.checkResponse(t, method, specPath, resp, out)
	return resp, out
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// scanRequest is a valid request for the test image.
func (f *fixture) scanRequest(auth string) harbor.ScanRequest {
	return harbor.ScanRequest{
		Registry: harbor.Registry{URL: f.registry, Authorization: auth},
		Artifact: harbor.Artifact{Repository: "library/alpine", Digest: f.digest, Tag: "3.16.9", MIMEType: harbor.DockerManifestMIME},
		EnabledCapabilities: []harbor.EnabledCapability{
			{Type: harbor.CapabilityVulnerability, ProducesMIMETypes: []string{harbor.VulnReportMIME}},
			{Type: harbor.CapabilitySBOM, ProducesMIMETypes: []string{harbor.SBOMReportMIME},
				Parameters: &harbor.SBOMParameter{SBOMMediaTypes: []string{harbor.SPDXMIME, harbor.CycloneDXMIME}}},
		},
	}
}

// submit sends a valid scan request (itself checked against the spec's
// ScanRequest) and returns the scan request ID.
func (f *fixture) submit(t *testing.T, req harbor.ScanRequest) string {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	f.spec.validate(t, "ScanRequest", body)
	resp, out := f.call(t, "POST", "/scan", "/scan", "", body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /scan: %d %s", resp.StatusCode, out)
	}
	var sr harbor.ScanResponse
	if err := json.Unmarshal(out, &sr); err != nil || sr.ID == "" {
		t.Fatalf("scan response %s: %v", out, err)
	}
	return sr.ID
}

// poll asks for a report until it is no longer a 302.
func (f *fixture) poll(t *testing.T, id, accept string) (*http.Response, []byte) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, body := f.call(t, "GET", "/scan/"+id+"/report", reportPath, accept, nil)
		if resp.StatusCode != http.StatusFound {
			return resp, body
		}
		if time.Now().After(deadline) {
			t.Fatalf("report %s still not ready", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHarborContract drives the adapter as Harbor does — metadata, scan
// requests (valid and not), report polling in every media type — against a
// real server, worker, PostgreSQL and docker-registry, and checks every
// response against the spec's OpenAPI file: status, content type, body
// schema, headers.
func TestHarborContract(t *testing.T) {
	f, workers := start(t)

	t.Run("metadata", func(t *testing.T) {
		for _, c := range []struct{ accept, want string }{
			{"application/vnd.scanner.adapter.metadata+json; version=1.1", harbor.MetadataMIME},
			{"", harbor.MetadataMIME},
			{"application/vnd.scanner.adapter.metadata+json; version=1.0", "application/vnd.scanner.adapter.metadata+json; version=1.0"},
		} {
			resp, body := f.call(t, "GET", "/metadata", "/metadata", c.accept, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.want {
				t.Fatalf("Accept %q: %d %s: %s", c.accept, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var md harbor.Metadata
			if err := json.Unmarshal(body, &md); err != nil {
				t.Fatal(err)
			}
			want := []harbor.Capability{
				{Type: "vulnerability", ConsumesMIMETypes: []string{harbor.OCIManifestMIME, harbor.DockerManifestMIME},
					ProducesMIMETypes: []string{harbor.VulnReportMIME, harbor.VulnReportMIME10, harbor.RawReportMIME}},
				{Type: "sbom", ConsumesMIMETypes: []string{harbor.OCIManifestMIME, harbor.DockerManifestMIME},
					ProducesMIMETypes:    []string{harbor.SBOMReportMIME},
					AdditionalAttributes: map[string]any{"sbom_media_types": []any{harbor.SPDXMIME, harbor.CycloneDXMIME}}},
			}
			if d := cmp.Diff(want, md.Capabilities); d != "" {
				t.Errorf("capabilities (-want +got):\n%s", d)
			}
			if md.Scanner != (harbor.Scanner{Name: "drydock", Vendor: "drydock", Version: "test"}) ||
				md.Properties[harbor.PropScannerType] != "os-package-vulnerability" {
				t.Errorf("metadata = %+v", md)
			}
			if v, ok := md.Properties[harbor.PropDBUpdatedAt]; ok {
				t.Errorf("no scan stored, no database known, yet %s = %q", harbor.PropDBUpdatedAt, v)
			}
		}
	})

	t.Run("refused scan requests", func(t *testing.T) {
		valid := f.scanRequest(basic("u", "p"))
		with := func(edit func(*harbor.ScanRequest)) []byte {
			r := valid
			r.EnabledCapabilities = slices.Clone(valid.EnabledCapabilities)
			edit(&r)
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		for _, c := range []struct {
			name string
			body []byte
			code int
			msg  string
		}{
			{"not JSON", []byte(`{"registry":`), 400, "reading the scan request"},
			{"wrong type", []byte(`{"registry": "https://r", "artifact": {}}`), 400, "cannot unmarshal"},
			{"no registry url", with(func(r *harbor.ScanRequest) { r.Registry.URL = "" }), 422, "missing registry.url"},
			{"registry url not a URL", with(func(r *harbor.ScanRequest) { r.Registry.URL = "INVALID_REGISTRY_URL" }), 422, "invalid registry.url"},
			{"registry url with a path", with(func(r *harbor.ScanRequest) { r.Registry.URL += "/v2" }), 422, "a path is not supported"},
			{"no repository", with(func(r *harbor.ScanRequest) { r.Artifact.Repository = "" }), 422, "missing artifact.repository"},
			{"no digest", with(func(r *harbor.ScanRequest) { r.Artifact.Digest = "" }), 422, "missing artifact.digest"},
			{"bad digest", with(func(r *harbor.ScanRequest) { r.Artifact.Digest = "sha256:beef" }), 422, "invalid artifact"},
			{"bad repository", with(func(r *harbor.ScanRequest) { r.Artifact.Repository = "Library/Alpine" }), 422, "invalid artifact"},
			{"bad tag", with(func(r *harbor.ScanRequest) { r.Artifact.Tag = "no spaces" }), 422, "invalid artifact.tag"},
			{"artifact not an image", with(func(r *harbor.ScanRequest) { r.Artifact.MIMEType = "application/vnd.cncf.helm.config.v1+json" }), 501, "not scanned by drydock"},
			{"unknown capability", with(func(r *harbor.ScanRequest) { r.EnabledCapabilities[0].Type = "malware" }), 422, "enabled_capabilities[0].type"},
			{"report not produced", with(func(r *harbor.ScanRequest) {
				r.EnabledCapabilities[1].ProducesMIMETypes = []string{"application/vnd.anchore.policy.report+json; version=0.3"}
			}), 501, "does not produce"},
			{"unknown SBOM format", with(func(r *harbor.ScanRequest) {
				r.EnabledCapabilities[1].Parameters = &harbor.SBOMParameter{SBOMMediaTypes: []string{"text/plain"}}
			}), 422, "sbom_media_types"},
			{"bearer token", with(func(r *harbor.ScanRequest) { r.Registry.Authorization = "Bearer JWTTOKENGOESHERE" }), 422, "Bearer token is not supported"},
			{"basic not base64", with(func(r *harbor.ScanRequest) { r.Registry.Authorization = "Basic !!!" }), 422, "not base64"},
			{"unknown auth scheme", with(func(r *harbor.ScanRequest) { r.Registry.Authorization = "Digest x" }), 422, "registry.authorization"},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp, body := f.call(t, "POST", "/scan", "/scan", "", c.body)
				var e harbor.ErrorResponse
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("%s: %v", body, err)
				}
				if resp.StatusCode != c.code || !strings.Contains(e.Error.Message, c.msg) {
					t.Errorf("%d %q, want %d and a message with %q", resp.StatusCode, e.Error.Message, c.code, c.msg)
				}
			})
		}
	})

	t.Run("scopes", func(t *testing.T) {
		// The server's API tokens guard the adapter: reading needs a read
		// token, queueing a scan a write token. (401 and 403 are the
		// server's, outside the Harbor spec.)
		_, read, err := f.st.CreateToken(t.Context(), "harbor-read", store.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(f.scanRequest(""))
		for _, c := range []struct {
			method, path, token string
			body                []byte
			want                int
		}{
			{"GET", "/metadata", "", nil, 401},
			{"GET", "/metadata", read, nil, 200},
			{"GET", "/scan/x/report", "", nil, 401},
			{"GET", "/scan/x/report", read, nil, 404},
			{"POST", "/scan", "", body, 401},
			{"POST", "/scan", read, body, 403},
		} {
			req, err := http.NewRequestWithContext(t.Context(), c.method, f.api.URL+"/harbor/api/v1"+c.path, bytes.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s %s with token %.8q: %d, want %d", c.method, c.path, c.token, resp.StatusCode, c.want)
			}
		}
	})

	// The workers are not running yet: the report is being produced.
	id := f.submit(t, f.scanRequest(basic(testimage.RegistryUser, testimage.RegistryPassword)))
	noAuth := f.submit(t, f.scanRequest(""))
	t.Run("report not ready", func(t *testing.T) {
		resp, _ := f.call(t, "GET", "/scan/"+id+"/report", reportPath, harbor.VulnReportMIME, nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Refresh-After") != "2" {
			t.Errorf("%d, Refresh-After %q; want 302, 2", resp.StatusCode, resp.Header.Get("Refresh-After"))
		}
	})
	t.Run("credentials sealed in the queue", func(t *testing.T) {
		var args []string
		rows, err := f.st.Pool().Query(t.Context(), "SELECT args::text FROM river_job ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				t.Fatal(err)
			}
			args = append(args, a)
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		if len(args) != 2 {
			t.Fatalf("%d jobs queued, want 2", len(args))
		}
		if !strings.Contains(args[0], `"credentials": "v1:`) {
			t.Errorf("job with credentials: %s", args[0])
		}
		secret := base64.StdEncoding.EncodeToString([]byte(testimage.RegistryUser + ":" + testimage.RegistryPassword))
		for _, a := range args {
			if strings.Contains(a, "horse") || strings.Contains(a, secret) {
				t.Errorf("job arguments hold the registry password in clear: %s", a)
			}
		}
	})

	workers()

	var vuln harbor.VulnerabilityReport
	t.Run("vulnerability report", func(t *testing.T) {
		resp, body := f.poll(t, id, harbor.VulnReportMIME)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != harbor.VulnReportMIME {
			t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if err := json.Unmarshal(body, &vuln); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, body)

		// The findings are those `drydock image` gives for the same image.
		cli, err := scan.Run(t.Context(), scan.Config{Reference: "docker-archive:" + alpineArchive, DB: f.db})
		if err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for _, x := range report.New(cli, nil, report.Tool{}, time.Time{}).Normalized().Findings {
			want = append(want, fmt.Sprintf("%s %s %s→%s %s", x.ID, x.Package.Name, x.InstalledVersion, x.FixedVersion, x.Severity))
		}
		for _, v := range vuln.Vulnerabilities {
			got = append(got, fmt.Sprintf("%s %s %s→%s %s", v.ID, v.Package, v.Version, v.FixVersion, strings.ToUpper(v.Severity)))
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Harbor report vs drydock image (-cli +harbor):\n%s", d)
		}
		if len(got) != 2 || vuln.Severity != harbor.SevMedium {
			t.Errorf("%d vulnerabilities, severity %s; want the 2 busybox/ssl_client CVE-2023-42366, Medium", len(got), vuln.Severity)
		}
	})

	t.Run("report media types", func(t *testing.T) {
		for _, c := range []struct{ accept, query, ctype string }{
			{harbor.VulnReportMIME10, "", harbor.VulnReportMIME10},
			{"", "", harbor.VulnReportMIME10},
			{"*/*", "", harbor.VulnReportMIME10},
			{"text/html, " + harbor.VulnReportMIME, "", harbor.VulnReportMIME},
			{harbor.RawReportMIME, "", harbor.RawReportMIME},
			{harbor.SBOMReportMIME, "?sbom_media_type=" + url.QueryEscape(harbor.SPDXMIME), harbor.SBOMReportMIME},
			{harbor.SBOMReportMIME, "?sbom_media_type=" + url.QueryEscape(harbor.CycloneDXMIME), harbor.SBOMReportMIME},
			// The "+" unescaped, as a client building the URL by hand sends it.
			{harbor.SBOMReportMIME, "?sbom_media_type=" + harbor.CycloneDXMIME, harbor.SBOMReportMIME},
		} {
			resp, body := f.call(t, "GET", "/scan/"+id+"/report"+c.query, reportPath, c.accept, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.ctype {
				t.Errorf("Accept %q %s: %d %q, want 200 %q", c.accept, c.query, resp.StatusCode, resp.Header.Get("Content-Type"), c.ctype)
				continue
			}
			switch c.ctype {
			case harbor.VulnReportMIME10:
				var v harbor.VulnerabilityReport
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(vuln, v); d != "" {
					t.Errorf("the v1.0 report differs from the v1.1 one:\n%s", d)
				}
			case harbor.RawReportMIME:
				rep, err := report.ReadJSON(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("raw report: %v", err)
				}
				if len(rep.Findings) != 2 || len(rep.Packages) != 14 {
					t.Errorf("raw report: %d findings, %d packages", len(rep.Findings), len(rep.Packages))
				}
			case harbor.SBOMReportMIME:
				var s struct {
					harbor.SBOMReport
					SBOM map[string]any `json:"sbom"`
				}
				if err := json.Unmarshal(body, &s); err != nil {
					t.Fatal(err)
				}
				q, _ := url.ParseQuery(strings.TrimPrefix(c.query, "?"))
				if s.MediaType != strings.ReplaceAll(q.Get("sbom_media_type"), " ", "+") || s.Artifact != vuln.Artifact {
					t.Errorf("SBOM report: media_type %q, artifact %+v", s.MediaType, s.Artifact)
				}
				if !bytes.Contains(body, []byte("ssl_client")) || (s.SBOM["spdxVersion"] == nil && s.SBOM["bomFormat"] != "CycloneDX") {
					t.Errorf("the SBOM is not the image's SPDX/CycloneDX document: %.300s", body)
				}
			}
		}
	})

	t.Run("metadata after a scan", func(t *testing.T) {
		meta, err := f.db.Meta(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		_, body := f.call(t, "GET", "/metadata", "/metadata", harbor.MetadataMIME, nil)
		var md harbor.Metadata
		if err := json.Unmarshal(body, &md); err != nil {
			t.Fatal(err)
		}
		if got, want := md.Properties[harbor.PropDBUpdatedAt], meta.BuiltAt.UTC().Format(time.RFC3339); got != want {
			t.Errorf("%s = %q, want the database the scan used, %q", harbor.PropDBUpdatedAt, got, want)
		}
	})

	t.Run("plain HTTP registry", func(t *testing.T) {
		// Harbor's core is often reached over plain HTTP inside its
		// deployment. 127.0.0.2 is not a name go-containerregistry would use
		// plain HTTP for by itself: only the http:// of the request makes
		// the job pull over HTTP.
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("no 127.0.0.2 here: %v", err)
		}
		reg := httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
		reg.Listener.Close()
		reg.Listener = ln
		reg.Start()
		t.Cleanup(reg.Close)
		host := strings.TrimPrefix(reg.URL, "http://")
		img, err := tarball.ImageFromPath(alpineArchive, nil)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference(host+"/library/alpine:3.16.9", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
			t.Fatal(err)
		}
		req := f.scanRequest("")
		req.Registry.URL = reg.URL
		resp, body := f.poll(t, f.submit(t, req), harbor.VulnReportMIME)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var v harbor.VulnerabilityReport
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(vuln.Vulnerabilities, v.Vulnerabilities); d != "" {
			t.Errorf("the same image from a plain-HTTP registry (-https +http):\n%s", d)
		}
	})

	t.Run("report errors", func(t *testing.T) {
		for _, c := range []struct {
			name, id, accept, query string
			code                    int
			msg                     string
		}{
			{"SBOM without its format", id, harbor.SBOMReportMIME, "", 400, "sbom_media_type"},
			{"SBOM of an unknown format", id, harbor.SBOMReportMIME, "?sbom_media_type=text/plain", 400, "sbom_media_type"},
			{"a media type drydock does not produce", id, "application/vnd.anchore.policy.report+json; version=0.3", "", 501, "does not produce"},
			{"unknown ID", "3fa85f64-5717-4562-b3fc-2c963f66afa6", harbor.VulnReportMIME, "", 404, "no scan request"},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp, body := f.call(t, "GET", "/scan/"+c.id+"/report"+c.query, reportPath, c.accept, nil)
				var e harbor.ErrorResponse
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("%s: %v", body, err)
				}
				if resp.StatusCode != c.code || !strings.Contains(e.Error.Message, c.msg) {
					t.Errorf("%d %q, want %d and a message with %q", resp.StatusCode, e.Error.Message, c.code, c.msg)
				}
			})
		}
	})

	t.Run("failed scan", func(t *testing.T) {
		// Without the robot account's credentials the registry refuses the
		// pull: the job fails its attempts, and the report says why.
		resp, body := f.poll(t, noAuth, harbor.VulnReportMIME)
		var e harbor.ErrorResponse
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if resp.StatusCode != 500 || !strings.Contains(e.Error.Message, "discarded after 3 attempt(s)") ||
			!strings.Contains(strings.ToUpper(e.Error.Message), "UNAUTHORIZED") {
			t.Errorf("%d %q; want 500 naming the registry's refusal", resp.StatusCode, e.Error.Message)
		}
	})
}

// checkGolden compares the vulnerability report with the golden file (the
// database's build time, which changes with each test database, redacted).
func checkGolden(t *testing.T, body []byte) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if va, ok := v["vendor_attributes"].(map[string]any); ok && va["database_built_at"] != nil {
		va["database_built_at"] = "REDACTED"
	}
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("vulnerability report differs from %s (-want +got; -update rewrites it):\n%s", golden, d)
	}
}
