package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/license"
	"github.com/drydock-scan/drydock/internal/report"
)

// SPDX 3.0.1 JSON-LD: the context every document names and the version its
// CreationInfo states.
const (
	SPDX3Context = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
	SPDX3Version = "3.0.1"
	// spdx3CreationInfo is the blank node of the one CreationInfo every
	// element shares.
	spdx3CreationInfo = "_:creationinfo"
)

// spdx3Doc is an SPDX 3 JSON-LD document: the context and a flat graph of
// objects. The model is written by hand (see WriteSPDX3 for why no library).
type spdx3Doc struct {
	Context string `json:"@context"`
	Graph   []any  `json:"@graph"`
}

type spdx3CreationInfoObj struct {
	Type         string   `json:"type"`
	ID           string   `json:"@id"`
	SpecVersion  string   `json:"specVersion"`
	Created      string   `json:"created"`
	CreatedBy    []string `json:"createdBy"`
	CreatedUsing []string `json:"createdUsing,omitempty"`
}

// spdx3Element holds the properties of every element class drydock writes;
// the class (Type) decides which are set.
type spdx3Element struct {
	Type         string `json:"type"`
	SpdxID       string `json:"spdxId"`
	CreationInfo string `json:"creationInfo"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description,omitempty"`
	Comment      string `json:"comment,omitempty"`

	ExternalIdentifier []spdx3ExternalIdentifier `json:"externalIdentifier,omitempty"`

	// SpdxDocument, software_Sbom.
	ProfileConformance []string `json:"profileConformance,omitempty"`
	RootElement        []string `json:"rootElement,omitempty"`
	Element            []string `json:"element,omitempty"`
	SbomType           []string `json:"software_sbomType,omitempty"`

	// software_Package.
	PackageVersion   string `json:"software_packageVersion,omitempty"`
	PackageURL       string `json:"software_packageUrl,omitempty"`
	DownloadLocation string `json:"software_downloadLocation,omitempty"`
	PrimaryPurpose   string `json:"software_primaryPurpose,omitempty"`
	SourceInfo       string `json:"software_sourceInfo,omitempty"`

	// Relationship.
	From             string   `json:"from,omitempty"`
	RelationshipType string   `json:"relationshipType,omitempty"`
	To               []string `json:"to,omitempty"`

	// Annotation.
	AnnotationType string `json:"annotationType,omitempty"`
	Subject        string `json:"subject,omitempty"`
	Statement      string `json:"statement,omitempty"`

	// simplelicensing_LicenseExpression, simplelicensing_SimpleLicensingText.
	LicenseExpression string                 `json:"simplelicensing_licenseExpression,omitempty"`
	CustomIDToURI     []spdx3DictionaryEntry `json:"simplelicensing_customIdToUri,omitempty"`
	LicenseText       string                 `json:"simplelicensing_licenseText,omitempty"`
}

type spdx3ExternalIdentifier struct {
	Type                   string `json:"type"`
	ExternalIdentifierType string `json:"externalIdentifierType"`
	Identifier             string `json:"identifier"`
}

type spdx3DictionaryEntry struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SPDX3 converts r into an SPDX 3.0.1 JSON-LD document, the same content as
// the SPDX 2.3 one: an SpdxDocument whose root is a software_Sbom
// ("analyzed") whose root is the image (a software_Package of purpose
// "container") that the document describes; the distro as a package of
// purpose "operatingSystem"; one software_Package per drydock package
// (spdxId from its ID, software_packageVersion, software_packageUrl and a
// packageUrl externalIdentifier); "contains" relationships from the image
// to every package and from OS packages to the language packages in their
// files; each distinct licence expression once as a
// simplelicensing_LicenseExpression that packages point to with
// "hasDeclaredLicense" (drydock reads metadata: it declares, it concludes
// nothing, so there is no hasConcludedLicense), each LicenseRef declared
// once as a simplelicensing_SimpleLicensingText; drydock facts as
// Annotations ("drydock:<name>=<value>") of their element. Every element
// shares one CreationInfo (created = the report's time, createdBy drydock
// as a SoftwareAgent, createdUsing drydock as a Tool), so the same report
// gives the same bytes. r is not modified.
func SPDX3(r *report.Report) any {
	return spdx3(r)
}

