package sbom

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// TestLicencesWrittenAsSPDX: CycloneDX and SPDX carry the licences read as
// SPDX (internal/license), not the strings RPM wrote; CycloneDX keeps the
// strings in drydock:license properties (TestRoundTrip decodes them back).
func TestLicencesWrittenAsSPDX(t *testing.T) {
	r := reporttest.AlmaLinux()
	type lic struct{ ID, Name, Expression, Original string }
	got := map[string]lic{}
	for _, c := range *CycloneDX(r, false).Components {
		if c.Licenses == nil || len(*c.Licenses) != 1 {
			continue
		}
		l := (*c.Licenses)[0]
		var x lic
		x.Expression = l.Expression
		if l.License != nil {
			x.ID, x.Name = l.License.ID, l.License.Name
		}
		if c.Properties != nil {
			for _, p := range *c.Properties {
				if p.Name == PropLicense {
					x.Original = p.Value
				}
			}
		}
		got[c.Name] = x
	}
	want := map[string]lic{
		"bash":   {ID: "GPL-3.0-or-later", Original: "GPLv3+"},
		"libcap": {Expression: "LicenseRef-BSD OR GPL-2.0-only", Original: "BSD or GPLv2"},
		"tzdata": {Name: "Public Domain"}, // no SPDX id: the string, as written
		"lodash": {ID: "MIT"},             // written as it was: no property
	}
	for name, w := range want {
		if d := cmp.Diff(w, got[name]); d != "" {
			t.Errorf("CycloneDX %s (-want +got):\n%s", name, d)
		}
	}

	spdxDoc := SPDX(r)
	declared := map[string]string{}
	for _, p := range spdxDoc.Packages {
		declared[p.PackageName] = p.PackageLicenseDeclared
	}
	for name, w := range map[string]string{"bash": "GPL-3.0-or-later", "libcap": "LicenseRef-BSD OR GPL-2.0-only", "nodejs": "MIT AND Apache-2.0 AND ISC AND LicenseRef-BSD"} {
		if declared[name] != w {
			t.Errorf("SPDX %s licenseDeclared = %q, want %q", name, declared[name], w)
		}
	}
	refs := map[string]string{}
	for _, o := range spdxDoc.OtherLicenses {
		refs[o.LicenseIdentifier] = o.LicenseName
	}
	if refs["LicenseRef-BSD"] != "BSD" || refs["LicenseRef-GPLv3-plus-with-exceptions"] != "GPLv3+ with exceptions" {
		t.Errorf("hasExtractedLicensingInfos: %v", refs)
	}
}
