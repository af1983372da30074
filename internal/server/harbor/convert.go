package harbor

import (
	"net/url"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// severity maps drydock's severity to Harbor's.
func severity(s string) string {
	switch s {
	case vocab.SevCritical:
		return SevCritical
	case vocab.SevHigh:
		return SevHigh
	case vocab.SevMedium:
		return SevMedium
	case vocab.SevLow:
		return SevLow
	case vocab.SevNegligible:
		return SevNegligible
	}
	return SevUnknown
}

// vulnerabilityReport is Harbor's report of rep (normalised): one item per
// finding that counts (suppressed findings are left out, as in every
// drydock summary), the highest severity among them ("Unknown" when there
// are none, as Harbor's own scanners say), and the coverage gaps of the
// scan in vendor_attributes.
func vulnerabilityReport(rep *report.Report, art Artifact, sc Scanner, imageID int64) *VulnerabilityReport {
	out := &VulnerabilityReport{
		GeneratedAt:     rep.CreatedAt,
		Artifact:        art,
		Scanner:         sc,
		Severity:        SevUnknown,
		Vulnerabilities: []VulnerabilityItem{},
	}
	best := -1
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Suppressed() {
			continue
		}
		out.Vulnerabilities = append(out.Vulnerabilities, vulnerability(f))
		if r := vocab.SeverityRank(f.Severity); r > best {
			best, out.Severity = r, severity(f.Severity)
		}
	}
	va := map[string]any{"drydock_image_id": imageID}
	if rep.Database != nil {
		va["database_built_at"] = rep.Database.BuiltAt
	}
	if gaps := coverageGaps(rep); len(gaps) > 0 {
		// Where the database could not look, no vulnerabilities does not
		// mean none: Harbor shows no such field, drydock's own reports do.
		va["coverage_gaps"] = gaps
	}
	if rep.Summary.Suppressed > 0 {
		va["suppressed"] = rep.Summary.Suppressed
	}
	out.VendorAttributes = va
	return out
}

func coverageGaps(rep *report.Report) []report.Coverage {
	var out []report.Coverage
	for _, c := range rep.Coverage {
		if !c.Complete() {
			out = append(out, c)
		}
	}
	return out
}

// vulnerability is one finding as Harbor's VulnerabilityItem.
func vulnerability(f *finding.Finding) VulnerabilityItem {
	v := VulnerabilityItem{
		ID:          f.ID,
		Package:     f.Package.Name,
		Version:     f.InstalledVersion,
		FixVersion:  f.FixedVersion,
		Severity:    severity(f.Severity),
		Description: f.Description,
		Links:       []string{},
	}
	if v.Description == "" {
		v.Description = f.Title
	}
	va := map[string]any{}
	var other []string
	for _, ref := range f.References {
		if isLink(ref) {
			v.Links = append(v.Links, ref)
		} else {
			other = append(other, ref)
		}
	}
	if len(other) > 0 {
		va["references"] = other
	}
	v.PreferredCVSS = preferredCVSS(f.CVSS)
	if cv := cvssBySource(f.CVSS); len(cv) > 0 {
		va["CVSS"] = cv
	}
	if len(f.Aliases) > 0 {
		va["aliases"] = f.Aliases
	}
	if f.KEV {
		va["kev"] = true
	}
	if f.Title != "" && f.Description != "" {
		va["title"] = f.Title
	}
	va["status"] = f.Status
	va["severity_source"] = f.SeveritySource
	if f.VendorSeverity != "" {
		va["vendor_severity"] = f.VendorSeverity
	}
	va["ecosystem"] = f.Package.Ecosystem
	if f.Package.PURL != "" {
		va["purl"] = f.Package.PURL
	}
	if f.Package.SourceName != "" {
		va["source_package"] = f.Package.SourceName
	}
	if f.Package.Path != "" {
		va["path"] = f.Package.Path
	}
	if f.Package.LayerDiffID != "" {
		va["layer_diff_id"] = f.Package.LayerDiffID
	}
	var ann []map[string]string
	for _, a := range f.Annotations {
		m := map[string]string{"kind": a.Kind}
		for k, s := range map[string]string{"source": a.Source, "status": a.Status, "reason": a.Reason} {
			if s != "" {
				m[k] = s
			}
		}
		ann = append(ann, m)
	}
	if len(ann) > 0 {
		va["annotations"] = ann
	}
	v.VendorAttributes = va
	return v
}

// isLink reports whether ref is an absolute http(s) URL (the spec's links
// are URIs).
func isLink(ref string) bool {
	u, err := url.Parse(ref)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// preferredCVSS takes the first CVSS v3 and v2 assessments, in the order
// matching gave them (the one the severity came from first).
func preferredCVSS(cs []finding.CVSS) *CVSSDetails {
	var d CVSSDetails
	for _, c := range cs {
		switch {
		case strings.HasPrefix(c.Version, "3") && d.ScoreV3 == nil:
			score := c.Score
			d.ScoreV3, d.VectorV3 = &score, c.Vector
		case strings.HasPrefix(c.Version, "2") && d.ScoreV2 == nil:
			score := c.Score
			d.ScoreV2, d.VectorV2 = &score, c.Vector
		}
	}
	if d.ScoreV3 == nil && d.ScoreV2 == nil {
		return nil
	}
	return &d
}

// cvssBySource lists every assessment by its source, in the shape Harbor's
// other scanners use in vendor_attributes ("CVSS": {"nvd": {"V3Score": …}}).
func cvssBySource(cs []finding.CVSS) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, c := range cs {
		src := c.Source
		if src == "" {
			src = "unknown"
		}
		m := out[src]
		if m == nil {
			m = map[string]any{}
			out[src] = m
		}
		var ver string
		switch {
		case strings.HasPrefix(c.Version, "2"):
			ver = "V2"
		case strings.HasPrefix(c.Version, "3"):
			ver = "V3"
		default:
			ver = "V" + strings.ReplaceAll(c.Version, ".", "") // "V40"
		}
		if _, dup := m[ver+"Score"]; dup {
			continue
		}
		m[ver+"Score"] = c.Score
		m[ver+"Vector"] = c.Vector
	}
	return out
}
