package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Package types, as Trivy's --pkg-types names them: the distribution's
// packages (apk, dpkg, rpm…) and the language packages (npm, PyPI, Go…).
const (
	PkgTypeOS      = "os"
	PkgTypeLibrary = "library"
)

// PkgTypes lists the package types in the order they are documented.
func PkgTypes() []string { return []string{PkgTypeOS, PkgTypeLibrary} }

// KeepPackageTypes limits a matched result to the vulnerabilities of the
// packages of the given types: the findings of the other packages are taken
// out, and the advisory coverage of those packages becomes
// vocab.CoverageExcluded with the reason, so that a report never reads "no
// vulnerabilities" about packages nobody looked up (the table, SARIF, JUnit…
// show it as a coverage gap, and builtin:complete-coverage fails on it).
//
// The packages themselves stay in the result: an SBOM lists what the image
// holds. Malware (res.Malware) is kept whatever the types: a malicious
// package is never filtered out (docs/malware.md).
func KeepPackageTypes(res *result.Result, keep []string) error {
	for _, t := range keep {
		if !slices.Contains(PkgTypes(), t) {
			return fmt.Errorf("unknown package type %q (want %s)", t, strings.Join(PkgTypes(), ", "))
		}
	}
	keepOS, keepLib := slices.Contains(keep, PkgTypeOS), slices.Contains(keep, PkgTypeLibrary)
	if keepOS && keepLib {
		return nil
	}
	if res.Findings != nil {
		res.Findings = slices.DeleteFunc(res.Findings, func(f finding.Finding) bool {
			if inventory.IsOS(f.Package.Ecosystem) {
				return !keepOS
			}
			return !keepLib
		})
	}
	reason := "not matched against advisories: only " + strings.Join(keep, " and ") + " packages were (package types limited with --pkg-types)"
	if len(keep) == 0 {
		reason = "not matched against advisories: no package type was selected (--pkg-types)"
	}
	for i := range res.Coverage {
		c := &res.Coverage[i]
		switch {
		case c.Ecosystem == match.FilesEcosystem || c.Ecosystem == "cisa-kev":
			// Not a package type: files the walker could not read, the
			// KEV catalog of the database.
			continue
		case c.OS && keepOS, !c.OS && keepLib:
			continue
		}
		c.Status = vocab.CoverageExcluded
		c.Reasons = []string{reason}
	}
	return nil
}
