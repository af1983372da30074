package license

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// TestFindings: one finding per package with a forbidden, restricted or
// reciprocal licence, at its most restrictive category; notice,
// unencumbered and unknown licences are none.
func TestFindings(t *testing.T) {
	layer := &inventory.Layer{Index: 1, DiffID: "sha256:l1"}
	pkg := func(name string, ls ...string) inventory.Package {
		return inventory.Package{ID: name + "@1", Name: name, Version: "1", Ecosystem: inventory.EcoRPM, Licenses: ls, Layer: layer}
	}
	ref := func(name string) finding.PackageRef {
		return finding.PackageRef{ID: name + "@1", Name: name, Version: "1", Ecosystem: inventory.EcoRPM, LayerIndex: 1, LayerDiffID: "sha256:l1"}
	}
	got := Findings([]inventory.Package{
		pkg("bash", "GPLv3+"),
		pkg("libcap", "BSD or GPLv2"),
		pkg("mozjs", "MPLv2.0 and MIT"),
		pkg("agpl", "AGPLv3 and GPLv2+"),
		pkg("zlib", "zlib and Boost"),
		pkg("basesystem", "Public Domain"),
		pkg("odd", "Some Licence"),
		pkg("none"),
	})
	want := []finding.License{
		{Package: ref("bash"), Expression: "GPL-3.0-or-later", Original: "GPLv3+", Licenses: []string{"GPL-3.0-or-later"},
			Category: "restricted", Severity: "HIGH"},
		{Package: ref("libcap"), Expression: "LicenseRef-BSD OR GPL-2.0-only", Original: "BSD or GPLv2", Licenses: []string{"GPL-2.0-only"},
			Category: "restricted", Severity: "HIGH"},
		{Package: ref("mozjs"), Expression: "MPL-2.0 AND MIT", Original: "MPLv2.0 and MIT", Licenses: []string{"MPL-2.0"},
			Category: "reciprocal", Severity: "MEDIUM"},
		{Package: ref("agpl"), Expression: "AGPL-3.0-only AND GPL-2.0-or-later", Original: "AGPLv3 and GPLv2+", Licenses: []string{"AGPL-3.0-only"},
			Category: "forbidden", Severity: "CRITICAL"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}
