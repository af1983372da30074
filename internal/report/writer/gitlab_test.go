package writer

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// gitlabSchemaFile is GitLab's container-scanning report schema 15.1.0
// (testdata/README.md says where it comes from).
const gitlabSchemaFile = "testdata/schema/container-scanning-report-format-15.1.0.json"

func gitlabSchema(t *testing.T) *reporttest.Schema {
	t.Helper()
	const id = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/master/dist/container-scanning-report-format.json"
	s, err := reporttest.CompileSchema(id, map[string]string{id: gitlabSchemaFile})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGitLabSchema: the report of every fixture (Alpine, AlmaLinux with
// secrets and misconfigurations, Debian with a coverage gap, Alpine edge
// with three), and of one with malware and odd values, is valid against
// GitLab's published schema.
func TestGitLabSchema(t *testing.T) {
	schema := gitlabSchema(t)
	reports := fixtures()
	odd := reporttest.Alpine()
	odd.Tool.Version = ""
	odd.Image = report.Image{}
	odd.Distro = nil
	odd.Findings[0].Severity = ""
	odd.Findings[0].Title = strings.Repeat("é", 300)
	odd.Findings[0].CVSS = []finding.CVSS{
		{Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", Source: "osv"},
		{Version: "2.0", Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", Source: "nvd"},
		{Version: "3.1", Vector: "not a vector"},
	}
	odd.Findings[0].References = []string{"javascript:alert(1)", "https://example.com/a", "ftp://example.com/b"}
	odd.Malware = []report.Malware{
		{Kind: vocab.MalwarePackage, ID: "MAL-2025-46969", Aliases: []string{"GHSA-xxxx-yyyy-zzzz"}, Severity: vocab.SevCritical,
			Package: &finding.PackageRef{Name: "evil", Version: "1.0.0", Ecosystem: "npm", PURL: "pkg:npm/evil@1.0.0"}},
		{Kind: vocab.MalwareFile, ID: "EICAR-Test-File", Aliases: []string{"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"},
			Severity: vocab.SevCritical, Path: "/tmp/eicar.com", LayerIndex: 0},
	}
	reports["odd"] = odd
	for name, r := range reports {
		t.Run(name, func(t *testing.T) {
			out := render(t, "gitlab", r, Options{ScanStarted: r.CreatedAt.Add(-3 * time.Second)})
			if err := schema.Validate(out); err != nil {
				t.Errorf("not valid against GitLab's schema: %v\n%s", err, out)
			}
		})
	}
}

// TestGitLabContent: what the AlmaLinux report holds: one entry per
// counted finding, GitLab's severity words, the advisory and its CVEs as
// identifiers, the fix as the solution, the location GitLab groups by,
// stable ids, and messages for what the format cannot hold.
func TestGitLabContent(t *testing.T) {
	r := reporttest.AlmaLinux()
	out := render(t, "gitlab", r, Options{ScanStarted: r.CreatedAt.Add(-90 * time.Second)})
	var doc glReport
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Scan.StartTime != "2026-01-15T09:58:30" || doc.Scan.EndTime != "2026-01-15T10:00:00" || doc.Scan.Type != "container_scanning" || doc.Version != "15.1.0" {
		t.Errorf("scan %+v, version %s", doc.Scan, doc.Version)
	}
	counted := 0
	for _, f := range r.Findings {
		if !f.Suppressed() {
			counted++
		}
	}
	if len(doc.Vulnerabilities) != counted || counted == 0 {
		t.Fatalf("%d entries, want the %d counted findings", len(doc.Vulnerabilities), counted)
	}
	var glibc *glVulnerability
	for i, v := range doc.Vulnerabilities {
		if v.Location.Dependency.Package.Name == "glibc" && v.Identifiers[0].Value == "ALSA-2023:5453" {
			glibc = &doc.Vulnerabilities[i]
		}
	}
	if glibc == nil {
		t.Fatalf("no ALSA-2023:5453 entry for glibc:\n%s", out)
	}
	want := glVulnerability{
		ID: glibc.ID, Name: glibc.Name, Description: glibc.Description, Severity: "High",
		Solution: "Upgrade glibc to 2.34-60.el9_2.7 or later.",
		Location: glLocation{Dependency: glDependency{Package: glPackage{Name: "glibc"}, Version: "2.34-28.el9_0"},
			OperatingSystem: "almalinux 9.0", Image: r.ImageName()},
	}
	got := *glibc
	got.Identifiers, got.Links, got.CVSSVectors = nil, nil, nil
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("glibc entry (-want +got):\n%s", d)
	}
	var ids []string
	for _, id := range glibc.Identifiers {
		ids = append(ids, id.Type+":"+id.Value)
	}
	if !strings.HasPrefix(strings.Join(ids, " "), "osv:ALSA-2023:5453 cve:CVE-2023-4911") {
		t.Errorf("identifiers %v: want the advisory first, then its CVEs", ids)
	}
	if again := render(t, "gitlab", reporttest.AlmaLinux(), Options{}); !strings.Contains(string(again), `"id": "`+glibc.ID+`"`) {
		t.Errorf("the id of the glibc entry changed between two renderings of the same scan")
	}
	var msgs []string
	for _, m := range doc.Scan.Messages {
		msgs = append(msgs, m.Level+": "+m.Value)
	}
	if len(msgs) == 0 || !strings.Contains(msgs[0], "1 secret and 2 misconfigurations found are not in this format") {
		t.Errorf("messages %q: want the secrets and misconfigurations counted", msgs)
	}

	// Debian: nothing found, but not a clean report.
	var deb glReport
	if err := json.Unmarshal(render(t, "gitlab", reporttest.Debian(), Options{}), &deb); err != nil {
		t.Fatal(err)
	}
	if len(deb.Vulnerabilities) != 0 || len(deb.Scan.Messages) != 1 || !strings.Contains(deb.Scan.Messages[0].Value, "Debian:12 (no-advisories") {
		t.Errorf("Debian: %d entries, messages %+v; want none and the coverage gap", len(deb.Vulnerabilities), deb.Scan.Messages)
	}
}

func TestGitLabSeverity(t *testing.T) {
	for in, want := range map[string]string{"CRITICAL": "Critical", "high": "High", "MEDIUM": "Medium", "LOW": "Low", "NEGLIGIBLE": "Info", "UNKNOWN": "Unknown", "": "Unknown", "bogus": "Unknown"} {
		if got := glSeverity(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestGitLabLicences: licence findings have no place in the format, so
// scan.messages counts the ones that count (one here: the other is
// suppressed); a report with none says nothing of them.
func TestGitLabLicences(t *testing.T) {
	var doc glReport
	if err := json.Unmarshal(render(t, "gitlab", licenceReport(), Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range doc.Scan.Messages {
		if strings.Contains(m.Value, "licence") {
			got = append(got, m.Level+": "+m.Value)
		}
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "warn: 1 licence finding found, not in this format") {
		t.Errorf("licence messages %q: want one counting the 1 active licence finding", got)
	}
	var none glReport
	if err := json.Unmarshal(render(t, "gitlab", reporttest.AlmaLinux(), Options{}), &none); err != nil {
		t.Fatal(err)
	}
	for _, m := range none.Scan.Messages {
		if strings.Contains(m.Value, "licence") {
			t.Errorf("a report without licence findings says %q", m.Value)
		}
	}
}
