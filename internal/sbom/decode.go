package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"

	"github.com/drydock-scan/drydock/internal/distro"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
)

// MaxDocumentSize is the largest SBOM document Decode reads.
const MaxDocumentSize = 256 << 20

// Property names of other producers that Decode understands.
const (
	trivyPrefix      = "aquasecurity:trivy:"
	trivySrcName     = trivyPrefix + "SrcName"
	trivySrcVersion  = trivyPrefix + "SrcVersion"
	trivySrcRelease  = trivyPrefix + "SrcRelease"
	trivyLayerDiffID = trivyPrefix + "LayerDiffID"
	trivyFilePath    = trivyPrefix + "FilePath"
	trivyImageID     = trivyPrefix + "ImageID"
	trivyDiffID      = trivyPrefix + "DiffID"
	trivyRepoTag     = trivyPrefix + "RepoTag"
	trivyRepoDigest  = trivyPrefix + "RepoDigest"
	trivyClass       = trivyPrefix + "Class"
	syftFoundBy      = "syft:package:foundBy"
	syftLocation     = "syft:location:"
	syftOrigin       = "syft:metadata:originPackage"
	syftDebSource    = "syft:metadata:source"
	syftDebSourceVer = "syft:metadata:sourceVersion"
	syftSourceRPM    = "syft:metadata:sourceRpm"
)

// Decode reads a CycloneDX (JSON, 1.2–1.7), SPDX (JSON, 2.1–2.3) or SPDX
// 3.0 (compact JSON-LD with a top-level @graph, decodeSPDX3) document
// made by drydock, Syft, Trivy or another tool, and returns the report it
// describes: image facts where present, the distro (from the
// operating-system component or the PURLs' distro qualifiers) and the
// packages (from drydock's properties, else from the PURLs and the producer's
// own properties). Components whose PURL type drydock cannot match are left
// out and counted in a note. The report's Image.Kind is "sbom" unless the
// document was written by drydock.
func Decode(ctx context.Context, r io.Reader) (*report.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading SBOM: %w", err)
	}
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("reading SBOM: larger than %d MiB", MaxDocumentSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("decoding SBOM: empty document")
	}
	if trimmed[0] == '<' {
		return nil, errors.New("decoding SBOM: XML documents are not supported; use CycloneDX or SPDX JSON")
	}
	var head struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		SPDXVersion string `json:"spdxVersion"`
		// SPDX 3: a JSON-LD context, a string or a list.
		Context json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return nil, fmt.Errorf("decoding SBOM: not a JSON document: %w", err)
	}
	switch {
	case head.BOMFormat == cdx.BOMFormat:
		return decodeCycloneDX(ctx, trimmed, head.SpecVersion)
	case strings.HasPrefix(head.SPDXVersion, "SPDX-"):
		return decodeSPDX(ctx, trimmed)
	case bytes.Contains(head.Context, []byte("spdx.org/rdf/3.")):
		return decodeSPDX3(ctx, trimmed)
	}
	return nil, errors.New(`decoding SBOM: neither CycloneDX JSON (no "bomFormat": "CycloneDX") nor SPDX JSON (no "spdxVersion", no SPDX 3 "@context")`)
}

// decoder accumulates a report while components are read.
type decoder struct {
	r       *report.Report
	own     bool // written by drydock: trust drydock properties fully
	skipped map[string]int
	layerBy map[string]inventory.Layer
	// osDistro is set once an operating-system component gave the distro;
	// it wins over one guessed from PURL qualifiers.
	osDistro bool
}

func newDecoder() *decoder {
	return &decoder{
		r: &report.Report{
			SchemaVersion: report.SchemaVersion,
			Image:         report.Image{Kind: "sbom"},
			Scanners:      []string{"sbom"},
		},
		skipped: map[string]int{},
	}
}

// rawPackage is one component or SPDX package, format-neutral.
type rawPackage struct {
	ref, name, version, purl, vendor, sourceInfo string
	// parentPath is the file of the application that contains the package
	// (Trivy lists language packages under an application component).
	parentPath string
	licenses   []string
	facts      facts
}

