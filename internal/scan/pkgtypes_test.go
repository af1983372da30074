package scan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func TestKeepPackageTypes(t *testing.T) {
	pkg := func(eco, name string) finding.PackageRef { return finding.PackageRef{Ecosystem: eco, Name: name} }
	fresh := func() *result.Result {
		return &result.Result{
			Packages: []inventory.Package{{Name: "busybox", Ecosystem: inventory.EcoAPK}, {Name: "lodash", Ecosystem: inventory.EcoNPM}},
			Findings: []finding.Finding{
				{ID: "CVE-2023-42366", Package: pkg(inventory.EcoAPK, "busybox")},
				{ID: "GHSA-35jh-r3h4-6jhm", Package: pkg(inventory.EcoNPM, "lodash")},
			},
			Malware: []finding.Malware{{ID: "MAL-2024-1", Package: &finding.PackageRef{Ecosystem: inventory.EcoNPM, Name: "evil"}}},
			Coverage: []result.Coverage{
				{Ecosystem: "Alpine:v3.16", OS: true, Packages: 1, Advisories: 40, Status: vocab.CoverageComplete},
				{Ecosystem: "npm", Packages: 1, Advisories: 9, Status: vocab.CoverageNoAdvisories, Reasons: []string{"no npm advisories"}},
				{Ecosystem: match.FilesEcosystem, Status: vocab.CoveragePartial, Reasons: []string{"big.jar: over the size limit"}},
				{Ecosystem: "cisa-kev", Status: vocab.CoveragePartial, Reasons: []string{"no KEV"}},
			},
		}
	}
	ids := func(r *result.Result) (out []string) {
		for _, f := range r.Findings {
			out = append(out, f.ID)
		}
		return out
	}
	statuses := func(r *result.Result) map[string]string {
		out := map[string]string{}
		for _, c := range r.Coverage {
			out[c.Ecosystem] = c.Status
		}
		return out
	}
	for _, tc := range []struct {
		keep     []string
		findings []string
		coverage map[string]string
	}{
		{[]string{"os", "library"}, []string{"CVE-2023-42366", "GHSA-35jh-r3h4-6jhm"},
			map[string]string{"Alpine:v3.16": "complete", "npm": "no-advisories", "image files": "partial", "cisa-kev": "partial"}},
		{[]string{"os"}, []string{"CVE-2023-42366"},
			map[string]string{"Alpine:v3.16": "complete", "npm": "excluded", "image files": "partial", "cisa-kev": "partial"}},
		{[]string{"library"}, []string{"GHSA-35jh-r3h4-6jhm"},
			map[string]string{"Alpine:v3.16": "excluded", "npm": "no-advisories", "image files": "partial", "cisa-kev": "partial"}},
		{nil, nil,
			map[string]string{"Alpine:v3.16": "excluded", "npm": "excluded", "image files": "partial", "cisa-kev": "partial"}},
	} {
		r := fresh()
		if err := KeepPackageTypes(r, tc.keep); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.findings, ids(r)); d != "" {
			t.Errorf("%v: findings (-want +got):\n%s", tc.keep, d)
		}
		if d := cmp.Diff(tc.coverage, statuses(r)); d != "" {
			t.Errorf("%v: coverage (-want +got):\n%s", tc.keep, d)
		}
		if len(r.Packages) != 2 || len(r.Malware) != 1 {
			t.Errorf("%v: %d packages, %d malware; want both kept (2, 1)", tc.keep, len(r.Packages), len(r.Malware))
		}
		for _, c := range r.Coverage {
			if c.Status == vocab.CoverageExcluded && (len(c.Reasons) != 1 || c.Packages != 1) {
				t.Errorf("%v: excluded %s: %d packages, reasons %q; want its count kept and one reason", tc.keep, c.Ecosystem, c.Packages, c.Reasons)
			}
		}
	}
	if err := KeepPackageTypes(fresh(), []string{"os", "lib"}); err == nil {
		t.Error("unknown type lib accepted")
	}
}
