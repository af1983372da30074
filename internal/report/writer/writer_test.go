package writer

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/vocab"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func fixtures() map[string]*report.Report {
	return map[string]*report.Report{
		"alpine":    reporttest.Alpine(),
		"almalinux": reporttest.AlmaLinux(),
		// Coverage gaps: none found but Debian unchecked; findings and
		// gaps (Alpine edge unsupported, Go and image files partial).
		"debian":      reporttest.Debian(),
		"alpine-edge": reporttest.AlpineEdge(),
		// Malware: malicious packages (one allowed), known-bad files.
		"malware": reporttest.Malware(),
	}
}

func fakeEnv(k string) string {
	return map[string]string{
		"GITHUB_SHA":        "3f2a9c1d5e7b9a0c2e4f6a8b0c1d3e5f7a9b1c3d",
		"GITHUB_REF":        "refs/heads/main",
		"GITHUB_WORKFLOW":   "scan",
		"GITHUB_JOB":        "image",
		"GITHUB_RUN_ID":     "4242",
		"GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_REPOSITORY": "example/shop",
	}[k]
}

// variants are the golden outputs written for every fixture.
var variants = []struct {
	name, format, ext string
	opt               Options
}{
	{"table", "table", "txt", Options{Width: 160}},
	{"table-color", "table", "ansi.txt", Options{Width: 120, Color: true}},
	{"table-layer", "table", "layer.txt", Options{Width: 140, GroupBy: "layer", ShowSuppressed: true}},
	{"table-sbom", "table", "sbom.txt", Options{Mode: "sbom"}},
	{"json", "json", "json", Options{}},
	{"sarif", "sarif", "sarif", Options{}},
	{"cyclonedx", "cyclonedx", "cdx.json", Options{}},
	{"cyclonedx-sbom", "cyclonedx", "sbom.cdx.json", Options{Mode: "sbom"}},
	{"spdx", "spdx", "spdx.json", Options{}},
	{"cyclonedx-1.7", "cyclonedx-1.7", "cdx17.json", Options{}},
	{"spdx-3.0", "spdx-3.0", "spdx3.json", Options{}},
	{"html", "html", "html", Options{}},
	{"junit", "junit", "junit.xml", Options{}},
	{"markdown", "markdown", "md", Options{}},
	{"github", "github", "github.json", Options{Getenv: fakeEnv}},
	{"gitlab", "gitlab", "gitlab.json", Options{}},
	{"template-csv", "template", "csv", Options{}},
}

func csvTemplate(t testing.TB) string {
	b, err := os.ReadFile("../../../docs/templates/csv.tpl")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func render(t testing.TB, format string, r *report.Report, opt Options) []byte {
	t.Helper()
	if format == "template" && opt.Template == "" {
		opt.Template = csvTemplate(t)
	}
	var buf bytes.Buffer
	if err := Write(&buf, format, r, opt); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for name, r := range fixtures() {
		for _, v := range variants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				got := render(t, v.format, r, v.opt)
				path := filepath.Join("testdata", "golden", name+"."+v.ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
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
				// Same input, same bytes.
				if again := render(t, v.format, r, v.opt); !bytes.Equal(got, again) {
					t.Error("output is not deterministic")
				}
			})
		}
	}
}

func TestWritersDoNotModifyReport(t *testing.T) {
	for name, r := range fixtures() {
		before := cloneReport(t, r)
		for _, v := range variants {
			render(t, v.format, r, v.opt)
		}
		if diff := cmp.Diff(before, r); diff != "" {
			t.Errorf("%s: writers modified the report (-before +after):\n%s", name, diff)
		}
	}
}

func cloneReport(t *testing.T, r *report.Report) *report.Report {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out report.Report
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	// Files are not serialised; keep them as they were.
	for i := range out.Packages {
		out.Packages[i].Files = r.Packages[i].Files
	}
	return &out
}