func decodeCycloneDX(ctx context.Context, data []byte, spec string) (*report.Report, error) {
	switch spec {
	case "1.2", "1.3", "1.4", "1.5", "1.6", "1.7":
	default:
		return nil, fmt.Errorf("decoding CycloneDX: unsupported specVersion %q (want 1.2–1.7)", spec)
	}
	bom := new(cdx.BOM)
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(bom); err != nil {
		return nil, fmt.Errorf("decoding CycloneDX: %w", err)
	}
	d := newDecoder()
	var imageFacts facts
	var image *cdx.Component
	if md := bom.Metadata; md != nil {
		if t, err := time.Parse(time.RFC3339, md.Timestamp); err == nil {
			d.r.CreatedAt = t.UTC()
		}
		if md.Tools != nil {
			switch {
			case md.Tools.Components != nil && len(*md.Tools.Components) > 0:
				c := (*md.Tools.Components)[0]
				d.r.Tool = report.Tool{Name: c.Name, Version: c.Version}
			case md.Tools.Tools != nil && len(*md.Tools.Tools) > 0:
				t := (*md.Tools.Tools)[0]
				d.r.Tool = report.Tool{Name: t.Name, Version: t.Version}
			}
		}
		if md.Component != nil {
			image = md.Component
			imageFacts = cdxFacts(image.Properties)
		}
	}
	d.own = imageFacts.has(PropPrefix)
	if image != nil {
		if err := d.image(image.Name, image.Version, image.PackageURL, imageFacts); err != nil {
			return nil, fmt.Errorf("decoding CycloneDX: %w", err)
		}
	}

	var comps []cdx.Component
	var walk func(cs *[]cdx.Component)
	walk = func(cs *[]cdx.Component) {
		if cs == nil {
			return
		}
		for _, c := range *cs {
			comps = append(comps, c)
			walk(c.Components)
		}
	}
	walk(bom.Components)
	if image != nil {
		walk(image.Components)
	}
	appPath := map[string]string{}
	for _, c := range comps {
		if cdxFacts(c.Properties).get(trivyClass) == "lang-pkgs" && c.BOMRef != "" {
			appPath[c.BOMRef] = c.Name
		}
	}
	parentPath := map[string]string{}
	if bom.Dependencies != nil {
		for _, dep := range *bom.Dependencies {
			if path, ok := appPath[dep.Ref]; ok && dep.Dependencies != nil {
				for _, child := range *dep.Dependencies {
					parentPath[child] = path
				}
			}
		}
	}
	for i, c := range comps {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		fs := cdxFacts(c.Properties)
		if fs.get(trivyClass) != "" && c.Type != cdx.ComponentTypeOS {
			continue // Trivy's grouping of packages by application or OS
		}
		if c.Type == cdx.ComponentTypeOS {
			d.distro(c.Name, c.Version, c.Description, fs)
			continue
		}
		if c.Type == cdx.ComponentTypeContainer {
			continue
		}
		raw := rawPackage{ref: c.BOMRef, name: c.Name, version: c.Version, purl: c.PackageURL, facts: fs, parentPath: parentPath[c.BOMRef]}
		if d.own {
			raw.name = c.Name
		} else if c.Group != "" && c.PackageURL == "" {
			raw.name = c.Group + "/" + c.Name
		}
		raw.vendor = c.Publisher
		if raw.vendor == "" && c.Supplier != nil {
			raw.vendor = c.Supplier.Name
		}
		if ls := fs.all(PropLicense); len(ls) > 0 {
			raw.licenses = ls // drydock's own: the strings as the metadata wrote them
		} else if c.Licenses != nil {
			for _, l := range *c.Licenses {
				switch {
				case l.Expression != "":
					raw.licenses = append(raw.licenses, l.Expression)
				case l.License != nil && l.License.ID != "":
					raw.licenses = append(raw.licenses, l.License.ID)
				case l.License != nil && l.License.Name != "":
					raw.licenses = append(raw.licenses, l.License.Name)
				}
			}
		}
		if !d.own && c.Evidence != nil && c.Evidence.Occurrences != nil {
			for _, o := range *c.Evidence.Occurrences {
				if o.Location != "" {
					raw.facts = append(raw.facts, prop{"cdx:occurrence", o.Location})
				}
			}
		}
		d.add(raw)
	}
	return d.finish(), nil
}

func cdxFacts(ps *[]cdx.Property) facts {
	if ps == nil {
		return nil
	}
	out := make(facts, 0, len(*ps))
	for _, p := range *ps {
		out = append(out, prop{p.Name, p.Value})
	}
	return out
}

