package sbom

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/license"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// CycloneDXDefault is the CycloneDX version "--format cyclonedx" writes;
// CycloneDXVersions lists every version drydock writes.
const CycloneDXDefault = cdx.SpecVersion1_6

// CycloneDXVersions returns the CycloneDX versions drydock writes, oldest
// first.
func CycloneDXVersions() []cdx.SpecVersion {
	return []cdx.SpecVersion{cdx.SpecVersion1_6, cdx.SpecVersion1_7}
}

// CycloneDXSchemaURL is the $schema of a CycloneDX version's JSON documents.
func CycloneDXSchemaURL(v cdx.SpecVersion) string {
	return "http://cyclonedx.org/schema/bom-" + v.String() + ".schema.json"
}

// CycloneDX converts r into a CycloneDX 1.6 BOM: the image as
// metadata.component, the distro as an operating-system component, one
// component per package (bom-ref = package ID) and, with withVulns, one
// vulnerability per finding. r is not modified.
func CycloneDX(r *report.Report, withVulns bool) *cdx.BOM {
	return cycloneDX(r, withVulns, CycloneDXDefault)
}

func cycloneDX(r *report.Report, withVulns bool, version cdx.SpecVersion) *cdx.BOM {
	r = r.Normalized()
	bom := cdx.NewBOM()
	bom.JSONSchema = CycloneDXSchemaURL(version)
	bom.SpecVersion = version
	bom.SerialNumber = "urn:uuid:" + docUUID(r, "cyclonedx").String()

	tool := r.Tool
	if tool.Name == "" {
		tool.Name = "drydock"
	}
	image := imageComponent(r)
	bom.Metadata = &cdx.Metadata{
		Timestamp: timestamp(r.CreatedAt),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type:    cdx.ComponentTypeApplication,
			Name:    tool.Name,
			Version: tool.Version,
			ExternalReferences: &[]cdx.ExternalReference{{
				Type: cdx.ERTypeWebsite, URL: InformationURI,
			}},
		}}},
		Component: image,
	}

	var comps []cdx.Component
	var imageDeps []string
	if r.Distro != nil {
		osc := osComponent(r.Distro)
		comps = append(comps, osc)
		imageDeps = append(imageDeps, osc.BOMRef)
	}
	refs := bomRefs(r.Packages)
	owned := map[string][]string{}
	for i := range r.Packages {
		p := &r.Packages[i]
		comps = append(comps, packageComponent(p, refs[i]))
		imageDeps = append(imageDeps, refs[i])
		if p.Owner != "" {
			owned[p.Owner] = append(owned[p.Owner], refs[i])
		}
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}

	// Dependencies: the image depends on everything in it; an OS package
	// depends on (contains) the language packages in its files.
	deps := []cdx.Dependency{{Ref: image.BOMRef, Dependencies: ptrIfAny(imageDeps)}}
	if r.Distro != nil {
		deps = append(deps, cdx.Dependency{Ref: imageDeps[0]})
	}
	for i := range r.Packages {
		d := cdx.Dependency{Ref: refs[i]}
		if o := owned[r.Packages[i].ID]; len(o) > 0 {
			d.Dependencies = &o
		}
		deps = append(deps, d)
	}
	bom.Dependencies = &deps

	if withVulns {
		byID := map[string]string{}
		for i := range r.Packages {
			byID[r.Packages[i].ID] = refs[i]
		}
		var vulns []cdx.Vulnerability
		// Malware first (CWE-506, embedded malicious code): a malicious
		// package affects its component, a known-bad file the image.
		for i := range r.Malware {
			vulns = append(vulns, malwareVulnerability(&r.Malware[i], byID, image.BOMRef, tool))
		}
		for i := range r.Findings {
			vulns = append(vulns, vulnerability(&r.Findings[i], byID, tool))
		}
		if len(vulns) > 0 {
			bom.Vulnerabilities = &vulns
		}
	}
	return bom
}

// WriteCycloneDX encodes CycloneDX(r, withVulns) as indented JSON, in the
// default version (CycloneDXDefault).
func WriteCycloneDX(w io.Writer, r *report.Report, withVulns bool) error {
	return WriteCycloneDXVersion(w, r, withVulns, CycloneDXDefault)
}

