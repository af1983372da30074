package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// CompareFindings is the canonical finding order of every output: severity
// (highest first), package name, vulnerability ID, then package ID and
// installed version so that no two distinct findings compare equal.
func CompareFindings(a, b finding.Finding) int {
	if c := cmp.Compare(vocab.SeverityRank(b.Severity), vocab.SeverityRank(a.Severity)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Package.Name, b.Package.Name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Package.ID, b.Package.ID); c != 0 {
		return c
	}
	return cmp.Compare(a.InstalledVersion, b.InstalledVersion)
}

// CompareSecrets orders secrets by severity (highest first), path, line, rule.
func CompareSecrets(a, b Secret) int {
	if c := cmp.Compare(vocab.SeverityRank(b.Severity), vocab.SeverityRank(a.Severity)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Line, b.Line); c != 0 {
		return c
	}
	if c := cmp.Compare(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	return cmp.Compare(a.LayerIndex, b.LayerIndex)
}

// CompareMisconfigs orders misconfigurations by severity (highest first), ID.
func CompareMisconfigs(a, b Misconfig) int {
	if c := cmp.Compare(vocab.SeverityRank(b.Severity), vocab.SeverityRank(a.Severity)); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Normalized returns a copy of r ready for encoding: packages, malware,
// findings, secrets, misconfigurations and notes in their canonical order, and nil
// slices and maps that the schema requires replaced by empty ones. r itself
// is not modified (slices are copied; their elements are shared only where
// they are not reordered).
func (r *Report) Normalized() *Report {
	out := *r
	if out.SchemaVersion == 0 {
		out.SchemaVersion = SchemaVersion
	}
	out.Packages = slices.Clone(r.Packages)
	if out.Packages == nil {
		out.Packages = []inventory.Package{}
	}
	for i := range out.Packages {
		if out.Packages[i].Locations == nil {
			out.Packages[i].Locations = []inventory.Location{}
		}
	}
	slices.SortStableFunc(out.Packages, inventory.ComparePackages)

	out.Findings = slices.Clone(r.Findings)
	if out.Findings == nil {
		out.Findings = []finding.Finding{}
	}
	for i := range out.Findings {
		if out.Findings[i].Evidence == nil {
			out.Findings[i].Evidence = []finding.Evidence{}
		}
	}
	slices.SortStableFunc(out.Findings, CompareFindings)

	out.Malware = slices.Clone(r.Malware)
	slices.SortStableFunc(out.Malware, finding.CompareMalware)

	out.Secrets = slices.Clone(r.Secrets)
	slices.SortStableFunc(out.Secrets, CompareSecrets)
	out.Misconfigs = slices.Clone(r.Misconfigs)
	slices.SortStableFunc(out.Misconfigs, CompareMisconfigs)
	out.Licenses = slices.Clone(r.Licenses)
	slices.SortStableFunc(out.Licenses, finding.CompareLicense)
	out.Notes = slices.Clone(r.Notes)
	slices.SortStableFunc(out.Notes, func(a, b inventory.Note) int {
		return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.Message, b.Message))
	})

	out.Image.Layers = slices.Clone(r.Image.Layers)
	if out.Image.Layers == nil {
		out.Image.Layers = []inventory.Layer{}
	}
	if out.Summary.BySeverity == nil {
		out.Summary.BySeverity = map[string]int{}
	}
	return &out
}

// Mode reports whether r is an inventory-only report ("sbom") or a
// vulnerability scan ("vuln"), from the scanners that ran.
func (r *Report) Mode() string {
	if len(r.Scanners) == 0 {
		if len(r.Findings) > 0 {
			return "vuln"
		}
		return "sbom"
	}
	for _, s := range r.Scanners {
		if s != "sbom" {
			return "vuln"
		}
	}
	return "sbom"
}

// ImageName is the best human name of the scanned image: its first tag
// ("alpine:3.16.9"), else its name, else the reference given by the user.
func (r *Report) ImageName() string {
	switch {
	case len(r.Image.RepoTags) > 0 && r.Image.RepoTags[0] != "":
		return r.Image.RepoTags[0]
	case r.Image.Name != "":
		return r.Image.Name
	}
	return strings.TrimSpace(r.Image.Reference)
}
