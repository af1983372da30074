package license

import (
	"strings"
	"testing"
)

// FuzzNormalize: any licence string is read without a panic; the
// expression is empty only for an empty string, and SPDX only when every
// licence is on the SPDX list.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"GPLv2+", "BSD or GPLv2", "GPL-2+ or Artistic, and BSD-3-clause", "GPLv2+ with exceptions",
		"(MIT OR Apache-2.0) AND", "LicenseRef-Custom", "licenseref-x y", "GFDL-1.3-no-invariants-or-later", "((((", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if (n.Expression == "") != (strings.TrimSpace(n.Original) == "") {
			t.Fatalf("Normalize(%q): expression %q, original %q", s, n.Expression, n.Original)
		}
		for _, l := range n.Licenses {
			if n.SPDX && !l.SPDX {
				t.Fatalf("Normalize(%q): SPDX but %+v is not", s, l)
			}
		}
	})
}
