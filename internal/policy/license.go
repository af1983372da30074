package policy

import (
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// OnLicense is the rule target of licence findings (scanner "license"):
// the CEL variable `license`.
const OnLicense = "license"

// LicenseInput is the CEL variable `license`: a package whose licence is
// forbidden, restricted or reciprocal.
type LicenseInput struct {
	Key        string       `cel:"key"` // "license:<package id>"
	Package    PackageRefIn `cel:"package"`
	Expression string       `cel:"expression"` // SPDX: "GPL-3.0-or-later AND LicenseRef-BSD"
	Original   string       `cel:"original"`   // as the metadata wrote it: "GPLv3+ and BSD"
	// IDs are the licences of the expression in Category.
	IDs        []string `cel:"ids"`
	Category   string   `cel:"category"` // "forbidden", "restricted", "reciprocal"
	Severity   string   `cel:"severity"` // CRITICAL, HIGH, MEDIUM
	Suppressed bool     `cel:"suppressed"`
	Filtered   bool     `cel:"filtered"`
}

func licenseInput(l *finding.License) LicenseInput {
	p := &l.Package
	return LicenseInput{
		Key: l.Key(),
		Package: PackageRefIn{ID: p.ID, Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
			SourceName: p.SourceName, LayerIndex: p.LayerIndex, Path: p.Path},
		Expression: l.Expression,
		Original:   l.Original,
		IDs:        nonNil(l.Licenses),
		Category:   l.Category,
		Severity:   l.Severity,
		Suppressed: hasKind(l.Annotations, vocab.AnnotationSuppressed),
		Filtered:   hasKind(l.Annotations, vocab.AnnotationFiltered),
	}
}

func licenseFields(in *LicenseInput) map[string]string {
	return map[string]string{
		"key": in.Key, "package": in.Package.Name, "version": in.Package.Version, "purl": in.Package.PURL,
		"ecosystem": in.Package.Ecosystem, "path": in.Package.Path, "layer_index": strconv.Itoa(in.Package.LayerIndex),
		"expression": in.Expression, "original": in.Original, "ids": strings.Join(in.IDs, ", "),
		"category": in.Category, "severity": in.Severity,
	}
}

// matchLicense reports whether the entry suppresses l. Its id names a
// licence: one of the finding's licence IDs ("GPL-3.0-or-later"), the same
// without its "-only" or "-or-later" ("GPL-3.0", as Trivy users write it),
// the whole expression, or the original string; paths narrow it to the
// package's path, purls (drydock's own files only) to packages. An entry of
// drydock's own files (for every kind) needs the id: one that names only
// packages or paths was written to accept their vulnerabilities, not their
// licences.
func (e *IgnoreEntry) matchLicense(l *finding.License, purls purlCache) bool {
	if !e.applies(ignoreLicenses) || (e.kinds == 0 && e.ID == "") {
		return false
	}
	ids := []string{l.Expression, l.Original}
	for _, id := range l.Licenses {
		base, _, _ := strings.Cut(id, " WITH ")
		ids = append(ids, id, strings.TrimSuffix(strings.TrimSuffix(base, "-only"), "-or-later"))
	}
	f := finding.Finding{Package: l.Package}
	return e.idMatches(ids...) && e.pathMatches(l.Package.Path) && e.packageMatches(&f, purls)
}