// WriteCycloneDXVersion encodes r as an indented JSON CycloneDX document of
// version v, one of CycloneDXVersions. The content is the same in every
// version: nothing drydock writes is new in 1.7 or gone from it.
func WriteCycloneDXVersion(w io.Writer, r *report.Report, withVulns bool, v cdx.SpecVersion) error {
	if !slices.Contains(CycloneDXVersions(), v) {
		return fmt.Errorf("encoding CycloneDX: version %s is not written (want one of 1.6, 1.7)", v)
	}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(cycloneDX(r, withVulns, v), v); err != nil {
		return fmt.Errorf("encoding CycloneDX %s: %w", v, err)
	}
	return nil
}

// bomRefs returns a unique bom-ref per package: its ID, suffixed in the
// (should-not-happen) case of two packages with one ID.
func bomRefs(pkgs []inventory.Package) []string {
	seen := map[string]int{}
	out := make([]string, len(pkgs))
	for i := range pkgs {
		id := pkgs[i].ID
		if id == "" {
			id = "package"
		}
		seen[id]++
		if n := seen[id]; n > 1 {
			id = fmt.Sprintf("%s-%d", id, n)
		}
		out[i] = id
	}
	return out
}

func imageComponent(r *report.Report) *cdx.Component {
	img := &r.Image
	c := &cdx.Component{
		Type:       cdx.ComponentTypeContainer,
		Name:       r.ImageName(),
		PackageURL: imagePURL(img),
	}
	if c.Name == "" {
		c.Name = "image"
	}
	c.Version = img.Digest
	if c.Version == "" {
		c.Version = img.ConfigDigest
	}
	switch {
	case c.PackageURL != "":
		c.BOMRef = c.PackageURL
	case c.Version != "":
		c.BOMRef = "image:" + c.Name + "@" + c.Version
	default:
		c.BOMRef = "image:" + c.Name
	}
	c.Properties = cdxProps(reportImageFacts(r))
	return c
}

func osComponent(d *inventory.Distro) cdx.Component {
	return cdx.Component{
		BOMRef:      "os:" + d.ID + "@" + d.VersionID,
		Type:        cdx.ComponentTypeOS,
		Name:        d.ID,
		Version:     d.VersionID,
		Description: d.PrettyName,
		Properties:  cdxProps(distroFacts(d)),
	}
}

func packageComponent(p *inventory.Package, ref string) cdx.Component {
	c := cdx.Component{
		BOMRef:     ref,
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		PackageURL: p.PURL,
		Publisher:  p.Vendor,
		Properties: cdxProps(packageFacts(p)),
	}
	if p.Metadata["main_module"] == "true" {
		c.Type = cdx.ComponentTypeApplication
	}
	if l, exact := cdxLicenses(p.Licenses); l != nil {
		c.Licenses = l
		// The strings as the metadata wrote them, unless the licence
		// written is the one string: what a decoded SBOM gives back.
		if !exact {
			var props []cdx.Property
			if c.Properties != nil {
				props = *c.Properties
			}
			for _, s := range p.Licenses {
				props = append(props, cdx.Property{Name: PropLicense, Value: s})
			}
			c.Properties = &props
		}
	}
	if len(p.Locations) > 0 {
		var occ []cdx.EvidenceOccurrence
		for _, l := range p.Locations {
			occ = append(occ, cdx.EvidenceOccurrence{Location: l.Path})
		}
		c.Evidence = &cdx.Evidence{Occurrences: &occ}
	}
	return c
}

// cdxLicenses writes a package's licence strings normalised to SPDX
// (internal/license): one SPDX licence as its id, one licence SPDX does not
// list as a named licence (the strings as written), anything else as an
// SPDX expression (with LicenseRef- ids where SPDX has none). The original
// strings go into drydock:license properties (packageComponent) unless
// exact: what is written is the one string as written.
func cdxLicenses(ls []string) (_ *cdx.Licenses, exact bool) {
	n := license.Of(ls)
	one := len(ls) == 1
	switch {
	case n.Expression == "":
		return nil, true
	case len(n.Licenses) == 1 && n.Licenses[0].ID == n.Expression && n.SPDX && !strings.Contains(n.Expression, " WITH "):
		return &cdx.Licenses{{License: &cdx.License{ID: n.Expression}}}, one && ls[0] == n.Expression
	case len(n.Licenses) == 1 && n.Licenses[0].ID == n.Expression && !n.SPDX:
		return &cdx.Licenses{{License: &cdx.License{Name: n.Original}}}, one && ls[0] == n.Original
	}
	return &cdx.Licenses{{Expression: n.Expression}}, one && ls[0] == n.Expression
}