func reportSchema(t testing.TB) *reporttest.Schema {
	t.Helper()
	const id = "https://github.com/drydock-scan/drydock/docs/json-schema/drydock-report-v1.schema.json"
	s, err := reporttest.CompileSchema(id, map[string]string{id: "../../../docs/json-schema/drydock-report-v1.schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJSONMatchesSchema(t *testing.T) {
	schema := reportSchema(t)
	empty := &report.Report{Tool: reporttest.Tool, CreatedAt: reporttest.CreatedAt, Image: report.Image{Reference: "scratch", Kind: "dir"}}
	empty.Summarise()
	reports := fixtures()
	reports["empty"] = empty
	for name, r := range reports {
		doc := render(t, "json", r, Options{})
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s: JSON report does not match the schema:\n%v", name, err)
		}
		// It decodes back to the same report.
		var back report.Report
		if err := json.Unmarshal(doc, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r.Normalized(), &back); diff != "" && name != "empty" {
			t.Errorf("%s: JSON does not round-trip (-want +got):\n%s", name, diff)
		}
	}
	// The schema rejects what the model cannot hold.
	for _, bad := range []string{
		`{}`,
		strings.Replace(string(render(t, "json", reporttest.Alpine(), Options{})), `"severity": "MEDIUM"`, `"severity": "medium"`, 1),
		strings.Replace(string(render(t, "json", reporttest.Alpine(), Options{})), `"schema_version": 1`, `"schema_version": 1, "extra": true`, 1),
	} {
		if err := schema.Validate([]byte(bad)); err == nil {
			t.Errorf("schema accepted an invalid report: %.80s…", bad)
		}
	}
}

func TestJSONOrder(t *testing.T) {
	r := reporttest.AlmaLinux()
	// Reverse the findings: the output must not depend on input order.
	for i, j := 0, len(r.Findings)-1; i < j; i, j = i+1, j-1 {
		r.Findings[i], r.Findings[j] = r.Findings[j], r.Findings[i]
	}
	var got report.Report
	if err := json.Unmarshal(render(t, "json", r, Options{}), &got); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range got.Findings {
		ids = append(ids, f.Severity+" "+f.Package.Name+" "+f.ID)
	}
	want := []string{
		"HIGH glibc ALSA-2023:5453",
		"HIGH golang.org/x/net GO-2023-2102",
		"HIGH lodash GHSA-35jh-r3h4-6jhm",
		"HIGH stdlib GO-2023-2185",
		"MEDIUM libcap ALSA-2023:5071",
		"MEDIUM ncurses-libs ALSA-2023:6698",
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("finding order (-want +got):\n%s", diff)
	}
}

func TestSARIFMatchesSchema(t *testing.T) {
	const id = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	schema, err := reporttest.CompileSchema(id, map[string]string{id: "testdata/schema/sarif-schema-2.1.0.json"})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range fixtures() {
		for _, opt := range []Options{{}, {ShowSuppressed: true}} {
			doc := render(t, "sarif", r, opt)
			if err := schema.Validate(doc); err != nil {
				t.Errorf("%s: SARIF does not match the schema:\n%v", name, err)
			}
			// GitHub's rules: relative artifact URIs, a security-severity on every rule.
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
						RuleID    string `json:"ruleId"`
						Level     string `json:"level"`
						Locations []struct {
							PhysicalLocation struct {
								ArtifactLocation struct {
									URI string `json:"uri"`
								} `json:"artifactLocation"`
							} `json:"physicalLocation"`
						} `json:"locations"`
						PartialFingerprints map[string]string `json:"partialFingerprints"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(doc, &log); err != nil {
				t.Fatal(err)
			}
			for _, rule := range log.Runs[0].Tool.Driver.Rules {
				if _, ok := rule.Properties["security-severity"]; !ok {
					t.Errorf("%s: rule %s has no security-severity", name, rule.ID)
				}
			}
			for _, res := range log.Runs[0].Results {
				uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI
				if strings.HasPrefix(uri, "/") || strings.Contains(uri, "://") || uri == "" {
					t.Errorf("%s: result %s has a non-relative uri %q", name, res.RuleID, uri)
				}
				if res.PartialFingerprints[fingerprintKey] == "" {
					t.Errorf("%s: result %s has no fingerprint", name, res.RuleID)
				}
			}
		}
	}
	if err := schema.Validate([]byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`)); err == nil {
		t.Error("schema accepted a driver without a name")
	}
}

func TestSARIFLevelsAndScores(t *testing.T) {
	tests := []struct {
		sev        string
		cvss       float64
		level, sec string
	}{
		{vocab.SevCritical, 0, "error", "9.5"},
		{vocab.SevHigh, 0, "error", "8.0"},
		{vocab.SevMedium, 5.5, "warning", "5.5"},
		{vocab.SevMedium, 0, "warning", "5.5"},
		{vocab.SevLow, 0, "note", "2.0"},
		{vocab.SevUnknown, 0, "note", "0.0"},
	}
	for _, tt := range tests {
		if got := sarifLevel(tt.sev); got != tt.level {
			t.Errorf("sarifLevel(%s) = %s, want %s", tt.sev, got, tt.level)
		}
		if got := securitySeverity(tt.sev, tt.cvss); got != tt.sec {
			t.Errorf("securitySeverity(%s, %v) = %q, want %q", tt.sev, tt.cvss, got, tt.sec)
		}
	}
	if got := sarifURI("/var/lib/dpkg/info/libc6:amd64.list"); got != "var/lib/dpkg/info/libc6%3Aamd64.list" {
		t.Errorf("sarifURI = %q", got)
	}
}

func TestTable(t *testing.T) {
	alpine := reporttest.Alpine()
	out := string(render(t, "table", alpine, Options{}))
	for _, want := range []string{
		"Total: 2 (CRITICAL: 0, HIGH: 0, MEDIUM: 2, LOW: 0, UNKNOWN: 0)",
		"busybox     1.35.0-r17  1.35.0-r18  CVE-2023-42366",
		"Policy: PASS (exit code 0)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("table has ANSI escapes without Color")
	}
	if !strings.Contains(string(render(t, "table", alpine, Options{Color: true})), "\x1b[33mMEDIUM\x1b[0m") {
		t.Error("coloured table does not colour MEDIUM")
	}

	alma := reporttest.AlmaLinux()
	out = string(render(t, "table", alma, Options{Width: 120}))
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "  fixed  ") {
			continue
		}
		rows++
		if n := utf8.RuneCountInString(line); n > 120 {
			t.Errorf("finding row of %d runes exceeds the width 120: %q", n, line)
		}
	}
	if rows != 5 || !strings.Contains(out, "Important: g…") {
		t.Errorf("want 5 finding rows with titles cut to the width:\n%s", out)
	}
	for _, want := range []string{"ALSA-2023:5453 [KEV]", "Suppressed: 1 (use --show-suppressed", "Secrets: 1", "Misconfigurations: 2",
		"Policy: FAIL (exit code 1)", "[deny] deny-kev", "Notes:"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "GO-2023-2185") {
		t.Error("suppressed finding listed without ShowSuppressed")
	}
	if !strings.Contains(string(render(t, "table", alma, Options{ShowSuppressed: true})), "vex:not_affected") {
		t.Error("ShowSuppressed does not list the VEX-suppressed finding")
	}
	byLayer := string(render(t, "table", alma, Options{GroupBy: "layer"}))
	for _, want := range []string{"Layer 0  sha256:", "created by: ADD almalinux-9-docker-aarch64-micro.tar.xz", "Layer 2  sha256:"} {
		if !strings.Contains(byLayer, want) {
			t.Errorf("layer table lacks %q:\n%s", want, byLayer)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello world", 6, "hello…"},
		{"héllo wörld", 4, "hél…"},
		{"abc", 1, "…"},
		{"abc", 0, "abc"},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestCSVTemplate(t *testing.T) {
	out := render(t, "template", reporttest.AlmaLinux(), Options{Template: csvTemplate(t)})
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("template output is not CSV: %v\n%s", err, out)
	}
	if len(rows) != 7 {
		t.Fatalf("got %d rows, want a header and 6 findings:\n%s", len(rows), out)
	}
	want := []string{"HIGH", "ALSA-2023:5453", "CVE-2023-4911", "glibc", "rpm", "2.34-28.el9_0", "2.34-60.el9_2.7", "fixed", "false", "true", "7.8", "0", "/var/lib/rpm/rpmdb.sqlite", "Important: glibc security update"}
	if diff := cmp.Diff(want, rows[1]); diff != "" {
		t.Errorf("first row (-want +got):\n%s", diff)
	}
	if got := escapeCSV(`=cmd|' /C calc'!A0`); got != `'=cmd|' /C calc'!A0` {
		t.Errorf("escapeCSV does not defuse a formula: %q", got)
	}
	if got := escapeCSV(`a "b", c`); got != `"a ""b"", c"` {
		t.Errorf("escapeCSV = %q", got)
	}
}

func TestTemplateErrors(t *testing.T) {
	r := reporttest.Alpine()
	for _, tt := range []struct{ tpl, want string }{
		{"", "no template given"},
		{"{{.Nope", "parsing output template"},
		{"{{.NoSuchField}}", "executing output template"},
		{`{{range .Findings}}{{truncate 5 .Title | upper}}|{{severityColor .Severity}}|{{escapeXML "<a&b>"}}|{{toJSON .Aliases}}{{end}}`, ""},
	} {
		var buf bytes.Buffer
		err := Write(&buf, "template", r, Options{Template: tt.tpl})
		if tt.want == "" {
			if err != nil {
				t.Errorf("template %q: %v", tt.tpl, err)
			} else if got := buf.String(); got != "BUSY…|#f9a825|&lt;a&amp;b&gt;|nullBUSY…|#f9a825|&lt;a&amp;b&gt;|null" {
				t.Errorf("template %q gave %q", tt.tpl, got)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("template %q: error %v, want %q", tt.tpl, err, tt.want)
		}
	}
}

func TestJUnit(t *testing.T) {
	out := render(t, "junit", reporttest.AlmaLinux(), Options{})
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(out, &suites); err != nil {
		t.Fatal(err)
	}
	// 5 unsuppressed findings + 1 secret + 2 misconfigurations + 2 policy failures.
	if suites.Failures != 10 {
		t.Errorf("failures = %d, want 10", suites.Failures)
	}
	byName := map[string][2]int{}
	for _, s := range suites.Suites {
		byName[s.Name] = [2]int{s.Failures, s.Skipped}
	}
	for name, want := range map[string][2]int{
		"glibc 2.34-28.el9_0 (rpm)": {1, 0}, "stdlib go1.21.1 (Go)": {0, 1}, "bash 5.1.8-4.el9 (rpm)": {0, 0}, "policy": {2, 0},
	} {
		if got, ok := byName[name]; !ok || got != want {
			t.Errorf("suite %q: failures, skipped = %v (present %v), want %v", name, got, ok, want)
		}
	}
}

func TestGitHubSnapshot(t *testing.T) {
	var snap ghSnapshot
	if err := json.Unmarshal(render(t, "github", reporttest.AlmaLinux(), Options{Getenv: fakeEnv}), &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Sha != fakeEnv("GITHUB_SHA") || snap.Job.ID != "4242" || snap.Detector.Name != "drydock" {
		t.Errorf("snapshot header = %+v %+v %+v", snap.Sha, snap.Job, snap.Detector)
	}
	m, ok := snap.Manifests["var/lib/rpm/rpmdb.sqlite"]
	if !ok {
		t.Fatalf("no manifest for the rpm database; have %v", snap.Manifests)
	}
	if got := m.Resolved["glibc"]; got.PackageURL != "pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64&distro=almalinux-9.0" || got.Relationship != "direct" || got.Scope != "runtime" {
		t.Errorf("glibc resolved as %+v", got)
	}
	if got := snap.Manifests["app/package-lock.json"].Resolved["lodash"].Scope; got != "runtime" {
		t.Errorf("lodash scope = %q", got)
	}
}

func TestWriteErrors(t *testing.T) {
	r := reporttest.Alpine()
	if err := Write(&bytes.Buffer{}, "yaml", r, Options{}); err == nil || !strings.Contains(err.Error(), `unknown output format "yaml"`) {
		t.Errorf("unknown format: %v", err)
	}
	if err := Write(&bytes.Buffer{}, "json", nil, Options{}); err == nil {
		t.Error("nil report accepted")
	}
	for _, f := range Formats() {
		opt := Options{Template: "{{.Tool.Name}}", Getenv: fakeEnv}
		if err := Write(failingWriter{}, f, r, opt); err == nil {
			t.Errorf("%s: a failing writer gave no error", f)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestMarkdown(t *testing.T) {
	out := string(render(t, "markdown", reporttest.AlmaLinux(), Options{}))
	for _, want := range []string{"**Policy: ❌ FAIL** (exit code 1)", "| 🟧 HIGH | 3 |", "[ALSA-2023:5453](https://errata.almalinux.org/9/ALSA-2023-5453.html) 🔥", "### Secrets"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestHTMLEscapes(t *testing.T) {
	r := reporttest.Alpine()
	r.Findings[0].Title = `</script><script>alert(1)</script><img src=x onerror=alert(2)>`
	r.Packages[0].Name = `<b>evil</b>`
	out := string(render(t, "html", r, Options{}))
	if strings.Contains(out, "<script>alert(1)") || strings.Contains(out, "<img src=x") || strings.Contains(out, "<b>evil</b>") {
		t.Error("HTML report does not escape hostile strings")
	}
	if regexp.MustCompile(`(?i)<(link|script)[^>]+(src|href)=`).MatchString(out) || strings.Contains(out, "http://") && strings.Contains(out, "<link") {
		t.Error("HTML report references external resources")
	}
}

func FuzzWriters(f *testing.F) {
	f.Add("busybox", "CVE-2023-42366", "heap overflow", "/lib/apk/db/installed", "MEDIUM")
	f.Add("<x>", "a|b", "\"quoted\",\n=1+1", "/a b/c:d", "")
	f.Add("ü", "", "\x00\xff", "", "critical")
	f.Fuzz(func(t *testing.T, pkg, id, title, path, sev string) {
		r := reporttest.AlmaLinux()
		r.Findings[0].Package.Name = pkg
		r.Findings[0].ID = id
		r.Findings[0].Title = title
		r.Findings[0].Package.Path = path
		r.Findings[0].Severity = sev
		r.Packages[0].Name = pkg
		r.Secrets[0].Path = path
		for _, v := range variants {
			if v.format == "cyclonedx" || v.format == "spdx" {
				continue // the sbom package's FuzzDecode re-encodes arbitrary reports
			}
			opt := v.opt
			if v.format == "template" {
				opt.Template = "{{range .Findings}}{{escapeCSV .Title}},{{truncate 3 .ID}}\n{{end}}"
			}
			var buf bytes.Buffer
			if err := Write(&buf, v.format, r, opt); err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
		}
	})
}

// TestHTMLInBrowser renders the AlmaLinux report in headless Chromium: the
// script must list the findings, the filter (here from the URL) must narrow
// them, and the screenshot must not be blank. Skipped without Chromium
// unless CI is set.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (apt-get install chromium)")
		}
		t.Skip("chromium is not installed")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, render(t, "html", reporttest.AlmaLinux(), Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args := append([]string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
			"--user-data-dir=" + filepath.Join(dir, "profile"),
		}, extra...)
		cmd := exec.CommandContext(ctx, browser, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", browser, extra, err, stderr.String())
		}
		return out
	}
	rowsIn := func(dom []byte) int {
		m := regexp.MustCompile(`(?s)<tbody id="findings-body">(.*?)</tbody>`).FindSubmatch(dom)
		if m == nil {
			t.Fatalf("no findings table in the DOM:\n%.2000s", dom)
		}
		return bytes.Count(m[1], []byte("<tr>"))
	}

	dom := run("--dump-dom", "file://"+page)
	if n := rowsIn(dom); n != 5 {
		t.Errorf("the script rendered %d finding rows, want 5", n)
	}
	for _, want := range []string{"showing 5 of 5", "ALSA-2023:5453", ">KEV<"} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	dom = run("--dump-dom", "file://"+page+"#q=glibc")
	if n := rowsIn(dom); n != 1 || !bytes.Contains(dom, []byte("showing 1 of 5")) {
		t.Errorf("filter q=glibc left %d rows, want 1", n)
	}

	// The report with real corners, sorted by package from the URL: the
	// headers say so, the lockfile copy of lodash is marked, the whole
	// PyPI description is the clamped title's tooltip.
	corners := filepath.Join(dir, "corners.html")
	if err := os.WriteFile(corners, render(t, "html", cornerReport(), Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	dom = run("--dump-dom", "file://"+corners+"#sort=pkg")
	var pkgs []string
	body := regexp.MustCompile(`(?s)<tbody id="findings-body">(.*?)</tbody>`).Find(dom)
	for _, m := range regexp.MustCompile(`<td><b>([^<]*)</b>`).FindAllSubmatch(body, -1) {
		pkgs = append(pkgs, string(m[1]))
	}
	wantPkgs := []string{"glibc", "golang.org/x/crypto", "golang.org/x/net", "libcap", "lodash", "lodash", "ncurses-libs", "requests"}
	if diff := cmp.Diff(wantPkgs, pkgs); diff != "" {
		t.Errorf("rows sorted by #sort=pkg (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		`data-sort="pkg" aria-sort="ascending"`, `data-sort="sev" aria-sort="none"`,
		`<b>lodash</b><span class="badge lock">lockfile</span>`,
		`<div class="clamp" title="Requests is a HTTP library. Since Requests 2.3.0,`,
	} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("rendered DOM of the corners report lacks %q", want)
		}
	}

	shot := filepath.Join(dir, "report.png")
	run("--screenshot="+shot, "--window-size=1280,2000", "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding the screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 1000 || b.Dy() < 1500 {
		t.Fatalf("screenshot is %dx%d", b.Dx(), b.Dy())
	}
	nonWhite, total := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			total++
			if r>>8 < 235 || g>>8 < 235 || bl>>8 < 235 {
				nonWhite++
			}
		}
	}
	if frac := float64(nonWhite) / float64(total); frac < 0.05 {
		t.Errorf("screenshot is mostly blank: %.1f%% non-white pixels", 100*frac)
	}
	if keep := os.Getenv("DRYDOCK_KEEP_SCREENSHOT"); keep != "" {
		if b, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(keep, b, 0o644)
		}
	}
}
