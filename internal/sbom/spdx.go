package sbom

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/license"
	"github.com/drydock-scan/drydock/internal/report"
)

// SPDX element IDs (without the "SPDXRef-" prefix the library adds).
const (
	spdxImageID  = "DocumentRoot-Image"
	spdxOSID     = "OperatingSystem"
	spdxPkgIDPfx = "Package-"
	noAssertion  = "NOASSERTION"
)

// SPDX converts r into an SPDX 2.3 document: the image as the root package
// the document DESCRIBES, the distro as an OPERATING_SYSTEM package, one
// package per drydock package (SPDXID from its ID, purl external reference,
// licenseDeclared) that the image CONTAINS, and OS packages CONTAINing the
// language packages in their files. drydock facts are package annotations
// whose comment is "drydock:<name>=<value>". r is not modified.
func SPDX(r *report.Report) *spdx.Document {
	r = r.Normalized()
	created := timestamp(r.CreatedAt)
	annotator := spdx.Annotator{Annotator: toolName(r.Tool), AnnotatorType: "Tool"}
	annotate := func(ps []prop) []spdx.Annotation {
		var out []spdx.Annotation
		for _, p := range ps {
			out = append(out, spdx.Annotation{
				Annotator: annotator, AnnotationDate: created, AnnotationType: "OTHER",
				AnnotationComment: escapeName(p.name) + "=" + p.value,
			})
		}
		return out
	}

	name := r.ImageName()
	if name == "" {
		name = "image"
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: InformationURI + "/spdx/" + sanitizeNamespace(name) + "-" + docUUID(r, "spdx").String(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{Creator: toolName(r.Tool), CreatorType: "Tool"}},
			Created:  created,
		},
	}

	// Malware: SPDX 2.3 has no vulnerabilities; each known-bad file is a
	// REVIEW annotation of the image, each malicious package one of its
	// package.
	review := func(name, value string) *spdx.Annotation {
		return &spdx.Annotation{Annotator: annotator, AnnotationDate: created, AnnotationType: "REVIEW",
			AnnotationComment: escapeName(name) + "=" + value}
	}
	malwareOf := malwareByPackage(r)
	var fileReviews []spdx.Annotation
	for i := range r.Malware {
		if m := &r.Malware[i]; m.Package == nil {
			fileReviews = append(fileReviews, *review(PropMalwareFile, malwareFileFact(m)))
		}
	}

	root := &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   spdxImageID,
		PackageVersion:          r.Image.Digest,
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
		Annotations:             append(annotate(reportImageFacts(r)), fileReviews...),
	}
	if root.PackageVersion == "" {
		root.PackageVersion = r.Image.ConfigDigest
	}
	if purl := imagePURL(&r.Image); purl != "" {
		root.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: "PACKAGE-MANAGER", RefType: "purl", Locator: purl,
		}}
	}
	doc.Packages = append(doc.Packages, root)
	rel := func(a, typ, b string) *spdx.Relationship {
		return &spdx.Relationship{
			RefA:         common.MakeDocElementID("", a),
			RefB:         common.MakeDocElementID("", b),
			Relationship: typ,
		}
	}
	doc.Relationships = append(doc.Relationships, rel("DOCUMENT", "DESCRIBES", spdxImageID))

	if d := r.Distro; d != nil {
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName:             d.ID,
			PackageSPDXIdentifier:   spdxOSID,
			PackageVersion:          d.VersionID,
			PackageDescription:      d.PrettyName,
			PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  noAssertion,
			PackageCopyrightText:    noAssertion,
			PrimaryPackagePurpose:   "OPERATING_SYSTEM", // the JSON schema's spelling (tag-value uses a dash)
			Annotations:             annotate(distroFacts(d)),
		})
		doc.Relationships = append(doc.Relationships, rel(spdxImageID, "CONTAINS", spdxOSID))
	}

	lic := newLicenseRefs()
	refs := bomRefs(r.Packages)
	ids := map[string]string{}
	for i := range r.Packages {
		ids[r.Packages[i].ID] = spdxPkgIDPfx + sanitizeID(refs[i])
	}
	for i := range r.Packages {
		p := &r.Packages[i]
		id := ids[p.ID]
		sp := &spdx.Package{
			PackageName:             p.Name,
			PackageSPDXIdentifier:   common.ElementID(id),
			PackageVersion:          p.Version,
			PackageSupplier:         &common.Supplier{Supplier: noAssertion},
			PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  lic.expression(p.Licenses),
			PackageCopyrightText:    noAssertion,
			PrimaryPackagePurpose:   "LIBRARY",
		}
		if p.Vendor != "" {
			sp.PackageSupplier = &common.Supplier{Supplier: p.Vendor, SupplierType: "Organization"}
		}
		if p.Metadata["main_module"] == "true" {
			sp.PrimaryPackagePurpose = "APPLICATION"
		}
		if p.PURL != "" {
			sp.PackageExternalReferences = []*spdx.PackageExternalReference{{
				Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p.PURL,
			}}
		}
		if paths := locationPaths(p); paths != "" {
			src := p.FoundBy
			if src == "" {
				src = "drydock"
			}
			sp.PackageSourceInfo = "acquired package info from " + src + ": " + paths
		}
		facts := append(packageFacts(p), prop{PropPackageID, p.ID})
		for _, l := range p.Licenses {
			facts = append(facts, prop{PropLicense, l})
		}
		sp.Annotations = annotate(facts)
		for _, id := range malwareOf[p.ID] {
			sp.Annotations = append(sp.Annotations, *review(PropMalware, id))
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, rel(spdxImageID, "CONTAINS", id))
	}
	for i := range r.Packages {
		p := &r.Packages[i]
		if owner, ok := ids[p.Owner]; ok && p.Owner != "" {
			doc.Relationships = append(doc.Relationships, rel(owner, "CONTAINS", ids[p.ID]))
		}
	}
	doc.OtherLicenses = lic.others
	return doc
}

