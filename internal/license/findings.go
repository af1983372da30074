package license

import (
	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// Reported reports whether a licence of category c is a licence finding:
// the groups that ask something of whoever ships the image (forbidden,
// restricted, reciprocal). Trivy also lists the others, as LOW or UNKNOWN;
// drydock keeps them on the package (its licences, and the policy
// variables pkg.license_ids and pkg.license_categories).
func Reported(c Category) bool { return c == Forbidden || c == Restricted || c == Reciprocal }

// Findings returns one licence finding per package whose licence holds a
// reported licence, in the packages' order, with the most restrictive
// category found and the licences of that category.
func Findings(pkgs []inventory.Package) []finding.License {
	var out []finding.License
	for i := range pkgs {
		p := &pkgs[i]
		if len(p.Licenses) == 0 {
			continue
		}
		n := Of(p.Licenses)
		worst := Unknown
		for _, l := range n.Licenses {
			if Reported(l.Category) && l.Category.Rank() < worst.Rank() {
				worst = l.Category
			}
		}
		if !Reported(worst) {
			continue
		}
		var ids []string
		for _, l := range n.Licenses {
			if l.Category == worst {
				ids = append(ids, l.ID)
			}
		}
		out = append(out, finding.License{Package: refOf(p), Expression: n.Expression, Original: n.Original,
			Licenses: ids, Category: string(worst), Severity: worst.Severity()})
	}
	return out
}

// refOf is the package as findings name it (as internal/match does).
func refOf(p *inventory.Package) finding.PackageRef {
	r := finding.PackageRef{
		ID: p.ID, Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
		SourceName: p.SourceName, Path: p.PrimaryPath(), Owner: p.Owner, LayerIndex: -1,
	}
	if p.Layer != nil {
		r.LayerIndex = p.Layer.Index
		r.LayerDiffID = p.Layer.DiffID
	}
	return r
}
