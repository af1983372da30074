package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// statementMatches reports whether statement s covers finding f.
func statementMatches(s *VEXStatement, f *finding.Finding, pkg *packageurl.PackageURL, img imageMatcher) bool {
	idOK := false
	for _, v := range s.Vulnerabilities {
		for _, id := range f.AllIDs() {
			if strings.EqualFold(v, id) {
				idOK = true
			}
		}
	}
	if !idOK {
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

// applyVEX annotates the findings of r that a statement of docs covers. The
// latest statement wins (by timestamp, then by order of documents and
// statements).
func applyVEX(docs []*VEX, r *result.Result, purls purlCache) {
	img := newImageMatcher(&r.Image)
	for i := range r.Findings {
		f := &r.Findings[i]
		pkg := purls.get(f.Package.PURL)
		var (
			best    *VEXStatement
			bestSrc string
		)
		for _, d := range docs {
			if d == nil {
				continue
			}
			for j := range d.Statements {
				s := &d.Statements[j]
				if !statementMatches(s, f, pkg, img) {
					continue
				}
				if best == nil || !s.Timestamp.Before(best.Timestamp) {
					best, bestSrc = s, d.Source
				}
			}
		}
		if best == nil {
			continue
		}
		reason := best.Justification
		if best.Impact != "" {
			if reason != "" {
				reason += ": "
			}
			reason += best.Impact
		}
		f.Annotations = addAnnotation(f.Annotations, finding.Annotation{
			Kind: vocab.AnnotationVEX, Source: bestSrc, Status: best.Status, Reason: reason})
		if suppresses(best.Status) {
			sr := "VEX " + best.Status
			if reason != "" {
				sr += ": " + reason
			}
			f.Annotations = addAnnotation(f.Annotations, finding.Annotation{
				Kind: vocab.AnnotationSuppressed, Source: bestSrc, Status: best.Status, Reason: sr})
		}
	}
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
