package writer

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/vocab"
)

const (
	debianReason = `the database has no advisories for Debian:12 (debian 12.15): run "drydock db update" with a source that has them`
	edgeReason   = `the database has no advisories for Alpine:edge (alpine edge): run "drydock db update" with a source that has them`
	secdbReason  = "the advisory feed alpine-secdb is missing from this database: turned off"
	olReason     = "no advisory source for ol 9.4: its OS packages were not matched"
	helperReason = `/usr/local/bin/helper: lang/go-binary: reading executable "/usr/local/bin/helper": truncated or corrupt ELF: unexpected EOF`
	jarReason    = "/opt/model/model-server.jar: not read: file size 157286400 exceeds the limit of 104857600 bytes"
)

// TestCoverageGapsAreShown: where the database could not cover what the
// scan found, every human format says so in a warning that cannot be
// missed: instead of "No vulnerabilities found" when nothing was found, next
// to the findings when some were.
func TestCoverageGapsAreShown(t *testing.T) {
	tests := []struct {
		name, format string
		r            *report.Report
		opt          Options
		want         []string
		notWant      []string
	}{
		{
			name: "table, nothing found", format: "table", r: reporttest.Debian(), opt: Options{Width: 200},
			want: []string{
				"\nWARNING: No vulnerabilities found in what could be checked — but coverage is incomplete:\n\n" +
					"ECOSYSTEM  STATUS         PACKAGES  REASON\n" +
					"Debian:12  no-advisories  16        " + debianReason + "\n\n" +
					"Use --policy builtin:complete-coverage to fail the scan on any coverage gap.\n",
			},
			notWant: []string{"No vulnerabilities found.\n"},
		},
		{
			name: "table, findings and gaps", format: "table", r: reporttest.AlpineEdge(), opt: Options{Width: 250},
			want: []string{
				"golang.org/x/net  v0.15.0",
				"\nWARNING: Coverage is incomplete — there may be more vulnerabilities than listed:\n\n" +
					"ECOSYSTEM    STATUS         PACKAGES  REASON\n" +
					"Alpine:edge  no-advisories  14        " + edgeReason + " (+1 more)\n" +
					"Go           partial        3         " + helperReason + "\n" +
					"image files  partial        0         " + jarReason + "\n\n" +
					"Use --policy builtin:complete-coverage to fail the scan on any coverage gap.\n",
			},
			notWant: []string{"No vulnerabilities found"},
		},
		{
			name: "a narrow table cuts no reason", format: "table", r: reporttest.Debian(), opt: Options{Width: 80},
			want: []string{"Debian:12  no-advisories  16        " + debianReason + "\n"},
		},
		{
			name: "coloured table", format: "table", r: reporttest.Debian(), opt: Options{Color: true},
			want: []string{"\x1b[1;33mWARNING: No vulnerabilities found in what could be checked — but coverage is incomplete:\x1b[0m"},
		},
		{
			name: "table by layer", format: "table", r: reporttest.AlpineEdge(), opt: Options{GroupBy: "layer"},
			want: []string{"WARNING: Coverage is incomplete", "Alpine:edge  no-advisories  14"},
		},
		{
			name: "markdown, nothing found", format: "markdown", r: reporttest.Debian(),
			want: []string{
				"> [!WARNING]\n" +
					"> **No vulnerabilities found in what could be checked — but coverage is incomplete:**\n>\n" +
					"> - **Debian:12**: no-advisories, 16 packages — the database has no advisories for Debian:12 (debian 12.15): run \"drydock db update\" with a source that has them\n>\n" +
					"> Use `--policy builtin:complete-coverage` to fail the scan on any coverage gap.\n",
			},
			notWant: []string{"No vulnerabilities found. 🎉"},
		},
		{
			name: "markdown, findings and gaps", format: "markdown", r: reporttest.AlpineEdge(),
			want: []string{
				"> **Coverage is incomplete — there may be more vulnerabilities than listed:**",
				"> - **Alpine:edge**: no-advisories, 14 packages — " + edgeReason + " (+1 more)\n",
				"> - **Go**: partial, 3 packages — /usr/local/bin/helper: lang/go-binary: reading executable \"/usr/local/bin/helper\": truncated or corrupt ELF: unexpected EOF\n",
				"> - **image files**: partial, 0 packages — " + jarReason + "\n",
				"### Top findings",
			},
		},
		{
			name: "table, an OS without an advisory source", format: "table", r: oracleReport(), opt: Options{Width: 160},
			want: []string{
				"WARNING: Coverage is incomplete — there may be more vulnerabilities than listed:\n\n" +
					"ECOSYSTEM  STATUS       PACKAGES  REASON\n" +
					"ol 9.4     unsupported  10        " + olReason + "\n",
			},
		},
		{
			name: "markdown, an OS without an advisory source", format: "markdown", r: oracleReport(),
			want: []string{"> - **ol 9.4**: unsupported, 10 packages — " + olReason + "\n"},
		},
		{
			name: "html, an OS without an advisory source", format: "html", r: oracleReport(),
			want: []string{`<td><b>ol 9.4</b></td><td><span class="badge" style="margin-left: 0; background: #ffe0b2; color: #bf360c">unsupported</span></td><td>10</td><td>` + olReason + `</td>`},
		},
		{
			name: "junit, an OS without an advisory source", format: "junit", r: oracleReport(),
			want: []string{`<testcase name="coverage ol 9.4" classname="coverage">`, `type="unsupported">` + olReason + "&#xA;" + gapHint + "</failure>"},
		},
		{
			name: "sarif, an OS without an advisory source", format: "sarif", r: oracleReport(),
			want: []string{`"text": "Incomplete advisory coverage of ol 9.4 (unsupported, 10 packages): ` + olReason + `"`},
		},
		{
			name: "html, nothing found", format: "html", r: reporttest.Debian(),
			want: []string{
				`<section class="coverage" id="coverage" role="alert" style="`,
				`<h2 style="color: #bf360c">⚠️ No vulnerabilities found in what could be checked — but coverage is incomplete</h2>`,
				`<td><b>Debian:12</b></td><td><span class="badge" style="margin-left: 0; background: #ffe0b2; color: #bf360c">no-advisories</span></td><td>16</td><td>the database has no advisories for Debian:12 (debian 12.15): run &#34;drydock db update&#34; with a source that has them</td>`,
				`<div class="value" style="color: #ef6c00">1</div><div class="label">Coverage gaps</div>`,
				`<code>--policy builtin:complete-coverage</code>`,
			},
		},
		{
			name: "html, findings and gaps", format: "html", r: reporttest.AlpineEdge(),
			want: []string{
				// Every reason is on the page, the first in the row.
				`run &#34;drydock db update&#34; with a source that has them<ul style="margin: 4px 0 0; padding-left: 18px"><li>` + secdbReason + `</li></ul></td>`,
				`⚠️ Coverage is incomplete — there may be more vulnerabilities than listed</h2>`,
				`<td><b>image files</b></td><td><span class="badge" style="margin-left: 0; background: #ffe0b2; color: #bf360c">partial</span></td><td>0</td>`,
				`<div class="value" style="color: #ef6c00">3</div><div class="label">Coverage gaps</div>`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(render(t, tt.format, tt.r, tt.opt))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks\n%s\n--- output:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestCoverageGapsInHTMLAreVisible: the warning is neither hidden nor
// folded, and comes before everything else on the page.
func TestCoverageGapsInHTMLAreVisible(t *testing.T) {
	out := string(render(t, "html", reporttest.Debian(), Options{}))
	start := strings.Index(out, `<section class="coverage"`)
	if start < 0 {
		t.Fatal("no coverage section")
	}
	section := out[start : start+strings.Index(out[start:], "</section>")]
	for _, bad := range []string{"hidden", "<details", "display: none", "display:none"} {
		if strings.Contains(section, bad) {
			t.Errorf("coverage section has %q:\n%s", bad, section)
		}
	}
	if summary := strings.Index(out, `<div class="cards" id="summary">`); summary < start {
		t.Error("coverage warning comes after the summary cards")
	}
	if !strings.Contains(section, "border-left: 6px solid #ef6c00") {
		t.Error("the coverage warning is not styled as one")
	}
}

func TestCoverageGapsInJUnit(t *testing.T) {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure"`
	}
	type suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	var doc struct {
		Tests    int     `xml:"tests,attr"`
		Failures int     `xml:"failures,attr"`
		Suites   []suite `xml:"testsuite"`
	}
	if err := xml.Unmarshal(render(t, "junit", reporttest.AlpineEdge(), Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	var got *suite
	for i := range doc.Suites {
		if doc.Suites[i].Name == "coverage" {
			got = &doc.Suites[i]
		}
	}
	if got == nil {
		t.Fatalf("no coverage suite in %+v", doc.Suites)
	}
	hint := "\nUse --policy builtin:complete-coverage to fail the scan on any coverage gap."
	want := &suite{Name: "coverage", Tests: 3, Failures: 3, Cases: []testcase{
		{Name: "coverage Alpine:edge", Classname: "coverage", Failure: &failure{
			Message: "advisory coverage of Alpine:edge is incomplete: no-advisories, 14 packages", Type: vocab.CoverageNoAdvisories,
			Text: edgeReason + "\n" + secdbReason + hint}},
		{Name: "coverage Go", Classname: "coverage", Failure: &failure{
			Message: "advisory coverage of Go is incomplete: partial, 3 packages", Type: vocab.CoveragePartial,
			Text: helperReason + hint}},
		{Name: "coverage image files", Classname: "coverage", Failure: &failure{
			Message: "advisory coverage of image files is incomplete: partial, 0 packages", Type: vocab.CoveragePartial,
			Text: jarReason + hint}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("coverage suite (-want +got):\n%s", diff)
	}
	// 2 findings, 3 gaps, 1 policy failure.
	if doc.Failures != 6 {
		t.Errorf("failures = %d, want 6", doc.Failures)
	}
}

func TestCoverageGapsInSARIF(t *testing.T) {
	r := reporttest.AlpineEdge()
	doc := render(t, "sarif", r, Options{})
	const id = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	schema, err := reporttest.CompileSchema(id, map[string]string{id: "testdata/schema/sarif-schema-2.1.0.json"})
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("SARIF does not match the schema:\n%v", err)
	}
	type ref struct {
		ID    string `json:"id"`
		Index *int   `json:"index"`
	}
	type notification struct {
		Level      string `json:"level"`
		Message    struct{ Text string }
		Descriptor *ref           `json:"descriptor"`
		Properties map[string]any `json:"properties"`
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Notifications []struct {
						ID string `json:"id"`
					} `json:"notifications"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful        bool           `json:"executionSuccessful"`
				ToolExecutionNotifications []notification `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Properties struct {
				Coverage     []report.Coverage `json:"coverage"`
				CoverageGaps int               `json:"coverageGaps"`
			} `json:"properties"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(doc, &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if diff := cmp.Diff(r.Coverage, run.Properties.Coverage); diff != "" {
		t.Errorf("run.properties.coverage (-want +got):\n%s", diff)
	}
	if run.Properties.CoverageGaps != 3 {
		t.Errorf("run.properties.coverageGaps = %d, want 3", run.Properties.CoverageGaps)
	}
	if len(run.Tool.Driver.Notifications) != 1 || run.Tool.Driver.Notifications[0].ID != "coverage-gap" {
		t.Errorf("driver.notifications = %+v, want the coverage-gap descriptor", run.Tool.Driver.Notifications)
	}
	var gaps []string
	for _, n := range run.Invocations[0].ToolExecutionNotifications {
		if n.Descriptor == nil || n.Descriptor.ID != "coverage-gap" {
			continue
		}
		if n.Level != "warning" || n.Descriptor.Index == nil || *n.Descriptor.Index != 0 {
			t.Errorf("gap notification %+v: want level warning, descriptor index 0", n)
		}
		gaps = append(gaps, n.Message.Text)
	}
	want := []string{
		"Incomplete advisory coverage of Alpine:edge (no-advisories, 14 packages): " + edgeReason + " (+1 more)",
		"Incomplete advisory coverage of Go (partial, 3 packages): " + helperReason,
		"Incomplete advisory coverage of image files (partial, 0 packages): " + jarReason,
	}
	if diff := cmp.Diff(want, gaps); diff != "" {
		t.Errorf("gap notifications (-want +got):\n%s", diff)
	}
}

// oracleReport is the AlmaLinux image as if it were built on Oracle Linux
// 9.4, which has no advisory source: its rpm packages are not matched
// (unsupported), its language packages are.
func oracleReport() *report.Report {
	r := reporttest.AlmaLinux()
	r.Distro = &inventory.Distro{ID: "ol", VersionID: "9.4", Release: "9", PrettyName: "Oracle Linux Server 9.4",
		IDLike: []string{"fedora"}, Source: "/etc/os-release"}
	var fs []finding.Finding
	for _, f := range r.Findings {
		if f.Package.Ecosystem != inventory.EcoRPM {
			fs = append(fs, f)
		}
	}
	r.Findings = fs
	r.Coverage = []report.Coverage{
		{Ecosystem: "ol 9.4", OS: true, Packages: 10, Status: vocab.CoverageUnsupported, Reasons: []string{olReason}},
		{Ecosystem: "Go", Packages: 3, Advisories: 4213, Status: vocab.CoverageComplete},
	}
	r.Verdict = &report.Verdict{Pass: true}
	r.Summarise()
	return r
}

// withCompleteCoverage is r as a scan with complete coverage reports it.
func withCompleteCoverage(r *report.Report) *report.Report {
	for _, eco := range []string{"Alpine:v3.16", "AlmaLinux:9", "Go", "npm"} {
		r.Coverage = append(r.Coverage, report.Coverage{Ecosystem: eco, OS: strings.Contains(eco, ":"), Packages: 3, Advisories: 1200, Status: vocab.CoverageComplete})
	}
	r.Summarise()
	return r
}

// TestCompleteCoveragePrintsNothingExtra: complete coverage leaves the
// human formats as they were (the goldens have no coverage at all); only
// the data formats carry it.
func TestCompleteCoveragePrintsNothingExtra(t *testing.T) {
	for name, r := range map[string]*report.Report{
		"alpine": withCompleteCoverage(reporttest.Alpine()), "almalinux": withCompleteCoverage(reporttest.AlmaLinux()),
	} {
		for _, v := range variants {
			switch v.format {
			case "json", "sarif", "cyclonedx", "spdx":
				continue
			}
			t.Run(name+"/"+v.name, func(t *testing.T) {
				want, err := os.ReadFile(filepath.Join("testdata", "golden", name+"."+v.ext))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), string(render(t, v.format, r, v.opt))); diff != "" {
					t.Errorf("complete coverage changed the output (-golden +got):\n%s", diff)
				}
			})
		}
	}
}