func cdxProps(ps []prop) *[]cdx.Property {
	if len(ps) == 0 {
		return nil
	}
	out := make([]cdx.Property, len(ps))
	for i, p := range ps {
		out[i] = cdx.Property{Name: p.name, Value: p.value}
	}
	return &out
}

func ptrIfAny(s []string) *[]string {
	if len(s) == 0 {
		return nil
	}
	return &s
}

// vulnerability converts one finding; its bom-ref is the finding key.
func vulnerability(f *finding.Finding, refs map[string]string, tool report.Tool) cdx.Vulnerability {
	v := cdx.Vulnerability{
		BOMRef:      f.Key(),
		ID:          f.ID,
		Source:      vulnSource(f.ID, f),
		Description: f.Description,
		Detail:      f.Title,
	}
	if v.Description == "" {
		v.Description, v.Detail = f.Title, ""
	}
	if !f.Published.IsZero() {
		v.Published = timestamp(f.Published)
	}
	if !f.Modified.IsZero() {
		v.Updated = timestamp(f.Modified)
	}
	var refsOut []cdx.VulnerabilityReference
	recordSource := ""
	if len(f.Evidence) > 0 {
		recordSource = f.Evidence[0].DataSource
	}
	for _, a := range f.Aliases {
		refsOut = append(refsOut, cdx.VulnerabilityReference{ID: a, Source: referenceSource(a, recordSource)})
	}
	if len(refsOut) > 0 {
		v.References = &refsOut
	}

	var ratings []cdx.VulnerabilityRating
	for _, c := range f.CVSS {
		score := c.Score
		ratings = append(ratings, cdx.VulnerabilityRating{
			Source:   &cdx.Source{Name: c.Source},
			Score:    &score,
			Severity: cvssSeverity(c.Version, c.Score),
			Method:   cvssMethod(c.Version),
			Vector:   c.Vector,
		})
	}
	sevSource := f.SeveritySource
	if sevSource == "vendor" && len(f.Evidence) > 0 {
		sevSource = f.Evidence[0].DataSource
	}
	rating := cdx.VulnerabilityRating{Severity: cdxSeverity(f.Severity), Method: cdx.ScoringMethodOther}
	if sevSource != "" {
		rating.Source = &cdx.Source{Name: sevSource}
	}
	if f.VendorSeverity != "" {
		rating.Justification = "vendor severity: " + f.VendorSeverity
	}
	ratings = append(ratings, rating)
	v.Ratings = &ratings

	var adv []cdx.Advisory
	for _, u := range f.References {
		adv = append(adv, cdx.Advisory{URL: u})
	}
	if len(adv) > 0 {
		v.Advisories = &adv
	}
	v.Tools = &cdx.ToolsChoice{Components: &[]cdx.Component{{
		Type: cdx.ComponentTypeApplication, Name: tool.Name, Version: tool.Version,
	}}}

	v.Analysis = analysis(f)
	// The installed version is unaffected when a VEX statement says so or
	// says it carries the fix (a backport); accepted risks stay affected.
	status := cdx.VulnerabilityStatusAffected
	if v.Analysis != nil {
		switch v.Analysis.State {
		case cdx.IASNotAffected, cdx.IASFalsePositive, cdx.IASResolved:
			status = cdx.VulnerabilityStatusNotAffected
		}
	}
	versions := []cdx.AffectedVersions{{Version: f.InstalledVersion, Status: status}}
	if rng := versRange(f); rng != "" {
		versions = append(versions, cdx.AffectedVersions{Range: rng, Status: cdx.VulnerabilityStatusAffected})
	}
	ref := refs[f.Package.ID]
	if ref == "" {
		ref = f.Package.ID
	}
	v.Affects = &[]cdx.Affects{{Ref: ref, Range: &versions}}

	var props []prop
	if f.KEV {
		props = append(props, prop{PropKEV, "true"})
	}
	if f.FixedVersion != "" {
		props = append(props, prop{PropFixedVersion, f.FixedVersion})
	}
	props = append(props, prop{PropStatus, f.Status})
	if f.SeveritySource != "" {
		props = append(props, prop{PropSeveritySource, f.SeveritySource})
	}
	if f.VendorSeverity != "" {
		props = append(props, prop{PropVendorSeverity, f.VendorSeverity})
	}
	props = append(props, prop{PropPackageID, f.Package.ID})
	v.Properties = cdxProps(props)
	return v
}

