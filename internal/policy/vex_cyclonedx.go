package policy

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// cdxStatus maps a CycloneDX analysis state to a VEX status ("" to skip).
func cdxStatus(s cdx.ImpactAnalysisState) (string, bool) {
	switch s {
	case cdx.IASNotAffected, cdx.IASFalsePositive:
		return VEXNotAffected, true
	case cdx.IASResolved, cdx.IASResolvedWithPedigree:
		return VEXFixed, true
	case cdx.IASExploitable:
		return VEXAffected, true
	case cdx.IASInTriage:
		return VEXUnderInvestigation, true
	case "":
		return "", true
	}
	return "", false
}

// parseCycloneDX reads the vulnerabilities[].analysis of a CycloneDX BOM
// (a standalone VEX or a BOM with embedded VEX).
func parseCycloneDX(data []byte, xml bool) (*VEX, error) {
	format := cdx.BOMFileFormatJSON
	if xml {
		format = cdx.BOMFileFormatXML
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), format).Decode(&bom); err != nil {
		return nil, fmt.Errorf("parsing CycloneDX: %w", err)
	}
	if !xml && bom.BOMFormat != "CycloneDX" {
		return nil, fmt.Errorf("bomFormat is %q, want CycloneDX", bom.BOMFormat)
	}
	if bom.Vulnerabilities == nil || len(*bom.Vulnerabilities) == 0 {
		return nil, fmt.Errorf("CycloneDX BOM has no vulnerabilities")
	}
	refs := map[string]string{} // bom-ref → purl
	var walk func(cs *[]cdx.Component, depth int)
	walk = func(cs *[]cdx.Component, depth int) {
		if cs == nil || depth > 64 {
			return
		}
		for i := range *cs {
			c := &(*cs)[i]
			if c.BOMRef != "" && c.PackageURL != "" {
				refs[c.BOMRef] = c.PackageURL
			}
			walk(c.Components, depth+1)
		}
	}
	docTime := parseTime("")
	if bom.Metadata != nil {
		docTime = parseTime(bom.Metadata.Timestamp)
		if bom.Metadata.Component != nil {
			walk(&[]cdx.Component{*bom.Metadata.Component}, 0)
		}
	}
	walk(bom.Components, 0)

	v := &VEX{Format: FormatCycloneDX}
	for i, vu := range *bom.Vulnerabilities {
		where := fmt.Sprintf("vulnerability %d (%s)", i+1, vu.ID)
		if vu.Analysis == nil {
			continue
		}
		status, ok := cdxStatus(vu.Analysis.State)
		if !ok {
			return nil, fmt.Errorf("%s: unknown analysis state %q", where, vu.Analysis.State)
		}
		if status == "" {
			continue
		}
		if vu.ID == "" {
			return nil, fmt.Errorf("%s: no id", where)
		}
		s := VEXStatement{Vulnerabilities: []string{vu.ID}, Status: status,
			Justification: string(vu.Analysis.Justification), Impact: vu.Analysis.Detail, Timestamp: docTime}
		if vu.References != nil {
			for _, r := range *vu.References {
				if r.ID != "" {
					s.Vulnerabilities = append(s.Vulnerabilities, r.ID)
				}
			}
		}
		for _, t := range []string{vu.Updated, vu.Analysis.FirstIssued, vu.Analysis.LastUpdated} {
			if ts := parseTime(t); !ts.IsZero() {
				s.Timestamp = ts
			}
		}
		if vu.Affects != nil {
			for _, a := range *vu.Affects {
				if p := resolveCDXRef(a.Ref, refs); p != "" {
					s.Products = append(s.Products, VEXProduct{PURL: p})
				}
			}
		}
		if len(s.Products) == 0 {
			v.Warnings = append(v.Warnings, where+": no affects[].ref resolves to a package URL; statement not applied")
			continue
		}
		v.Statements = append(v.Statements, s)
	}
	return v, nil
}

// resolveCDXRef turns an affects ref into a package URL: a bom-ref of a
// component in the BOM, a BOM-Link ("urn:cdx:<serial>/<version>#<bom-ref>",
// whose bom-ref is resolved the same way) or a package URL itself.
func resolveCDXRef(ref string, refs map[string]string) string {
	ref = strings.TrimSpace(ref)
	if p, ok := refs[ref]; ok {
		return p
	}
	if strings.HasPrefix(ref, "urn:cdx:") {
		_, frag, ok := strings.Cut(ref, "#")
		if !ok {
			return ""
		}
		if u, err := url.PathUnescape(frag); err == nil {
			frag = u
		}
		if p, ok := refs[frag]; ok {
			return p
		}
		ref = frag
	}
	if strings.HasPrefix(ref, "pkg:") {
		return ref
	}
	return ""
}