// trivyAnnotation matches Trivy's SPDX annotation comments ("LayerDiffID: sha256:…").
var trivyAnnotation = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*): (.*)$`)

func decodeSPDX(ctx context.Context, data []byte) (*report.Report, error) {
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decoding SPDX: %w", err)
	}
	d := newDecoder()
	if ci := doc.CreationInfo; ci != nil {
		if t, err := time.Parse(time.RFC3339, ci.Created); err == nil {
			d.r.CreatedAt = t.UTC()
		}
		for _, c := range ci.Creators {
			if c.CreatorType == "Tool" {
				d.r.Tool = splitToolName(c.Creator)
				break
			}
		}
	}
	annFacts := func(p *spdx.Package) facts {
		var fs facts
		for _, a := range p.Annotations {
			c := a.AnnotationComment
			if strings.HasPrefix(c, PropPrefix) {
				if n, v, ok := strings.Cut(c, "="); ok {
					fs = append(fs, prop{unescapeName(n), v})
				}
				continue
			}
			if m := trivyAnnotation.FindStringSubmatch(c); m != nil {
				fs = append(fs, prop{trivyPrefix + m[1], m[2]})
			}
		}
		for _, c := range p.PackageAttributionTexts {
			if m := trivyAnnotation.FindStringSubmatch(c); m != nil {
				fs = append(fs, prop{trivyPrefix + m[1], m[2]})
			}
		}
		return fs
	}
	described := map[string]bool{}
	for _, rel := range doc.Relationships {
		if rel == nil {
			continue
		}
		if rel.RefA.ElementRefID == "DOCUMENT" && strings.EqualFold(rel.Relationship, "DESCRIBES") {
			described[string(rel.RefB.ElementRefID)] = true
		}
	}
	var root *spdx.Package
	for _, p := range doc.Packages {
		if p != nil && described[string(p.PackageSPDXIdentifier)] &&
			(p.PrimaryPackagePurpose == "CONTAINER" || strings.HasPrefix(purlOf(p), "pkg:oci/") || len(described) == 1) {
			root = p
			break
		}
	}
	if root != nil {
		fs := annFacts(root)
		d.own = fs.has(PropPrefix)
		if err := d.image(root.PackageName, root.PackageVersion, purlOf(root), fs); err != nil {
			return nil, fmt.Errorf("decoding SPDX: %w", err)
		}
	}
	others := map[string]string{}
	for _, o := range doc.OtherLicenses {
		if o == nil {
			continue
		}
		text := o.ExtractedText
		if o.LicenseName != "" && o.LicenseName != noAssertion {
			text = o.LicenseName
		}
		others[o.LicenseIdentifier] = text
	}
	appPath := map[string]string{}
	for _, p := range doc.Packages {
		if p != nil && annFacts(p).get(trivyClass) == "lang-pkgs" {
			appPath[string(p.PackageSPDXIdentifier)] = p.PackageName
		}
	}
	parentPath := map[string]string{}
	for _, rel := range doc.Relationships {
		if rel == nil || !strings.EqualFold(rel.Relationship, "CONTAINS") {
			continue
		}
		if path, ok := appPath[string(rel.RefA.ElementRefID)]; ok {
			parentPath[string(rel.RefB.ElementRefID)] = path
		}
	}
	for i, p := range doc.Packages {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if p == nil || p == root {
			continue
		}
		fs := annFacts(p)
		if fs.get(trivyClass) != "" && !isOSPurpose(p.PrimaryPackagePurpose) {
			continue // Trivy's grouping of packages by application
		}
		if isOSPurpose(p.PrimaryPackagePurpose) || fs.has("drydock:distro:") {
			d.distro(p.PackageName, p.PackageVersion, p.PackageDescription, fs)
			continue
		}
		if p.PrimaryPackagePurpose == "CONTAINER" {
			continue
		}
		raw := rawPackage{
			ref: string(p.PackageSPDXIdentifier), name: p.PackageName, version: p.PackageVersion,
			purl: purlOf(p), sourceInfo: p.PackageSourceInfo, facts: fs,
			parentPath: parentPath[string(p.PackageSPDXIdentifier)],
		}
		if s := p.PackageSupplier; s != nil && s.Supplier != noAssertion && s.SupplierType == "Organization" {
			raw.vendor = s.Supplier
		}
		if ls := fs.all(PropLicense); len(ls) > 0 {
			raw.licenses = ls
		} else {
			for _, expr := range []string{p.PackageLicenseDeclared, p.PackageLicenseConcluded} {
				if expr == "" || expr == noAssertion || expr == "NONE" {
					continue
				}
				if text, ok := others[expr]; ok {
					expr = text
				}
				raw.licenses = []string{expr}
				break
			}
		}
		d.add(raw)
	}
	return d.finish(), nil
}

func purlOf(p *spdx.Package) string {
	for _, r := range p.PackageExternalReferences {
		if r != nil && r.RefType == "purl" {
			return r.Locator
		}
	}
	return ""
}

// splitToolName splits an SPDX tool creator "name-1.2.3" at the first dash
// followed by a digit.
func splitToolName(s string) report.Tool {
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '-' && s[i+1] >= '0' && s[i+1] <= '9' {
			return report.Tool{Name: s[:i], Version: s[i+1:]}
		}
	}
	return report.Tool{Name: s}
}

// image fills the report's image from the document's root component.
func (d *decoder) image(name, version, purl string, fs facts) error {
	img := &d.r.Image
	if d.own {
		img.Reference = fs.get(PropImageReference)
		img.Kind = fs.get(PropImageKind)
		img.Name = fs.get(PropImageName)
		img.Digest = fs.get(PropImageDigest)
		img.ConfigDigest = fs.get(PropImageConfigDigest)
		img.RepoTags = fs.all(PropImageRepoTag)
		img.RepoDigests = fs.all(PropImageRepoDigest)
		img.OS = fs.get(PropImageOS)
		img.Arch = fs.get(PropImageArch)
		img.Variant = fs.get(PropImageVariant)
		if c := fs.get(PropImageCreated); c != "" {
			t, err := time.Parse(time.RFC3339Nano, c)
			if err != nil {
				return fmt.Errorf("property %s: %w", PropImageCreated, err)
			}
			img.Created = t
		}
		for _, v := range fs.all(PropImageLayer) {
			var l inventory.Layer
			if err := json.Unmarshal([]byte(v), &l); err != nil {
				return fmt.Errorf("property %s: %w", PropImageLayer, err)
			}
			img.Layers = append(img.Layers, l)
		}
		for _, v := range fs.all(PropImageHistory) {
			var h report.History
			if err := json.Unmarshal([]byte(v), &h); err != nil {
				return fmt.Errorf("property %s: %w", PropImageHistory, err)
			}
			img.History = append(img.History, h)
		}
		if v := fs.get(PropImageConfig); v != "" {
			if err := json.Unmarshal([]byte(v), &img.Config); err != nil {
				return fmt.Errorf("property %s: %w", PropImageConfig, err)
			}
		}
	} else {
		img.Reference = name
		if strings.HasPrefix(version, "sha256:") {
			img.Digest = version
		}
		if p, err := packageurl.FromString(purl); err == nil && p.Type == "oci" {
			q := p.Qualifiers.Map()
			img.Name = q["repository_url"]
			img.Arch = q["arch"]
			if img.Digest == "" && strings.HasPrefix(p.Version, "sha256:") {
				img.Digest = p.Version
			}
		}
		img.ConfigDigest = fs.get(trivyImageID)
		img.RepoTags = fs.all(trivyRepoTag)
		img.RepoDigests = fs.all(trivyRepoDigest)
		for i, diff := range fs.all(trivyDiffID) {
			img.Layers = append(img.Layers, inventory.Layer{Index: i, DiffID: diff})
		}
	}
	d.layerBy = map[string]inventory.Layer{}
	for _, l := range img.Layers {
		if l.DiffID != "" {
			d.layerBy[l.DiffID] = l
		}
		d.layerBy["#"+strconv.Itoa(l.Index)] = l
	}
	return nil
}

// distro fills the report's distro from an operating-system component.
func (d *decoder) distro(name, version, description string, fs facts) {
	if d.osDistro {
		return
	}
	di := &inventory.Distro{
		ID:         fs.get(PropDistroID),
		VersionID:  fs.get(PropDistroVersionID),
		Release:    fs.get(PropDistroRelease),
		Codename:   fs.get(PropDistroCodename),
		PrettyName: fs.get(PropDistroPrettyName),
		IDLike:     fs.all(PropDistroIDLike),
		Source:     fs.get(PropDistroSource),
	}
	if !fs.has("drydock:distro:") {
		di.ID = normalizeDistroID(name)
		di.VersionID = version
		di.PrettyName = description
		di.Release = distro.Release(di)
	}
	if di.ID == "" {
		return
	}
	d.r.Distro = di
	d.osDistro = true
}

// add converts one component or SPDX package into an inventory package.
func (d *decoder) add(raw rawPackage) {
	fs := raw.facts
	own := fs.get(PropEcosystem) != ""
	pf, hasPURL := parsePURL(raw.purl)
	eco := fs.get(PropEcosystem)
	if eco == "" {
		eco = pf.ecosystem
	}
	if eco == "" {
		typ := "none"
		if p, err := packageurl.FromString(raw.purl); err == nil && p.Type != "" {
			typ = p.Type
		}
		d.skipped[typ]++
		return
	}
	p := inventory.Package{
		Name: raw.name, Version: raw.version, Ecosystem: eco, PURL: raw.purl,
		Licenses: raw.licenses, Vendor: raw.vendor,
	}
	if own {
		p.FoundBy = fs.get(PropFoundBy)
		p.SourceName = fs.get(PropSourceName)
		p.SourceVersion = fs.get(PropSourceVersion)
		p.Arch = fs.get(PropArch)
		p.Epoch, _ = strconv.Atoi(fs.get(PropEpoch))
		p.Declared = fs.get(PropDeclared) == "true"
		p.Owner = fs.get(PropOwner)
		for _, f := range fs {
			switch {
			case f.name == PropLocationPath:
				p.Locations = append(p.Locations, inventory.Location{Path: f.value})
			case f.name == PropLocationLayer && len(p.Locations) > 0:
				p.Locations[len(p.Locations)-1].LayerDiffID = f.value
			case strings.HasPrefix(f.name, PropMetadataPrefix):
				if p.Metadata == nil {
					p.Metadata = map[string]string{}
				}
				p.Metadata[strings.TrimPrefix(f.name, PropMetadataPrefix)] = f.value
			}
		}
		if idx := fs.get(PropLayerIndex); idx != "" || fs.get(PropLayerDiffID) != "" {
			n, err := strconv.Atoi(idx)
			if err != nil {
				n = -1
			}
			p.Layer = d.layer(n, fs.get(PropLayerDiffID))
		}
		p.ID = fs.get(PropPackageID)
		if p.ID == "" {
			p.ID = raw.ref
		}
	} else {
		d.foreign(&p, raw, pf, hasPURL)
	}
	if p.ID == "" {
		p.ID = inventory.StableID(&p)
	}
	if hasPURL && d.r.Distro == nil && pf.distroID != "" && inventory.IsOS(eco) {
		id := normalizeDistroID(pf.distroID)
		d.r.Distro = &inventory.Distro{ID: id, VersionID: pf.distroVersion}
		d.r.Distro.Release = distro.Release(d.r.Distro)
	}
	d.r.Packages = append(d.r.Packages, p)
}

// foreign fills a package of another producer from its PURL and properties.
func (d *decoder) foreign(p *inventory.Package, raw rawPackage, pf purlFacts, hasPURL bool) {
	fs := raw.facts
	if hasPURL {
		if pf.name != "" {
			p.Name = pf.name
		}
		if pf.version != "" {
			p.Version = pf.version
		}
		p.Arch = pf.arch
		p.Epoch = pf.epoch
		p.SourceName, p.SourceVersion = pf.sourceName, pf.sourceVersion
	}
	p.FoundBy = fs.get(syftFoundBy)
	if p.SourceName == "" {
		switch {
		case fs.get(trivySrcName) != "":
			p.SourceName = fs.get(trivySrcName)
			p.SourceVersion = fs.get(trivySrcVersion)
			if rel := fs.get(trivySrcRelease); rel != "" && p.SourceVersion != "" {
				p.SourceVersion += "-" + rel
			}
		case fs.get(syftOrigin) != "":
			p.SourceName = fs.get(syftOrigin)
		case fs.get(syftDebSource) != "":
			p.SourceName, p.SourceVersion = fs.get(syftDebSource), fs.get(syftDebSourceVer)
		case fs.get(syftSourceRPM) != "":
			p.SourceName, p.SourceVersion = splitUpstream(fs.get(syftSourceRPM), inventory.EcoRPM)
		}
	}
	if p.SourceName == p.Name {
		p.SourceName = ""
	}
	if p.SourceVersion == p.Version {
		p.SourceVersion = ""
	}

	// Locations: Syft's indexed properties, Trivy's file path, CycloneDX
	// evidence, or the paths in an SPDX sourceInfo.
	syft := map[int]*inventory.Location{}
	for _, f := range fs {
		rest, ok := strings.CutPrefix(f.name, syftLocation)
		if !ok {
			continue
		}
		n, field, ok := strings.Cut(rest, ":")
		i, err := strconv.Atoi(n)
		if !ok || err != nil {
			continue
		}
		if syft[i] == nil {
			syft[i] = &inventory.Location{}
		}
		switch field {
		case "path":
			syft[i].Path = f.value
		case "layerID":
			syft[i].LayerDiffID = f.value
		}
	}
	idx := make([]int, 0, len(syft))
	for i := range syft {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		if syft[i].Path != "" {
			p.Locations = append(p.Locations, *syft[i])
		}
	}
	layerDiff := fs.get(trivyLayerDiffID)
	if len(p.Locations) == 0 {
		var paths []string
		if fp := fs.get(trivyFilePath); fp != "" {
			paths = []string{fp}
		} else if occ := fs.all("cdx:occurrence"); len(occ) > 0 {
			paths = occ
		} else if raw.parentPath != "" {
			paths = []string{raw.parentPath}
		} else if _, list, ok := strings.Cut(raw.sourceInfo, ": "); ok && strings.HasPrefix(raw.sourceInfo, "acquired package info from") {
			for _, s := range strings.Split(list, ",") {
				if s = strings.TrimSpace(s); strings.HasPrefix(s, "/") {
					paths = append(paths, s)
				}
			}
		}
		for _, path := range paths {
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
			p.Locations = append(p.Locations, inventory.Location{Path: path, LayerDiffID: layerDiff})
		}
	}
	if layerDiff == "" && len(p.Locations) > 0 {
		layerDiff = p.Locations[0].LayerDiffID
	}
	if layerDiff != "" {
		p.Layer = d.layer(-1, layerDiff)
	}
}

// layer resolves a layer by diff ID or index against the image's layers; an
// unknown layer keeps what is known of it (Index -1 when the index is not).
func (d *decoder) layer(index int, diffID string) *inventory.Layer {
	if l, ok := d.layerBy[diffID]; ok && diffID != "" {
		return &l
	}
	if l, ok := d.layerBy["#"+strconv.Itoa(index)]; ok && index >= 0 && (diffID == "" || l.DiffID == "") {
		return &l
	}
	return &inventory.Layer{Index: index, DiffID: diffID}
}

func (d *decoder) finish() *report.Report {
	r := d.r
	slices.SortStableFunc(r.Packages, inventory.ComparePackages)
	if len(d.skipped) > 0 {
		types := make([]string, 0, len(d.skipped))
		n := 0
		for t, c := range d.skipped {
			types = append(types, fmt.Sprintf("%s (%d)", t, c))
			n += c
		}
		sort.Strings(types)
		r.Notes = append(r.Notes, inventory.Note{
			Level:   "info",
			Message: fmt.Sprintf("%d SBOM components skipped: no supported package URL type: %s", n, strings.Join(types, ", ")),
		})
	}
	r.Summarise()
	return r
}

// normalizeDistroID maps other tools' OS family names (Trivy: "alma",
// "redhat", "amazon", "oracle") to os-release IDs.
func normalizeDistroID(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	switch name {
	case "alma":
		return "almalinux"
	case "redhat":
		return "rhel"
	case "amazon":
		return "amzn"
	case "oracle":
		return "ol"
	case "opensuse.leap":
		return "opensuse-leap"
	case "opensuse.tumbleweed":
		return "opensuse-tumbleweed"
	case "suse linux enterprise server":
		return "sles"
	}
	return name
}

// escapeName makes a fact name safe before the "=" of an SPDX annotation
// comment; unescapeName reverses it.
func escapeName(n string) string {
	return strings.NewReplacer("%", "%25", "=", "%3D").Replace(n)
}

func unescapeName(n string) string {
	return strings.NewReplacer("%3D", "=", "%25", "%").Replace(n)
}

// isOSPurpose accepts both spellings of the operating-system purpose (JSON
// schema: OPERATING_SYSTEM; tag-value and some producers: OPERATING-SYSTEM).
func isOSPurpose(p string) bool {
	return p == "OPERATING_SYSTEM" || p == "OPERATING-SYSTEM"
}
