package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// VEX formats.
const (
	FormatOpenVEX   = "openvex"
	FormatCycloneDX = "cyclonedx"
	FormatCSAF      = "csaf"
)

// VEX statuses (OpenVEX's words; other formats are mapped to them).
const (
	VEXNotAffected        = "not_affected"
	VEXFixed              = "fixed"
	VEXAffected           = "affected"
	VEXUnderInvestigation = "under_investigation"
)

// VEX is a loaded VEX document, normalised to statements.
type VEX struct {
	Source     string
	Format     string
	Statements []VEXStatement
	// Warnings are statements that were read but cannot be applied (no
	// package URL for any product).
	Warnings []string
}

// VEXStatement says that Vulnerability (any of its IDs) has Status in
// Products.
type VEXStatement struct {
	Vulnerabilities []string // ID and aliases
	Products        []VEXProduct
	Status          string
	Justification   string
	Impact          string // impact statement, analysis detail or action statement
	Timestamp       time.Time
}

// VEXProduct identifies where a statement applies. PURL is a package (or
// the image itself, for a pkg:oci URL); Parent, when set, is the product the
// package is a component of (OpenVEX subcomponents, CSAF relationships),
// which must be the scanned image when it is a pkg:oci URL.
type VEXProduct struct {
	PURL   string
	Parent string

	purl   *packageurl.PackageURL
	parent *packageurl.PackageURL
}

// LoadVEX reads a VEX document: OpenVEX, CycloneDX (JSON or XML) or CSAF 2.0.
func LoadVEX(path string) (*VEX, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading VEX: %w", err)
	}
	return ParseVEX(path, data)
}

// ParseVEX detects the format of a VEX document and parses it.
func ParseVEX(name string, data []byte) (*VEX, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	var (
		v   *VEX
		err error
	)
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("VEX %q: empty file", name)
	case trimmed[0] == '<':
		if !bytes.Contains(trimmed, []byte("cyclonedx.org/schema/bom")) {
			return nil, fmt.Errorf("VEX %q: XML but not a CycloneDX BOM", name)
		}
		v, err = parseCycloneDX(data, true)
	default:
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &probe); err != nil {
			return nil, fmt.Errorf("VEX %q: not a JSON object: %w", name, err)
		}
		_, hasBOM := probe["bomFormat"]
		_, hasDoc := probe["document"]
		_, hasStmts := probe["statements"]
		ctx := string(probe["@context"])
		switch {
		case hasBOM:
			v, err = parseCycloneDX(data, false)
		case hasDoc:
			v, err = parseCSAF(data)
		case hasStmts || strings.Contains(ctx, "openvex"):
			v, err = parseOpenVEX(data)
		default:
			return nil, fmt.Errorf("VEX %q: unrecognised format (want OpenVEX, CycloneDX or CSAF 2.0)", name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("VEX %q: %w", name, err)
	}
	v.Source = name
	for i := range v.Statements {
		s := &v.Statements[i]
		for j := range s.Products {
			p := &s.Products[j]
			if p.PURL != "" {
				if p.purl, err = parsePURL(p.PURL); err != nil {
					return nil, fmt.Errorf("VEX %q: product %q: %w", name, p.PURL, err)
				}
			}
			if strings.HasPrefix(p.Parent, "pkg:") {
				if p.parent, err = parsePURL(p.Parent); err != nil {
					return nil, fmt.Errorf("VEX %q: product %q: %w", name, p.Parent, err)
				}
			}
		}
	}
	return v, nil
}

// suppresses reports whether a statement status suppresses the finding.
func suppresses(status string) bool {
	return status == VEXNotAffected || status == VEXFixed
}

// imageMatcher decides whether a pkg:oci (or pkg:docker) URL names the
// scanned image.
type imageMatcher struct {
	digests []string // manifest digests
	names   []string // repository names, last path element
}

func newImageMatcher(img *inventory.Image) imageMatcher {
	var m imageMatcher
	add := func(digest string) {
		if digest != "" {
			m.digests = append(m.digests, digest)
		}
	}
	add(img.Digest)
	for _, rd := range img.RepoDigests {
		if _, d, ok := strings.Cut(rd, "@"); ok {
			add(d)
		}
		m.names = append(m.names, repoBase(rd))
	}
	for _, ref := range append([]string{img.Name, img.Reference}, img.RepoTags...) {
		if ref != "" {
			m.names = append(m.names, repoBase(ref))
		}
	}
	return m
}