// cweEmbeddedMaliciousCode is CWE-506, the weakness OpenSSF's and GitHub's
// malware records name.
const cweEmbeddedMaliciousCode = 506

// malwareVulnerability converts a malware finding; its bom-ref is
// "malware:" and the finding's key. Malware has one rating, critical.
func malwareVulnerability(m *report.Malware, refs map[string]string, imageRef string, tool report.Tool) cdx.Vulnerability {
	v := cdx.Vulnerability{
		BOMRef:      "malware:" + m.Key(),
		ID:          m.ID,
		Description: m.Description,
		Detail:      m.Title,
		CWEs:        &[]int{cweEmbeddedMaliciousCode},
	}
	if v.Description == "" {
		v.Description, v.Detail = m.Title, ""
	}
	if m.Kind == vocab.MalwarePackage {
		v.Source = vulnSource(m.ID, nil)
	} else if m.Source != "" {
		v.Source = &cdx.Source{Name: m.Source}
	}
	var refsOut []cdx.VulnerabilityReference
	for _, a := range m.Aliases {
		refsOut = append(refsOut, cdx.VulnerabilityReference{ID: a, Source: referenceSource(a, m.Source)})
	}
	if len(refsOut) > 0 {
		v.References = &refsOut
	}
	rating := cdx.VulnerabilityRating{Severity: cdx.SeverityCritical, Method: cdx.ScoringMethodOther,
		Justification: "malware: a malicious package or a known-bad file is always critical"}
	if m.Source != "" {
		rating.Source = &cdx.Source{Name: m.Source}
	}
	v.Ratings = &[]cdx.VulnerabilityRating{rating}
	var adv []cdx.Advisory
	for _, u := range m.References {
		adv = append(adv, cdx.Advisory{URL: u})
	}
	if len(adv) > 0 {
		v.Advisories = &adv
	}
	v.Tools = &cdx.ToolsChoice{Components: &[]cdx.Component{{
		Type: cdx.ComponentTypeApplication, Name: tool.Name, Version: tool.Version,
	}}}
	for i := range m.Annotations {
		if a := &m.Annotations[i]; a.Kind == vocab.AnnotationSuppressed {
			// Allowed by an ignore entry: an accepted risk, as for
			// vulnerabilities.
			v.Analysis = &cdx.VulnerabilityAnalysis{State: cdx.IASExploitable,
				Response: &[]cdx.ImpactAnalysisResponse{cdx.IARWillNotFix}, Detail: annotationDetail(a)}
			break
		}
	}
	props := []prop{{PropMalwareKind, m.Kind}, {PropMalwareEngine, m.Engine}}
	ref := imageRef
	if m.Package != nil {
		if ref = refs[m.Package.ID]; ref == "" {
			ref = m.Package.ID
		}
		v.Affects = &[]cdx.Affects{{Ref: ref, Range: &[]cdx.AffectedVersions{{Version: m.Package.Version, Status: cdx.VulnerabilityStatusAffected}}}}
		props = append(props, prop{PropPackageID, m.Package.ID})
	} else {
		v.Affects = &[]cdx.Affects{{Ref: ref}}
		props = append(props, prop{PropMalwarePath, m.Path}, prop{PropMalwareSHA256, m.SHA256})
	}
	props = append(props, prop{PropLayerIndex, strconv.Itoa(m.LayerIndex)})
	if m.DeletedInLayer != nil {
		props = append(props, prop{PropMalwareDeletedInLayer, strconv.Itoa(*m.DeletedInLayer)})
	}
	v.Properties = cdxProps(props)
	return v
}

