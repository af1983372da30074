package finding

import (
	"cmp"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// License is a package whose licence asks something of whoever ships the
// image: the scanner "license" reports each package whose licence
// expression holds a licence of Trivy's forbidden, restricted or
// reciprocal groups (internal/license). Notice, permissive, unencumbered
// and unknown licences are no finding: they stay on the package.
type License struct {
	Package PackageRef `json:"package"`
	// Expression is the package's licence as an SPDX expression
	// ("GPL-3.0-or-later AND LicenseRef-BSD"); Original is what its
	// metadata wrote ("GPLv3+ and BSD"), several strings joined by "; ".
	Expression string `json:"expression"`
	Original   string `json:"original"`
	// Licenses are the licences of the expression in Category: what made
	// it a finding.
	Licenses []string `json:"licenses"`
	// Category is the most restrictive group of the expression's licences
	// ("forbidden", "restricted", "reciprocal") and Severity the one Trivy
	// gives it (CRITICAL, HIGH, MEDIUM).
	Category    string       `json:"category"`
	Severity    string       `json:"severity"`
	Annotations []Annotation `json:"annotations,omitempty"`
}

// Key identifies the finding in a report: "license:<package id>".
func (l *License) Key() string { return "license:" + l.Package.ID }

// CompareLicense orders licence findings by severity (highest first), then
// package name, version and ID.
func CompareLicense(a, b License) int {
	return cmp.Or(-cmp.Compare(vocab.SeverityRank(a.Severity), vocab.SeverityRank(b.Severity)),
		cmp.Compare(a.Package.Name, b.Package.Name), cmp.Compare(a.Package.Version, b.Package.Version),
		cmp.Compare(a.Package.ID, b.Package.ID))
}