// repoBase returns the last path element of an image reference without tag
// or digest: "registry:5000/library/alpine:3.16@sha256:…" → "alpine".
func repoBase(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	ref, _, _ = strings.Cut(ref, ":")
	return strings.ToLower(ref)
}

func isImagePURL(p *packageurl.PackageURL) bool {
	return p != nil && (p.Type == packageurl.TypeOCI || p.Type == packageurl.TypeDocker)
}

// matches reports whether an image package URL names the scanned image: by
// digest when it has a version that is a digest, else by name.
func (m imageMatcher) matches(p *packageurl.PackageURL) bool {
	if strings.Contains(p.Version, ":") { // a digest
		for _, d := range m.digests {
			if strings.EqualFold(d, p.Version) {
				return true
			}
		}
		return false
	}
	for _, n := range m.names {
		if strings.EqualFold(n, p.Name) {
			return true
		}
	}
	return false
}

// statementMatches reports whether statement s names one of the IDs of
// finding f and one of its products is f's package (or the image).
func statementMatches(s *VEXStatement, f *finding.Finding, pkg *packageurl.PackageURL, img imageMatcher) bool {
	if len(namedIDs(s.Vulnerabilities, f)) == 0 {
		return false
	}
	for i := range s.Products {
		p := &s.Products[i]
		if p.parent != nil && isImagePURL(p.parent) && !img.matches(p.parent) {
			continue
		}
		switch {
		case isImagePURL(p.purl) && p.Parent == "":
			// The whole image is covered.
			if img.matches(p.purl) {
				return true
			}
		case purlMatches(p.purl, pkg):
			return true
		}
	}
	return false
}

