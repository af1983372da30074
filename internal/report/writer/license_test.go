package writer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// licenceReport is the AlmaLinux fixture with licence findings: bash under
// GPL-3.0 and a suppressed reciprocal one.
func licenceReport() *report.Report {
	r := reporttest.AlmaLinux()
	p := r.Packages[0]
	ref := finding.PackageRef{ID: p.ID, Name: "bash", Version: "5.1.8-4.el9", Ecosystem: p.Ecosystem, LayerIndex: 0, LayerDiffID: "sha256:aa"}
	r.Licenses = []report.License{
		{Package: finding.PackageRef{ID: "mozjs@1", Name: "mozjs", Version: "1", Ecosystem: p.Ecosystem, LayerIndex: 1},
			Expression: "MPL-2.0 AND MIT", Original: "MPLv2.0 and MIT", Licenses: []string{"MPL-2.0"},
			Category: "reciprocal", Severity: "MEDIUM",
			Annotations: []finding.Annotation{{Kind: vocab.AnnotationSuppressed, Source: ".trivyignore.yaml", Reason: "accepted"}}},
		{Package: ref, Expression: "GPL-3.0-or-later", Original: "GPLv3+", Licenses: []string{"GPL-3.0-or-later"},
			Category: "restricted", Severity: "HIGH"},
	}
	r.Scanners = append(r.Scanners, "license")
	r.Summarise()
	return r
}

// TestLicenceFindingsWritten: licence findings are in the JSON report (valid
// against the schema, round-tripping) and in their own table section.
func TestLicenceFindingsWritten(t *testing.T) {
	r := licenceReport()
	if r.Summary.Licenses != 1 {
		t.Errorf("summary licenses = %d, want 1 (one suppressed)", r.Summary.Licenses)
	}
	doc := render(t, "json", r, Options{})
	if err := reportSchema(t).Validate(doc); err != nil {
		t.Fatalf("JSON report does not match the schema:\n%v", err)
	}
	var back report.Report
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r.Normalized().Licenses, back.Licenses); d != "" {
		t.Errorf("licenses do not round-trip (-want +got):\n%s", d)
	}
	if back.Licenses[0].Package.Name != "bash" {
		t.Errorf("licences not ordered by severity: %s first", back.Licenses[0].Package.Name)
	}
	// The schema refuses a category that is no finding.
	bad := strings.Replace(string(doc), `"category": "restricted"`, `"category": "notice"`, 1)
	if err := reportSchema(t).Validate([]byte(bad)); err == nil {
		t.Error("schema accepted a notice licence finding")
	}

	table := string(render(t, "table", r, Options{Width: 200}))
	for _, want := range []string{"Licences: 1 (1 suppressed", "restricted", "bash 5.1.8-4.el9", "GPL-3.0-or-later", "GPLv3+"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "MPLv2.0") {
		t.Errorf("table lists the suppressed licence finding:\n%s", table)
	}
	shown := string(render(t, "table", r, Options{Width: 200, ShowSuppressed: true}))
	if !strings.Contains(shown, "suppressed") || !strings.Contains(shown, "MPL-2.0 AND MIT") {
		t.Errorf("table with suppressed shown lacks the suppressed licence:\n%s", shown)
	}
}
