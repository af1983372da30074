package writer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/compliance"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// complianceFixture is the AlmaLinux fixture (findings, a secret,
// misconfigurations) with the compliance report of spec, evaluated as the
// command does.
func complianceFixture(t testing.TB, spec string) *report.Report {
	t.Helper()
	s, err := compliance.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	r := reporttest.AlmaLinux()
	r.Compliance = compliance.Evaluate(s, r.Result(), compliance.Options{Now: r.CreatedAt})
	return r
}

func TestComplianceGolden(t *testing.T) {
	for _, tt := range []struct {
		spec, format, file string
		opt                Options
	}{
		{"docker-cis", "table", "compliance-docker-cis.txt", Options{Width: 140}},
		{"docker-cis", "html", "compliance-docker-cis.html", Options{}},
		{"pci-dss-4.0", "table", "compliance-pci-dss.txt", Options{Width: 140}},
		{"nist-800-53", "table", "compliance-nist.txt", Options{Width: 140}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			got := render(t, tt.format, complianceFixture(t, tt.spec), tt.opt)
			if bytes.Contains(got, []byte("ZgotmplZ")) {
				t.Error("html/template refused a value (ZgotmplZ)")
			}
			path := filepath.Join("testdata", "golden", tt.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got; go test -update rewrites it):\n%s", path, diff)
			}
		})
	}
}

// TestComplianceJSON: the compliance report is in the JSON report, valid
// against the schema, and decodes back to the same report.
func TestComplianceJSON(t *testing.T) {
	schema := reportSchema(t)
	for _, spec := range []string{"docker-cis", "nist-800-53", "pci-dss-4.0"} {
		r := complianceFixture(t, spec)
		doc := render(t, "json", r, Options{})
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s: JSON report does not match the schema:\n%v", spec, err)
		}
		var back report.Report
		if err := json.Unmarshal(doc, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r.Normalized(), &back); diff != "" {
			t.Errorf("%s: JSON does not round-trip (-want +got):\n%s", spec, diff)
		}
	}
	bad := bytes.Replace(render(t, "json", complianceFixture(t, "docker-cis"), Options{}), []byte(`"status": "MANUAL"`), []byte(`"status": "WARN"`), 1)
	if err := schema.Validate(bad); err == nil {
		t.Error("schema accepted a compliance status it does not define")
	}
}

// TestComplianceHostile: text from the image (a misconfiguration's
// evidence) is shown escaped in the compliance table, as everywhere else.
func TestComplianceHostile(t *testing.T) {
	r := reporttest.AlmaLinux()
	r.Misconfigs = append(r.Misconfigs, report.Misconfig{ID: "DD-IMG-003", Title: "update alone", Severity: "MEDIUM",
		Evidence: []string{"history step 3: apt-get update \x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\a"}})
	s, err := compliance.Load("docker-cis")
	if err != nil {
		t.Fatal(err)
	}
	r.Compliance = compliance.Evaluate(s, r.Result(), compliance.Options{Now: time.Now()})
	out := string(render(t, "table", r, Options{}))
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\a") {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	if !strings.Contains(out, `apt-get update \x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07`) {
		t.Errorf("the evidence is not shown escaped:\n%s", out)
	}
}
