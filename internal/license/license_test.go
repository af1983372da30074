package license

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in        string
		wantExpr  string
		wantSPDX  bool
		wantNotes int
	}{
		// Already SPDX: kept, canonical case.
		{"MIT", "MIT", true, 0},
		{"mit", "MIT", true, 0},
		{"BSD-2-Clause AND BSD-3-Clause", "BSD-2-Clause AND BSD-3-Clause", true, 0},
		{"GPL-3.0-or-later WITH GCC-exception-3.1", "GPL-3.0-or-later WITH GCC-exception-3.1", true, 0},
		{"LGPL-3.0-or-later OR GPL-2.0-or-later", "LGPL-3.0-or-later OR GPL-2.0-or-later", true, 0},
		{"(MIT OR Apache-2.0) AND Zlib", "(MIT OR Apache-2.0) AND Zlib", true, 0},
		{"MPL-1.1+", "MPL-1.1+", true, 0},
		// Deprecated GNU ids become -only / -or-later.
		{"GPL-2.0", "GPL-2.0-only", true, 0},
		{"GPL-2.0+ and LGPL-2.1+", "GPL-2.0-or-later AND LGPL-2.1-or-later", true, 0},
		// RPM (Fedora's old short names) and apk spellings.
		{"GPLv2+", "GPL-2.0-or-later", true, 0},
		{"GPLv2", "GPL-2.0-only", true, 0},
		{"GPLv3+", "GPL-3.0-or-later", true, 0},
		{"LGPLv2+", "LGPL-2.0-or-later", true, 0},
		{"LGPLv2.1+", "LGPL-2.1-or-later", true, 0},
		{"GPL2+", "GPL-2.0-or-later", true, 0},
		{"AGPLv3", "AGPL-3.0-only", true, 0},
		{"GPL+", "GPL-1.0-or-later", true, 0},
		{"ASL 2.0", "Apache-2.0", true, 0},
		{"Apache License, Version 2.0", "Apache-2.0", true, 0},
		{"MIT/X11", "MIT", true, 0},
		{"BSD or GPLv2", "LicenseRef-BSD OR GPL-2.0-only", false, 1},
		{"Public Domain", "LicenseRef-Public-Domain", false, 0},
		{"GPLv3+ with exceptions", "LicenseRef-GPLv3-plus-with-exceptions", false, 1},
		{"GPLv2 with exceptions and Public Domain", "LicenseRef-GPLv2-with-exceptions AND LicenseRef-Public-Domain", false, 1},
		{"MIT BSD GPL2+", "(MIT AND LicenseRef-BSD AND GPL-2.0-or-later)", false, 2},
		{"(GPLv2+ or LGPLv3+) and BSD", "(GPL-2.0-or-later OR LGPL-3.0-or-later) AND LicenseRef-BSD", false, 1},
		// Debian DEP-5 short names; commas bind loosest.
		{"GPL-2+", "GPL-2.0-or-later", true, 0},
		{"LGPL-2.1+", "LGPL-2.1-or-later", true, 0},
		{"BSD-3-clause", "BSD-3-Clause", true, 0},
		{"Expat", "MIT", true, 0},
		{"GPL-2+ or Artistic, and BSD-3-clause", "(GPL-2.0-or-later OR Artistic-1.0) AND BSD-3-Clause", true, 0},
		{"GPL-2+ with OpenSSL exception", "LicenseRef-GPL-2-plus-with-OpenSSL-exception", false, 1},
		{"GPL-2+ with Texinfo exception", "GPL-2.0-or-later WITH Texinfo-exception", true, 0},
		{"GPL-3+ with Bison exception", "GPL-3.0-or-later WITH Bison-exception-2.2", true, 0},
		{"GPL-2+ with Bison exception", "LicenseRef-GPL-2-plus-with-Bison-exception", false, 1},
		{"GPL-3+ with autoconf exception", "GPL-3.0-or-later WITH Autoconf-exception-3.0", true, 0},
		{"GPL-2 with Linux-syscall-note exception", "GPL-2.0-only WITH Linux-syscall-note", true, 0},
		{"GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later", true, 0},
		{"GFDL-1.2", "GFDL-1.2-only", true, 0},
		{"GPL", "LicenseRef-GPL", false, 1},
		// Unknown names stay visible as LicenseRef-, never guessed.
		{"pubkey", "LicenseRef-pubkey", false, 0},
		{"SUSE-Public-Domain", "LicenseRef-Public-Domain", false, 0},
		{"SUSE-GPL-2.0-with-OSI-exception", "LicenseRef-SUSE-GPL-2.0-with-OSI-exception", false, 0},
		{"LicenseRef-Foo and MIT", "LicenseRef-Foo AND MIT", false, 0},
		// Not an expression: kept whole.
		{"(MIT", "LicenseRef-MIT", false, 1},
		{"MIT and", "LicenseRef-MIT-and", false, 1},
		{"", "", false, 0},
	}
	for _, tc := range tests {
		got := Normalize(tc.in)
		if got.Expression != tc.wantExpr || got.SPDX != tc.wantSPDX || len(got.Notes) != tc.wantNotes {
			t.Errorf("Normalize(%q) = %q spdx=%v notes=%q, want %q spdx=%v with %d notes",
				tc.in, got.Expression, got.SPDX, got.Notes, tc.wantExpr, tc.wantSPDX, tc.wantNotes)
		}
		if got.Original != tc.in {
			t.Errorf("Normalize(%q).Original = %q", tc.in, got.Original)
		}
		// Normalising again changes nothing: SBOMs read back keep their
		// licences.
		if again := Normalize(got.Expression); got.Expression != "" && again.Expression != got.Expression {
			t.Errorf("Normalize(Normalize(%q)) = %q, want %q", tc.in, again.Expression, got.Expression)
		}
	}
}