func spdx3(r *report.Report) *spdx3Doc {
	r = r.Normalized()
	name := r.ImageName()
	if name == "" {
		name = "image"
	}
	ns := InformationURI + "/spdx3/" + sanitizeNamespace(name) + "-" + docUUID(r, "spdx3").String()
	id := func(local string) string { return ns + "#" + local }
	created := timestamp(r.CreatedAt)

	b := &spdx3Builder{id: id}
	agent, tool := id("agent-drydock"), id("tool-drydock")
	b.add(&spdx3Element{Type: "SoftwareAgent", SpdxID: agent, Name: toolName(r.Tool)})
	b.add(&spdx3Element{Type: "Tool", SpdxID: tool, Name: toolName(r.Tool)})

	imageID := id(spdxImageID)
	root := &spdx3Element{
		Type: "software_Package", SpdxID: imageID, Name: name,
		PackageVersion: r.Image.Digest, PrimaryPurpose: "container",
	}
	if root.PackageVersion == "" {
		root.PackageVersion = r.Image.ConfigDigest
	}
	if purl := imagePURL(&r.Image); purl != "" {
		root.PackageURL = purl
		root.ExternalIdentifier = purlIdentifier(purl)
	}
	b.add(root)
	b.annotate(imageID, "other", reportImageFacts(r))
	for i := range r.Malware {
		if m := &r.Malware[i]; m.Package == nil {
			b.annotate(imageID, "review", []prop{{PropMalwareFile, malwareFileFact(m)}})
		}
	}

	var contained []string
	if d := r.Distro; d != nil {
		osID := id(spdxOSID)
		b.add(&spdx3Element{
			Type: "software_Package", SpdxID: osID, Name: d.ID, PackageVersion: d.VersionID,
			Description: d.PrettyName, PrimaryPurpose: "operatingSystem",
		})
		b.annotate(osID, "other", distroFacts(d))
		contained = append(contained, osID)
	}

	malwareOf := malwareByPackage(r)
	lic := newSPDX3Licenses(b, id)
	refs := bomRefs(r.Packages)
	ids := map[string]string{}
	for i := range r.Packages {
		ids[r.Packages[i].ID] = id(spdxPkgIDPfx + sanitizeID(refs[i]))
	}
	for i := range r.Packages {
		p := &r.Packages[i]
		pid := ids[p.ID]
		e := &spdx3Element{
			Type: "software_Package", SpdxID: pid, Name: p.Name, PackageVersion: p.Version,
			PrimaryPurpose: "library",
		}
		if p.Metadata["main_module"] == "true" {
			e.PrimaryPurpose = "application"
		}
		if p.PURL != "" {
			e.PackageURL = p.PURL
			e.ExternalIdentifier = purlIdentifier(p.PURL)
		}
		if paths := locationPaths(p); paths != "" {
			src := p.FoundBy
			if src == "" {
				src = "drydock"
			}
			e.SourceInfo = "acquired package info from " + src + ": " + paths
		}
		b.add(e)
		facts := append(packageFacts(p), prop{PropPackageID, p.ID})
		if p.Vendor != "" {
			facts = append(facts, prop{PropVendor, p.Vendor})
		}
		for _, l := range p.Licenses {
			facts = append(facts, prop{PropLicense, l})
		}
		b.annotate(pid, "other", facts)
		for _, m := range malwareOf[p.ID] {
			b.annotate(pid, "review", []prop{{PropMalware, m}})
		}
		if l := lic.expression(p.Licenses); l != "" {
			b.relate(pid, "hasDeclaredLicense", l)
		}
		contained = append(contained, pid)
	}
	if len(contained) > 0 {
		b.relate(imageID, "contains", contained...)
	}
	owned := map[string][]string{} // owner's package ID → its packages' elements
	for i := range r.Packages {
		if o := r.Packages[i].Owner; o != "" {
			owned[o] = append(owned[o], ids[r.Packages[i].ID])
		}
	}
	for i := range r.Packages {
		if p := &r.Packages[i]; len(owned[p.ID]) > 0 {
			b.relate(ids[p.ID], "contains", owned[p.ID]...)
		}
	}

	sbomID, docID := id("sbom"), ns
	b.relate(docID, "describes", imageID)
	elements := b.ids()
	sbomEl := &spdx3Element{
		Type: "software_Sbom", SpdxID: sbomID, CreationInfo: spdx3CreationInfo, SbomType: []string{"analyzed"},
		RootElement: []string{imageID}, Element: elements,
	}
	doc := &spdx3Element{
		Type: "SpdxDocument", SpdxID: docID, CreationInfo: spdx3CreationInfo, Name: name,
		ProfileConformance: []string{"core", "software", "simpleLicensing"},
		RootElement:        []string{sbomID}, Element: append([]string{sbomID}, elements...),
	}
	graph := []any{&spdx3CreationInfoObj{
		Type: "CreationInfo", ID: spdx3CreationInfo, SpecVersion: SPDX3Version, Created: created,
		CreatedBy: []string{agent}, CreatedUsing: []string{tool},
	}, doc, sbomEl}
	for _, e := range b.elements {
		graph = append(graph, e)
	}
	return &spdx3Doc{Context: SPDX3Context, Graph: graph}
}