// vulnSource names the database an ID comes from, with its page when the
// ID's form makes it known.
func vulnSource(id string, f *finding.Finding) *cdx.Source {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(id, "GHSA-"):
		return &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/" + id}
	case strings.HasPrefix(id, "GO-"):
		return &cdx.Source{Name: "Go Vulnerability Database", URL: "https://pkg.go.dev/vuln/" + id}
	case strings.HasPrefix(id, "ALSA-"):
		return &cdx.Source{Name: "AlmaLinux", URL: "https://errata.almalinux.org/" + almaRelease(f) + strings.ReplaceAll(id, ":", "-") + ".html"}
	}
	if f != nil && len(f.Evidence) > 0 && f.Evidence[0].DataSource != "" {
		return &cdx.Source{Name: f.Evidence[0].DataSource}
	}
	return nil
}

// referenceSource is the source of an alias in vulnerabilities[].references,
// which the CycloneDX schema requires: the database the ID belongs to when
// drydock knows it (vulnSource), else the source of the record that named
// the alias, else the ID's prefix ("SNYK" for SNYK-PYTHON-…).
func referenceSource(id, recordSource string) *cdx.Source {
	if s := vulnSource(id, nil); s != nil {
		return s
	}
	if recordSource != "" {
		return &cdx.Source{Name: recordSource}
	}
	prefix, _, _ := strings.Cut(id, "-")
	return &cdx.Source{Name: prefix}
}

func almaRelease(f *finding.Finding) string {
	if f == nil {
		return ""
	}
	for _, e := range f.Evidence {
		if rel, ok := strings.CutPrefix(e.Ecosystem, "AlmaLinux:"); ok && rel != "" {
			return rel + "/"
		}
	}
	return ""
}

func cvssMethod(version string) cdx.ScoringMethod {
	switch version {
	case "3.1":
		return cdx.ScoringMethodCVSSv31
	case "3.0", "3":
		return cdx.ScoringMethodCVSSv3
	case "4.0", "4":
		return cdx.ScoringMethodCVSSv4
	case "2.0", "2":
		return cdx.ScoringMethodCVSSv2
	}
	return cdx.ScoringMethodOther
}

// cvssSeverity is the qualitative rating of a CVSS score.
func cvssSeverity(version string, score float64) cdx.Severity {
	if strings.HasPrefix(version, "2") {
		switch {
		case score >= 7:
			return cdx.SeverityHigh
		case score >= 4:
			return cdx.SeverityMedium
		}
		return cdx.SeverityLow
	}
	switch {
	case score >= 9:
		return cdx.SeverityCritical
	case score >= 7:
		return cdx.SeverityHigh
	case score >= 4:
		return cdx.SeverityMedium
	case score > 0:
		return cdx.SeverityLow
	}
	return cdx.SeverityNone
}

func cdxSeverity(s string) cdx.Severity {
	switch s {
	case vocab.SevCritical:
		return cdx.SeverityCritical
	case vocab.SevHigh:
		return cdx.SeverityHigh
	case vocab.SevMedium:
		return cdx.SeverityMedium
	case vocab.SevLow:
		return cdx.SeverityLow
	case vocab.SevNegligible:
		return cdx.SeverityInfo
	}
	return cdx.SeverityUnknown
}

// versRange turns the matched range (">=0, <1.35.0-r18") into a vers string
// ("vers:apk/<1.35.0-r18").
func versRange(f *finding.Finding) string {
	if len(f.Evidence) == 0 || f.Evidence[0].Range == "" {
		return ""
	}
	scheme := ""
	if p, err := packageurl.FromString(f.Package.PURL); err == nil {
		scheme = p.Type
	}
	if scheme == "" {
		scheme = f.Evidence[0].Comparator
	}
	if scheme == "" {
		return ""
	}
	var cons []string
	for _, c := range strings.Split(f.Evidence[0].Range, ",") {
		c = strings.Join(strings.Fields(c), "")
		if c == "" || c == ">=0" {
			continue
		}
		cons = append(cons, c)
	}
	if len(cons) == 0 {
		return "vers:" + scheme + "/*"
	}
	return "vers:" + scheme + "/" + strings.Join(cons, "|")
}

