package writer

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// cosignVulnOptions are the options of the cosign-vuln golden files: a scan
// that started 95 s before its report was made, in a GitHub Actions run.
func cosignVulnOptions() Options {
	return Options{ScanStarted: reporttest.CreatedAt.Add(-95 * time.Second), Getenv: fakeEnv}
}

func TestCosignVulnGolden(t *testing.T) {
	for _, name := range []string{"alpine", "debian"} {
		t.Run(name, func(t *testing.T) {
			r := fixtures()[name]
			got := render(t, "cosign-vuln", r, cosignVulnOptions())
			path := filepath.Join("testdata", "golden", name+".cosign-vuln.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got; go test -update rewrites it):\n%s", path, diff)
			}
			if again := render(t, "cosign-vuln", r, cosignVulnOptions()); !bytes.Equal(got, again) {
				t.Error("output is not deterministic")
			}
		})
	}
}

func cosignVulnSchema(t *testing.T) *reporttest.Schema {
	t.Helper()
	const id = "https://github.com/drydock-scan/drydock/internal/report/writer/testdata/schema/cosign-vuln-statement.schema.json"
	s, err := reporttest.CompileSchema(id, map[string]string{id: "testdata/schema/cosign-vuln-statement.schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCosignVulnStatement checks the Statement three ways: the JSON schema
// written from the in-toto and cosign specs, the in-toto project's own
// validator (github.com/in-toto/attestation/go/v1), and its content: the
// subject is the image's repository and manifest digest, the result is the
// drydock report itself.
func TestCosignVulnStatement(t *testing.T) {
	schema := cosignVulnSchema(t)
	for name, r := range fixtures() {
		t.Run(name, func(t *testing.T) {
			doc := render(t, "cosign-vuln", r, cosignVulnOptions())
			if err := schema.Validate(doc); err != nil {
				t.Errorf("the statement does not match the schema:\n%v", err)
			}
			var st intoto.Statement
			if err := protojson.Unmarshal(doc, &st); err != nil {
				t.Fatalf("in-toto Statement: %v", err)
			}
			if err := st.Validate(); err != nil {
				t.Errorf("in-toto Statement.Validate: %v", err)
			}

			var got CosignVulnStatement
			if err := json.Unmarshal(doc, &got); err != nil {
				t.Fatal(err)
			}
			_, hex, _ := strings.Cut(r.Image.Digest, ":")
			wantSubject := []StatementSubject{{Name: r.Image.Name, Digest: map[string]string{"sha256": hex}}}
			if diff := cmp.Diff(wantSubject, got.Subject); diff != "" {
				t.Errorf("subject (-want +got):\n%s", diff)
			}
			if got.Type != "https://in-toto.io/Statement/v1" || got.PredicateType != "https://cosign.sigstore.dev/attestation/vuln/v1" {
				t.Errorf("_type %q, predicateType %q", got.Type, got.PredicateType)
			}
			wantMeta := VulnMetadata{ScanStartedOn: reporttest.CreatedAt.Add(-95 * time.Second), ScanFinishedOn: reporttest.CreatedAt}
			if diff := cmp.Diff(wantMeta, got.Predicate.Metadata); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			wantScanner := VulnScanner{URI: "pkg:github/drydock-scan/drydock@0.1.0-test", Version: "0.1.0-test",
				DB: VulnDB{Version: r.Database.BuiltAt.UTC().Format(time.RFC3339)}}
			if diff := cmp.Diff(wantScanner, got.Predicate.Scanner, cmpIgnoreResult); diff != "" {
				t.Errorf("scanner (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(r.Normalized(), got.Predicate.Scanner.Result); diff != "" {
				t.Errorf("scanner.result is not the report (-want +got):\n%s", diff)
			}
		})
	}
	// The schema refuses what the specs refuse: it is not a rubber stamp.
	good := string(render(t, "cosign-vuln", reporttest.Alpine(), cosignVulnOptions()))
	for _, tc := range []struct{ name, old, new string }{
		{"statement v0.1", `"https://in-toto.io/Statement/v1"`, `"https://in-toto.io/Statement/v0.1"`},
		{"digest not hex", `"sha256": "`, `"sha256": "sha256:`},
		{"no scanFinishedOn", `"scanFinishedOn"`, `"scanFinished"`},
		{"builder_id misspelt", `"builder.id"`, `"builder_id"`},
		{"other predicate", `"https://cosign.sigstore.dev/attestation/vuln/v1"`, `"https://cosign.sigstore.dev/attestation/v1"`},
		{"time not RFC 3339", `"scanStartedOn": "2026-01-15T09:58:25Z"`, `"scanStartedOn": "15 Jan 2026"`},
	} {
		bad := strings.Replace(good, tc.old, tc.new, 1)
		if bad == good {
			t.Fatalf("%s: %q not found in the statement", tc.name, tc.old)
		}
		if err := schema.Validate([]byte(bad)); err == nil {
			t.Errorf("%s: the schema accepted it", tc.name)
		}
	}
}

var cmpIgnoreResult = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Result" }, cmp.Ignore())

func TestCosignVulnInvocation(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name string
		env  map[string]string
		want VulnInvocation
	}{
		{"no CI", nil, VulnInvocation{Parameters: []string{}}},
		{"GitHub Actions", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242", "GITHUB_REPOSITORY": "example/shop", "GITHUB_SERVER_URL": "https://ghe.example.com"},
			VulnInvocation{Parameters: []string{}, URI: "https://ghe.example.com/example/shop/actions/runs/4242", EventID: "4242", BuilderID: "GitHub Actions"}},
		{"GitLab CI", map[string]string{"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example.com/g/p/-/jobs/77", "CI_JOB_ID": "77"},
			VulnInvocation{Parameters: []string{}, URI: "https://gitlab.example.com/g/p/-/jobs/77", EventID: "77", BuilderID: "GitLab CI"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := NewCosignVulnStatement(reporttest.Alpine(), Options{Getenv: env(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, st.Predicate.Invocation); diff != "" {
				t.Errorf("invocation (-want +got):\n%s", diff)
			}
		})
	}
	// parameters is an empty list, never null.
	doc := render(t, "cosign-vuln", reporttest.Alpine(), Options{Getenv: env(nil)})
	if !bytes.Contains(doc, []byte(`"parameters": [],`)) {
		t.Error(`no "parameters": [] in the statement`)
	}
}

func TestCosignVulnTimes(t *testing.T) {
	created := reporttest.CreatedAt
	for _, tc := range []struct {
		name    string
		started time.Time
		want    time.Time
	}{
		{"unknown start: the report's time", time.Time{}, created},
		{"start kept, to the second, in UTC", created.Add(-61*time.Second - 300*time.Millisecond).In(time.FixedZone("CET", 3600)), created.Add(-62 * time.Second)},
		{"a start after the end is the end", created.Add(time.Hour), created},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := NewCosignVulnStatement(reporttest.Alpine(), Options{ScanStarted: tc.started, Getenv: fakeEnv})
			if err != nil {
				t.Fatal(err)
			}
			want := VulnMetadata{ScanStartedOn: tc.want.UTC(), ScanFinishedOn: created.UTC()}
			if diff := cmp.Diff(want, st.Predicate.Metadata); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCosignVulnRefuses: no subject is invented, and no attestation claims a
// vulnerability scan that did not happen.
func TestCosignVulnRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(r *report.Report)
		noDigst bool
		want    string
	}{
		{"dir", func(r *report.Report) { r.Image.Kind, r.Image.Digest, r.Image.Reference = "dir", "", "dir:./rootfs" }, true, "dir:./rootfs (an unpacked root filesystem)"},
		{"docker-archive", func(r *report.Report) { r.Image.Kind, r.Image.Reference = "docker-archive", "app.tar" }, true, "a docker save archive"},
		{"sbom", func(r *report.Report) { r.Image.Kind, r.Image.Digest = "sbom", "" }, true, "an SBOM"},
		{"registry without digest", func(r *report.Report) { r.Image.Digest = "" }, true, `manifest digest ""`},
		{"sha512 digest", func(r *report.Report) { r.Image.Digest = "sha512:" + strings.Repeat("ab", 64) }, true, "manifest digest"},
		{"no vulnerability matching", func(r *report.Report) { r.Scanners, r.Database = []string{"secret"}, nil }, false, "no vulnerability matching"},
		{"vuln scanner but no database", func(r *report.Report) { r.Database = nil }, false, "no vulnerability matching"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := reporttest.Alpine()
			tc.change(r)
			var buf bytes.Buffer
			err := Write(&buf, "cosign-vuln", r, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one containing %q", err, tc.want)
			}
			if got := errors.Is(err, ErrNoManifestDigest); got != tc.noDigst {
				t.Errorf("errors.Is(err, ErrNoManifestDigest) = %v, want %v", got, tc.noDigst)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before refusing", buf.Len())
			}
		})
	}
}