// WriteSPDX encodes SPDX(r) as indented JSON.
func WriteSPDX(w io.Writer, r *report.Report) error {
	if err := spdxjson.Write(SPDX(r), w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return fmt.Errorf("encoding SPDX: %w", err)
	}
	return nil
}

func locationPaths(p *inventory.Package) string {
	var paths []string
	for _, l := range p.Locations {
		paths = append(paths, l.Path)
	}
	return strings.Join(paths, ", ")
}

var (
	notIDChar = regexp.MustCompile(`[^A-Za-z0-9.-]+`)
	notNSChar = regexp.MustCompile(`[^A-Za-z0-9._~-]+`)
)

// sanitizeID keeps the characters an SPDX element ID may hold.
func sanitizeID(s string) string {
	s = strings.Trim(notIDChar.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "x"
	}
	return s
}

func sanitizeNamespace(s string) string {
	return strings.Trim(notNSChar.ReplaceAllString(s, "-"), "-")
}

// licenseRefs turns a package's licence strings into an SPDX expression
// (internal/license normalises them), declaring each LicenseRef the
// expressions use once. Its name and text are the licence as package
// metadata names it, read back from the id (LicenseRef-GPLv3-plus-with-exceptions
// is "GPLv3+ with exceptions"); the packages' own strings are in their
// drydock:license annotations.
type licenseRefs struct {
	used   map[string]bool
	others []*spdx.OtherLicense
}

func newLicenseRefs() *licenseRefs {
	return &licenseRefs{used: map[string]bool{}}
}

func (l *licenseRefs) expression(ls []string) string {
	n := license.Of(ls)
	if n.Expression == "" {
		return noAssertion
	}
	for _, x := range n.Licenses {
		if id := licenseRefOf(x.ID); id != "" && !l.used[id] {
			l.used[id] = true
			name := licenseRefName(id)
			l.others = append(l.others, &spdx.OtherLicense{
				LicenseIdentifier: id,
				ExtractedText:     name,
				LicenseName:       name,
				LicenseComment:    licenseRefComment,
			})
		}
	}
	return n.Expression
}