func TestOfCategories(t *testing.T) {
	got := Of([]string{"GPLv3+ and GPLv3+ with exceptions", "LGPLv2+", "MIT", "GPLv3+"})
	want := Normalized{
		Original:   "GPLv3+ and GPLv3+ with exceptions; LGPLv2+; MIT; GPLv3+",
		Expression: "(GPL-3.0-or-later AND LicenseRef-GPLv3-plus-with-exceptions) AND LGPL-2.0-or-later AND MIT",
		Licenses: []Licence{
			{ID: "GPL-3.0-or-later", SPDX: true, Category: Restricted},
			{ID: "LicenseRef-GPLv3-plus-with-exceptions", Category: Restricted},
			{ID: "LGPL-2.0-or-later", SPDX: true, Category: Restricted},
			{ID: "MIT", SPDX: true, Category: Notice},
		},
		Notes: []string{`exception not named in "GPLv3+ with exceptions": LicenseRef-GPLv3-plus-with-exceptions is GPL-3.0-or-later with an unnamed exception`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Of: (-want +got)\n%s", diff)
	}
}

func TestCategoryOf(t *testing.T) {
	tests := map[string]Category{
		"AGPL-3.0-or-later": Forbidden,
		"CC-BY-NC-4.0":      Forbidden,
		"WTFPL":             Forbidden,
		"GPL-3.0-only":      Restricted,
		"GPL-2.0-or-later WITH GCC-exception-2.0": Restricted,
		"LGPL-2.1+":                Restricted,
		"CC-BY-SA-4.0":             Restricted,
		"MPL-2.0":                  Reciprocal,
		"EPL-2.0":                  Reciprocal,
		"MIT":                      Notice,
		"Apache-2.0":               Notice,
		"CC-BY-4.0":                Notice,
		"LicenseRef-BSD":           Notice,
		"0BSD":                     Unencumbered,
		"CC0-1.0":                  Unencumbered,
		"LicenseRef-Public-Domain": Unencumbered,
		"CC-BY-4.5":                Unknown,
		"LicenseRef-pubkey":        Unknown,
		"GFDL-1.3-or-later":        Unknown,
	}
	for id, want := range tests {
		if got := CategoryOf(id); got != want {
			t.Errorf("CategoryOf(%q) = %q, want %q", id, got, want)
		}
	}
	for c, want := range map[Category]string{Forbidden: "CRITICAL", Restricted: "HIGH", Reciprocal: "MEDIUM", Notice: "LOW", Unencumbered: "LOW", Unknown: "UNKNOWN"} {
		if got := c.Severity(); got != want {
			t.Errorf("%s.Severity() = %q, want %q", c, got, want)
		}
	}
}
