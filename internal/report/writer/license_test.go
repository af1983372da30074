package writer

import (
	"encoding/json"
	"os"
	"path/filepath"
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

// TestLicenceFindingsInReports: licence findings are in the HTML, SARIF and
// Markdown reports (the suppressed one only where suppressed findings are
// shown, and marked), SARIF with one rule per licence category, valid
// against the SARIF schema, and without security-severity (GitHub treats a
// rule with one as a security rule: a licence is not one). Golden files
// (testdata/golden/licence.*) pin the whole output; -update rewrites them.
func TestLicenceFindingsInReports(t *testing.T) {
	r := licenceReport()
	for _, v := range []struct{ format, ext string }{{"html", "html"}, {"sarif", "sarif"}, {"markdown", "md"}} {
		got := render(t, v.format, r, Options{})
		path := filepath.Join("testdata", "golden", "licence."+v.ext)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if d := cmp.Diff(string(want), string(got)); d != "" {
			t.Errorf("%s differs from the golden file (-want +got):\n%s", path, d)
		}
	}

	md := string(render(t, "markdown", r, Options{}))
	for _, want := range []string{"📜 1 licence finding (1 suppressed", "### Licences", "| restricted | bash 5.1.8-4.el9 |", "`GPL-3.0-or-later`"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "mozjs") {
		t.Errorf("Markdown lists the suppressed licence finding:\n%s", md)
	}
	if md := string(render(t, "markdown", r, Options{ShowSuppressed: true})); !strings.Contains(md, "mozjs 1") {
		t.Errorf("Markdown with suppressed shown lacks mozjs:\n%s", md)
	}

	page := string(render(t, "html", r, Options{}))
	_, rest, ok := strings.Cut(page, `<section id="licenses">`)
	if !ok {
		t.Fatalf("HTML has no licences section:\n%s", page)
	}
	body, _, _ := strings.Cut(rest, "</section>")
	for _, want := range []string{"Licences", "restricted", "<b>bash</b> 5.1.8-4.el9", "GPL-3.0-or-later", "GPLv3&#43;",
		`<details class="suppressed"><summary>1 suppressed licence finding</summary>`, "MPL-2.0 AND MIT", "accepted"} {
		if !strings.Contains(body, want) {
			t.Errorf("HTML licences section lacks %q:\n%s", want, body)
		}
	}

	doc := render(t, "sarif", r, Options{ShowSuppressed: true})
	const id = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	schema, err := reporttest.CompileSchema(id, map[string]string{id: "testdata/schema/sarif-schema-2.1.0.json"})
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("SARIF does not match the schema:\n%v", err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID       string                `json:"ruleId"`
				Level        string                `json:"level"`
				Message      struct{ Text string } `json:"message"`
				Suppressions []json.RawMessage     `json:"suppressions"`
				Locations    []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(doc, &log); err != nil {
		t.Fatal(err)
	}
	type res struct {
		Rule, Level, Message string
		Suppressed           bool
	}
	var got []res
	for _, x := range log.Runs[0].Results {
		if strings.HasPrefix(x.RuleID, "license-") {
			got = append(got, res{x.RuleID, x.Level, x.Message.Text, len(x.Suppressions) > 0})
		}
	}
	want := []res{
		{"license-restricted", "error", "bash 5.1.8-4.el9 is under GPL-3.0-or-later (restricted: GPL-3.0-or-later)\nAs its metadata writes it: GPLv3+", false},
		{"license-reciprocal", "warning", "mozjs 1 is under MPL-2.0 AND MIT (reciprocal: MPL-2.0)\nAs its metadata writes it: MPLv2.0 and MIT", true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("licence results (-want +got):\n%s", d)
	}
	rules := 0
	for _, rule := range log.Runs[0].Tool.Driver.Rules {
		if !strings.HasPrefix(rule.ID, "license-") {
			continue
		}
		rules++
		if _, ok := rule.Properties["security-severity"]; ok {
			t.Errorf("rule %s has a security-severity: GitHub would treat a licence as a security result", rule.ID)
		}
		if tags, _ := rule.Properties["tags"].([]any); len(tags) == 0 || tags[0] != "license" {
			t.Errorf("rule %s tags = %v, want license first", rule.ID, rule.Properties["tags"])
		}
	}
	if rules != 2 {
		t.Errorf("%d licence rules, want 2 (restricted, reciprocal)", rules)
	}
	// Without ShowSuppressed the suppressed finding is left out, as for
	// the other kinds.
	if s := string(render(t, "sarif", r, Options{})); strings.Contains(s, "mozjs") {
		t.Error("SARIF lists the suppressed licence finding without ShowSuppressed")
	}
}