// namedIDs returns the IDs of f (its ID and aliases) that names holds,
// compared case-insensitively, in f's spelling.
func namedIDs(names []string, f *finding.Finding) []string {
	var out []string
	for _, id := range f.AllIDs() {
		for _, n := range names {
			if strings.EqualFold(n, id) {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

func isCVE(id string) bool { return len(id) > 4 && strings.EqualFold(id[:4], "CVE-") }

// cveIDs returns the distinct CVE IDs among f's ID and aliases, upper-case
// and sorted.
func cveIDs(f *finding.Finding) []string {
	var out []string
	for _, id := range f.AllIDs() {
		if isCVE(id) {
			out = append(out, strings.ToUpper(id))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// coveredCVEs returns the CVEs of a finding that a statement or an ignore
// entry naming named (IDs of the finding) covers, or nil when it covers the
// whole finding. A finding with at most one CVE is covered in full by any of
// its IDs. A finding that carries several CVEs (a vendor advisory such as
// ALSA-2023:5453, which fixes four) is covered CVE by CVE: a statement
// covers the CVEs it names, and the whole finding only when it names none
// of them, just the advisory (or another non-CVE ID). A CycloneDX statement
// about CVE-2023-4911 that lists ALSA-2023:5453 among its references still
// speaks of CVE-2023-4911 only.
func coveredCVEs(named []string, cves []string) []string {
	if len(cves) < 2 {
		return nil
	}
	var out []string
	for _, id := range named {
		if isCVE(id) {
			out = append(out, strings.ToUpper(id))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// inPart writes a status that holds for some CVEs of a finding only:
// "not_affected (CVE-2023-4911)". Readers that expect a bare status (the
// CycloneDX analysis, the table, policy rules on vex_status) do not take it
// for the status of the whole finding.
func inPart(status string, ids []string) string {
	return status + " (" + strings.Join(ids, ", ") + ")"
}

// partIDs returns the IDs of a status written by inPart, or nil.
func partIDs(status string) []string {
	_, list, ok := strings.Cut(status, " (")
	if !ok || !strings.HasSuffix(list, ")") {
		return nil
	}
	return strings.Split(strings.TrimSuffix(list, ")"), ", ")
}

// vexDecision is the statement that decides one CVE of a finding (or the
// whole finding).
type vexDecision struct {
	s   *VEXStatement
	src string
	ids []string // the CVEs it decides; nil: the whole finding
}

func (d *vexDecision) reason() string {
	r := d.s.Justification
	if d.s.Impact != "" {
		if r != "" {
			r += ": "
		}
		r += d.s.Impact
	}
	return r
}

// applyVEX annotates the findings of r that a statement of docs covers.
// Each CVE of a finding is decided by the latest statement that covers it
// (by timestamp, then by order of documents and statements); a statement
// that names the finding's advisory ID, or a finding with at most one CVE,
// is decided as a whole (see coveredCVEs). The finding is suppressed only
// when every one of its CVEs is decided not_affected or fixed: a statement
// about CVE-2023-4911 annotates ALSA-2023:5453 but does not hide the three
// other CVEs the advisory fixes.
func applyVEX(docs []*VEX, r *result.Result, purls purlCache) {
	img := newImageMatcher(&r.Image)
	for i := range r.Findings {
		f := &r.Findings[i]
		pkg := purls.get(f.Package.PURL)
		cves := cveIDs(f)
		units := cves
		if len(units) < 2 {
			units = []string{""} // the finding as a whole
		}
		best := make([]*vexDecision, len(units))
		for _, d := range docs {
			if d == nil {
				continue
			}
			for j := range d.Statements {
				s := &d.Statements[j]
				if !statementMatches(s, f, pkg, img) {
					continue
				}
				covered := coveredCVEs(namedIDs(s.Vulnerabilities, f), cves)
				for u, id := range units {
					if covered != nil && !slices.Contains(covered, id) {
						continue
					}
					if best[u] == nil || !s.Timestamp.Before(best[u].s.Timestamp) {
						best[u] = &vexDecision{s: s, src: d.Source}
					}
				}
			}
		}
		// Group the CVEs by the statement that decides them, in CVE order.
		var decisions []*vexDecision
		all := true
		for u, b := range best {
			if b == nil {
				all = false
				continue
			}
			k := slices.IndexFunc(decisions, func(x *vexDecision) bool { return x.s == b.s })
			if k < 0 {
				decisions = append(decisions, &vexDecision{s: b.s, src: b.src})
				k = len(decisions) - 1
			}
			if units[u] != "" {
				decisions[k].ids = append(decisions[k].ids, units[u])
			}
		}
		if len(decisions) == 0 {
			continue
		}
		suppress := all
		for _, d := range decisions {
			status := d.s.Status
			if all && len(decisions) == 1 {
				d.ids = nil // one statement decides the whole finding
			} else {
				status = inPart(status, d.ids)
			}
			f.Annotations = addAnnotation(f.Annotations, finding.Annotation{
				Kind: vocab.AnnotationVEX, Source: d.src, Status: status, Reason: d.reason()})
			suppress = suppress && suppresses(d.s.Status)
		}
		if suppress {
			f.Annotations = addAnnotation(f.Annotations, vexSuppression(decisions))
		}
	}
}

// vexSuppression is the suppressed annotation of a finding whose every CVE
// is decided not_affected or fixed by decisions.
func vexSuppression(decisions []*vexDecision) finding.Annotation {
	if len(decisions) == 1 && decisions[0].ids == nil {
		d := decisions[0]
		sr := "VEX " + d.s.Status
		if r := d.reason(); r != "" {
			sr += ": " + r
		}
		return finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: d.src, Status: d.s.Status, Reason: sr}
	}
	status := VEXFixed
	var srcs, parts []string
	for _, d := range decisions {
		if d.s.Status != VEXFixed {
			status = VEXNotAffected
		}
		if !slices.Contains(srcs, d.src) {
			srcs = append(srcs, d.src)
		}
		part := inPart(d.s.Status, d.ids)
		if r := d.reason(); r != "" {
			part += ": " + r
		}
		parts = append(parts, part)
	}
	return finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: strings.Join(srcs, ", "), Status: status,
		Reason: "VEX " + strings.Join(parts, "; ")}
}

// addAnnotation appends a unless an identical annotation is already there,
// so that evaluating a saved report again does not duplicate annotations.
func addAnnotation(as []finding.Annotation, a finding.Annotation) []finding.Annotation {
	for _, x := range as {
		if x == a {
			return as
		}
	}
	return append(as, a)
}

// parseTime parses an RFC 3339 time, or returns the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t
}