// WriteSPDX3 encodes SPDX3(r) as indented JSON-LD.
//
// The document is built from drydock's own types, not a library's:
// github.com/spdx/tools-golang has an SPDX 3 model only in v0.6.0-rc4, a
// pre-release that would replace the v0.5.7 the SPDX 2.3 writer and reader
// use (one version per module) and brings a JSON-LD processor
// (piprate/json-gold) for what is a fixed, flat graph. The output is checked
// against the SPDX 3.0.1 JSON schema instead (testdata/schema, sbom_test).
func WriteSPDX3(w io.Writer, r *report.Report) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(spdx3(r)); err != nil {
		return fmt.Errorf("encoding SPDX 3: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing SPDX 3: %w", err)
	}
	return nil
}

func purlIdentifier(purl string) []spdx3ExternalIdentifier {
	return []spdx3ExternalIdentifier{{Type: "ExternalIdentifier", ExternalIdentifierType: "packageUrl", Identifier: purl}}
}

// spdx3Builder collects elements in the order they are written and numbers
// the relationships and annotations.
type spdx3Builder struct {
	id       func(string) string
	elements []*spdx3Element
	rels     int
	anns     map[string]int
}

func (b *spdx3Builder) add(e *spdx3Element) {
	e.CreationInfo = spdx3CreationInfo
	b.elements = append(b.elements, e)
}

func (b *spdx3Builder) relate(from, typ string, to ...string) {
	b.rels++
	b.add(&spdx3Element{
		Type: "Relationship", SpdxID: b.id("relationship-" + strconv.Itoa(b.rels)),
		From: from, RelationshipType: typ, To: to,
	})
}

// annotate adds one Annotation per fact to subject, numbered per subject.
func (b *spdx3Builder) annotate(subject, typ string, ps []prop) {
	if b.anns == nil {
		b.anns = map[string]int{}
	}
	_, local, _ := strings.Cut(subject, "#")
	for _, p := range ps {
		b.anns[subject]++
		b.add(&spdx3Element{
			Type: "Annotation", SpdxID: b.id("annotation-" + local + "-" + strconv.Itoa(b.anns[subject])),
			AnnotationType: typ, Subject: subject, Statement: escapeName(p.name) + "=" + p.value,
		})
	}
}

func (b *spdx3Builder) ids() []string {
	out := make([]string, 0, len(b.elements))
	for _, e := range b.elements {
		out = append(out, e.SpdxID)
	}
	return out
}

// spdx3Licenses writes each distinct licence expression once, and each
// LicenseRef it uses once as a licensing text (its name as the metadata
// wrote it, as SPDX 2.3's hasExtractedLicensingInfos).
type spdx3Licenses struct {
	b     *spdx3Builder
	id    func(string) string
	exprs map[string]string // expression → element
	refs  map[string]string // LicenseRef → element
}

func newSPDX3Licenses(b *spdx3Builder, id func(string) string) *spdx3Licenses {
	return &spdx3Licenses{b: b, id: id, exprs: map[string]string{}, refs: map[string]string{}}
}

// expression returns the element of the packages' licence expression, ""
// when they have none.
func (l *spdx3Licenses) expression(ls []string) string {
	n := license.Of(ls)
	if n.Expression == "" {
		return ""
	}
	if e, ok := l.exprs[n.Expression]; ok {
		return e
	}
	var custom []spdx3DictionaryEntry
	seen := map[string]bool{}
	for _, x := range n.Licenses {
		ref := licenseRefOf(x.ID)
		if ref == "" || seen[ref] {
			continue
		}
		seen[ref] = true
		e, ok := l.refs[ref]
		if !ok {
			e = l.id(ref)
			l.refs[ref] = e
			text := licenseRefName(ref)
			l.b.add(&spdx3Element{
				Type: "simplelicensing_SimpleLicensingText", SpdxID: e, Name: text, LicenseText: text,
				Comment: licenseRefComment,
			})
		}
		custom = append(custom, spdx3DictionaryEntry{Type: "DictionaryEntry", Key: ref, Value: e})
	}
	e := l.id("license-" + strconv.Itoa(len(l.exprs)+1))
	l.exprs[n.Expression] = e
	l.b.add(&spdx3Element{
		Type: "simplelicensing_LicenseExpression", SpdxID: e,
		LicenseExpression: n.Expression, CustomIDToURI: custom,
	})
	return e
}