// vexJustification maps an OpenVEX (or CycloneDX) justification to the
// CycloneDX one, or "" when it is neither.
func vexJustification(j string) cdx.ImpactAnalysisJustification {
	switch j {
	case "component_not_present", "vulnerable_code_not_present":
		return cdx.IAJCodeNotPresent
	case "vulnerable_code_not_in_execute_path":
		return cdx.IAJCodeNotReachable
	case "vulnerable_code_cannot_be_controlled_by_adversary":
		return cdx.IAJRequiresEnvironment
	case "inline_mitigations_already_exist":
		return cdx.IAJProtectedByMitigatingControl
	}
	switch c := cdx.ImpactAnalysisJustification(j); c {
	case cdx.IAJCodeNotPresent, cdx.IAJCodeNotReachable, cdx.IAJRequiresConfiguration, cdx.IAJRequiresDependency,
		cdx.IAJRequiresEnvironment, cdx.IAJProtectedByCompiler, cdx.IAJProtectedAtRuntime,
		cdx.IAJProtectedAtPerimeter, cdx.IAJProtectedByMitigatingControl:
		return c
	}
	return ""
}

// analysis derives the CycloneDX 1.6 impact analysis from the annotations,
// saying what happened rather than what would silence the finding:
//   - a VEX statement wins: not_affected → "not_affected" with its
//     justification, fixed → "resolved" ("the vulnerability has been
//     remediated"), affected → "exploitable", under_investigation →
//     "in_triage";
//   - a finding whose CVEs VEX statements decide one by one (a vendor
//     advisory: their status names the CVEs, "not_affected (CVE-…)") is
//     assessed by the suppression they add together: "not_affected" or
//     "resolved"; while some CVE is undecided it gets no analysis;
//   - a suppression without VEX (an ignore-file entry, --ignore-unfixed) is
//     an accepted risk: the flaw is still there, so "exploitable" with the
//     response "will_not_fix", or "can_not_fix" when no fixed version
//     exists. Its reason is free text, kept in the detail, never read as a
//     VEX status or justification;
//   - the --severity filter is a view, not an assessment: no analysis.
func analysis(f *finding.Finding) *cdx.VulnerabilityAnalysis {
	var supp *finding.Annotation
	for i := range f.Annotations {
		a := &f.Annotations[i]
		switch a.Kind {
		case vocab.AnnotationVEX:
			an := &cdx.VulnerabilityAnalysis{Detail: annotationDetail(a)}
			switch strings.ToLower(a.Status) {
			case "not_affected":
				an.State = cdx.IASNotAffected
				an.Justification = vexReasonJustification(a.Reason)
			case "fixed":
				an.State = cdx.IASResolved
			case "affected":
				an.State = cdx.IASExploitable
			case "under_investigation":
				an.State = cdx.IASInTriage
			default:
				continue
			}
			return an
		case vocab.AnnotationSuppressed:
			if supp == nil {
				supp = a
			}
		}
	}
	if supp == nil {
		return nil
	}
	switch strings.ToLower(supp.Status) {
	case "not_affected":
		an := &cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Detail: annotationDetail(supp)}
		for _, a := range f.Annotations {
			if a.Kind == vocab.AnnotationVEX && strings.HasPrefix(strings.ToLower(a.Status), "not_affected") {
				if an.Justification = vexReasonJustification(a.Reason); an.Justification != "" {
					break
				}
			}
		}
		return an
	case "fixed":
		return &cdx.VulnerabilityAnalysis{State: cdx.IASResolved, Detail: annotationDetail(supp)}
	}
	response := cdx.IARWillNotFix
	if f.FixedVersion == "" {
		response = cdx.IARCanNotFix
	}
	return &cdx.VulnerabilityAnalysis{
		State:    cdx.IASExploitable,
		Response: &[]cdx.ImpactAnalysisResponse{response},
		Detail:   annotationDetail(supp),
	}
}

// vexReasonJustification reads the justification a VEX annotation's reason
// starts with (the impact statement follows after ": ").
func vexReasonJustification(reason string) cdx.ImpactAnalysisJustification {
	just, _, _ := strings.Cut(reason, ":")
	return vexJustification(strings.ToLower(strings.TrimSpace(just)))
}

func annotationDetail(a *finding.Annotation) string {
	var parts []string
	if a.Reason != "" {
		parts = append(parts, a.Reason)
	}
	if a.Source != "" {
		parts = append(parts, "source: "+a.Source)
	}
	if a.Expires != "" {
		parts = append(parts, "expires: "+a.Expires)
	}
	return strings.Join(parts, "; ")
}
