package license_test

import (
	"encoding/json"
	"testing"

	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract/apk"
	"github.com/drydock-scan/drydock/internal/extract/dpkg"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/license"
)

// counts is what TestRealImages measures for one image's packages.
type counts struct {
	Packages    int
	WithLicence int
	// SPDXBefore: every licence string, as the metadata wrote it, is a
	// valid SPDX expression of SPDX-list licences (deprecated ids
	// allowed).
	SPDXBefore int
	// SPDXAfter: license.Of gives an expression of SPDX-list licences
	// only (no LicenseRef-).
	SPDXAfter int
	// Categorised: every licence has a category other than unknown.
	Categorised int
}

// TestRealImages is issue 21's must-show: licence normalisation over the
// real Debian, Alpine and AlmaLinux package data the extractors' tests hold
// (each testdata/README.md says where it comes from), with the count of
// packages whose licence is an SPDX expression before and after.
func TestRealImages(t *testing.T) {
	tests := []struct {
		name string
		pkgs func(t *testing.T) []inventory.Package
		want counts
	}{
		{"debian-12.15 minbase (status + copyright files)", debianPackages, counts{
			Packages: 88, WithLicence: 74, SPDXBefore: 4, SPDXAfter: 29, Categorised: 36}},
		{"alpine-3.16.9 minirootfs", func(t *testing.T) []inventory.Package {
			return extracttest.Extract(t, apk.New(), layer.Input("/lib/apk/db/installed", extracttest.Testdata(t, "../../extract/apk/testdata/alpine-3.16.9-installed"))).Packages
		}, counts{Packages: 14, WithLicence: 14, SPDXBefore: 13, SPDXAfter: 13, Categorised: 14}},
		{"almalinux-9.0 micro (rpmdb.sqlite)", golden("../../extract/rpm/testdata/almalinux-9.0-sqlite.golden.json"), counts{
			Packages: 22, WithLicence: 22, SPDXBefore: 2, SPDXAfter: 10, Categorised: 19}},
		{"almalinux-8.8 micro (Berkeley DB)", golden("../../extract/rpm/testdata/almalinux-8.8-bdb.golden.json"), counts{
			Packages: 20, WithLicence: 20, SPDXBefore: 2, SPDXAfter: 8, Categorised: 16}},
		{"sle15 bci (NDB)", golden("../../extract/rpm/testdata/sle15-bci-ndb.golden.json"), counts{
			Packages: 35, WithLicence: 35, SPDXBefore: 26, SPDXAfter: 29, Categorised: 32}},
	}
	// Measured. What stays LicenseRef- is what the metadata does not say
	// precisely enough: RPM's "BSD", "Public Domain", "GPLv2+ with
	// exceptions"; Debian's unversioned "GPL", its many one-off names
	// ("BSD-3-clause-fjord", "public-domain-md5"); apk's "BSD".
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got counts
			for _, p := range tc.pkgs(t) {
				got.Packages++
				if len(p.Licenses) == 0 {
					continue
				}
				got.WithLicence++
				if ok, _ := spdxexp.ValidateLicensesWithOptions(p.Licenses, spdxexp.ValidateLicensesOptions{FailAllLicenseRefs: true}); ok {
					got.SPDXBefore++
				}
				n := license.Of(p.Licenses)
				if n.SPDX {
					got.SPDXAfter++
				}
				known := len(n.Licenses) > 0
				for _, l := range n.Licenses {
					known = known && l.Category != license.Unknown
				}
				if known {
					got.Categorised++
				}
				if ok, bad := spdxexp.ValidateLicenses([]string{n.Expression}); !ok {
					t.Errorf("%s: %q normalised to %q, which is no SPDX expression: %q", p.Name, p.Licenses, n.Expression, bad)
				}
				if !n.SPDX {
					t.Logf("%s: %q → %q %q", p.Name, p.Licenses, n.Expression, n.Notes)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("counts (-want +got)\n%s", diff)
			}
		})
	}
}

var layer = extracttest.Layer{DiffID: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}

// debianPackages reads the Debian 12.15 status file and the copyright
// files of its packages through the dpkg extractor and merges them, as a
// scan does.
func debianPackages(t *testing.T) []inventory.Package {
	const dir = "../../extract/dpkg/testdata/"
	lr := inventory.LayerResult{Layer: inventory.Layer{DiffID: layer.DiffID}}
	add := func(path string, data []byte) {
		inv := extracttest.Extract(t, dpkg.New(), layer.Input(path, data))
		lr.Files = append(lr.Files, inventory.FileResult{Path: path, Extractor: dpkg.Name, Packages: inv.Packages})
	}
	add("/var/lib/dpkg/status", extracttest.Testdata(t, dir+"debian-12.15-status"))
	for path, data := range extracttest.TarGz(t, "../extract/dpkg/testdata/debian-12-copyright.tar.gz") {
		add(path, data)
	}
	return inventory.Merge([]inventory.LayerResult{lr}, inventory.MergeOptions{}).Packages
}

// golden reads an extractor's golden output: the packages its own golden
// test pins for a real database.
func golden(path string) func(t *testing.T) []inventory.Package {
	return func(t *testing.T) []inventory.Package {
		var pkgs []inventory.Package
		if err := json.Unmarshal(extracttest.Testdata(t, path), &pkgs); err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		return pkgs
	}
}
